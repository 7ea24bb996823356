package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spiffy/spiffy/store"
)

// exportWait is how long erasure waits for exports being written (which may
// have read the person's rows before the store was scrubbed) to finish, so
// that it can scrub their files too.
const exportWait = 2 * time.Minute

// EraseEmail rewrites every export file holding the rows of the person
// with the normalised email norm, without them. Exports still being
// written are waited for first: they may have read the rows before the
// store was scrubbed.
func (r *Runner) EraseEmail(ctx context.Context, norm string) (files, rows int, err error) {
	dir := r.dir
	deadline := time.Now().Add(exportWait)
	for {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			return 0, 0, nil
		}
		if err != nil {
			return files, rows, fmt.Errorf("export: erase: exports: %w", err)
		}
		writing := false
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".part") {
				writing = true
			}
		}
		if !writing || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return files, rows, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, fmt.Errorf("export: erase: exports: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".csv") {
			continue
		}
		n, err := eraseFromCSV(filepath.Join(dir, e.Name()), norm)
		if errors.Is(err, os.ErrNotExist) {
			continue // expired and cleaned up meanwhile
		}
		if err != nil {
			return files, rows, err
		}
		if n > 0 {
			files++
			rows += n
		}
	}
	return files, rows, nil
}

// eraseFromCSV drops the rows whose email column is the person's, writing
// the result to a temporary file that replaces the original atomically (a
// download in progress keeps reading the old, unlinked file). A file
// without matches is left untouched.
func eraseFromCSV(path, norm string) (int, error) {
	in, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	br := bufio.NewReaderSize(in, 64<<10)
	head, _ := br.Peek(4096)
	crlf := bytes.Contains(head, []byte("\r\n")) || !bytes.Contains(head, []byte("\n"))
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("export: erase: read %s: %w", filepath.Base(path), err)
	}
	col := -1
	for i, h := range header {
		if h == "email" {
			col = i
		}
	}
	if col < 0 {
		return 0, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".erase-*")
	if err != nil {
		return 0, fmt.Errorf("export: erase: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this finds nothing
	bw := bufio.NewWriterSize(tmp, 64<<10)
	w := csv.NewWriter(bw)
	w.UseCRLF = crlf
	removed := 0
	err = func() error {
		if err := w.Write(header); err != nil {
			return err
		}
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if col < len(rec) && csvEmail(rec[col]) == norm {
				removed++
				continue
			}
			if err := w.Write(rec); err != nil {
				return err
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		return bw.Flush()
	}()
	if err != nil {
		tmp.Close()
		return 0, fmt.Errorf("export: erase: rewrite %s: %w", filepath.Base(path), err)
	}
	if removed == 0 {
		tmp.Close()
		return 0, nil
	}
	if err := tmp.Chmod(0o640); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("export: erase: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("export: erase: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("export: erase: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("export: erase: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // make the rename durable
		d.Close()
	}
	return removed, nil
}

// csvEmail undoes the formula guard (a leading ' before = + - @) and
// normalises, so "'-x@example.com" matches "-x@example.com".
func csvEmail(cell string) string {
	if len(cell) > 1 && cell[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(cell[1])) {
		cell = cell[1:]
	}
	return store.NormEmail(cell)
}
