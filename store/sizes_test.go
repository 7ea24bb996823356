package store

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"
)

// writeLeads stores n leads whose records (2 KB of user agent each) are past
// the 1 KB value threshold, so they land in the value log.
func writeLeads(t *testing.T, db *DB, n int) {
	t.Helper()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ua := strings.Repeat("Mozilla/5.0 (X11; Linux x86_64) ", 64)
	err := db.Update(func(tx *Tx) error {
		for i := range n {
			l := &Lead{ID: NewID(at.Add(time.Duration(i) * time.Millisecond)), ProgramID: "prg_1", Email: fmt.Sprintf("buyer%d@example.com", i), UserAgent: ua, CreatedAt: at}
			if err := tx.InsertLead(l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The sizes are measured from the files: values past the threshold show in
// the value log at once, the tables once the memtable is flushed (here:
// by closing), and a new store's sparse 256 MB value-log file counts for
// the little it takes.
func TestStatsMeasureTheFilesOnDisk(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	db, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	lsm, vlog := db.sizes.get(time.Now())
	if runtime.GOOS == "linux" && vlog > 1<<20 {
		t.Errorf("an empty store's value log counts %d bytes: its sparse file's length, not its disk space", vlog)
	}
	writeLeads(t, db, 500)
	_, vlog2 := db.sizes.get(time.Now().Add(sizesTTL))
	if vlog2 < 500*2048 {
		t.Errorf("value log %d bytes after 1 MB of values (before: %d)", vlog2, vlog)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := db.Stats()
	if st.LSMBytes <= lsm || st.VlogBytes < 500*2048 {
		t.Fatalf("after a flush: lsm %d, vlog %d bytes", st.LSMBytes, st.VlogBytes)
	}
}

// A measurement is reused for sizesTTL, so scrapes stay cheap; a store
// without a directory has nothing on disk.
func TestSizesAreCachedForAFewSeconds(t *testing.T) {
	db := openTest(t)
	now := time.Now()
	_, before := db.sizes.get(now)
	writeLeads(t, db, 200)
	if _, v := db.sizes.get(now.Add(sizesTTL - time.Millisecond)); v != before {
		t.Errorf("measured again within the TTL: %d, was %d", v, before)
	}
	if _, v := db.sizes.get(now.Add(sizesTTL)); v <= before {
		t.Errorf("not measured again after the TTL: %d, was %d", v, before)
	}
	var none diskSizes
	if l, v := none.get(now); l != 0 || v != 0 {
		t.Errorf("no directory: %d, %d", l, v)
	}
}
