package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spiffy/spiffy/store"
)

// Erasure (the right to be forgotten): POST /api/v1/erase {"email"} removes
// a person's email and name (and the IP address and browser kept with
// them) from leads and purchases, from webhook payloads still queued or kept
// in the delivery log, and from CSV export files on disk. Counts, amounts,
// commissions and attribution stay, so the affiliate's earnings and the
// merchant's reports do not change. Erasing twice is harmless: the second
// time finds nothing.

// EraseResult says what an erasure touched. Erased is the number of stored
// records changed (leads + purchases + webhook messages).
type EraseResult struct {
	Erased          int `json:"erased"`
	Leads           int `json:"leads"`
	Purchases       int `json:"purchases"`
	WebhookMessages int `json:"webhook_messages"`
	ExportFiles     int `json:"export_files"` // files rewritten
	ExportRows      int `json:"export_rows"`  // rows removed from them
}

// eraseChunk bounds the records changed per write, far below Badger's
// transaction limit; a person rarely has more than a handful anyway.
const eraseChunk = 200

// exportWait is how long erasure waits for exports being written (which may
// have read the person's rows before the store was scrubbed) to finish, so
// that it can scrub their files too.
const exportWait = 2 * time.Minute

// Erase removes a person's PII everywhere Spiffy keeps it.
func (a *App) Erase(ctx context.Context, email string) (*EraseResult, error) {
	email = strings.TrimSpace(email)
	if err := validateEmail("email", email); err != nil {
		return nil, err
	}
	norm := store.NormEmail(email)
	res := &EraseResult{}
	// done guards the loop: each pass handles what the email indexes still
	// list, and a record handled once must not be found (or counted) again.
	done := map[string]bool{}
	for {
		var leads []*store.Lead
		var purchases []*store.Purchase
		var msgIDs []string
		err := a.db.View(func(tx *store.Tx) error {
			var err error
			if leads, _, err = tx.Leads(store.LeadQuery{Email: norm, Limit: eraseChunk}); err != nil {
				return err
			}
			if purchases, _, err = tx.Purchases(store.PurchaseQuery{Email: norm, Limit: eraseChunk}); err != nil {
				return err
			}
			if msgIDs, err = tx.WebhookMessageIDsByEmail(norm); err != nil {
				return err
			}
			if len(msgIDs) > eraseChunk {
				msgIDs = msgIDs[:eraseChunk]
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		leads = slices.DeleteFunc(leads, func(l *store.Lead) bool { return done[l.ID] })
		purchases = slices.DeleteFunc(purchases, func(p *store.Purchase) bool { return done[p.ID] })
		msgIDs = slices.DeleteFunc(msgIDs, func(id string) bool { return done[id] })
		if len(leads)+len(purchases)+len(msgIDs) == 0 {
			break
		}
		var nl, np, nm int
		err = a.db.Update(func(tx *store.Tx) error {
			nl, np, nm = 0, 0, 0
			for _, l := range leads {
				cur, err := tx.Lead(l.ID)
				if err != nil {
					return err
				}
				if store.NormEmail(cur.Email) != norm {
					continue // changed since the read
				}
				cur.Email, cur.Name, cur.IP, cur.UserAgent = "", "", "", ""
				if err := tx.UpdateLead(cur); err != nil {
					return err
				}
				nl++
			}
			for _, p := range purchases {
				cur, err := tx.Purchase(p.ID)
				if err != nil {
					return err
				}
				if store.NormEmail(cur.Email) != norm {
					continue
				}
				cur.Email, cur.Name = "", ""
				if err := tx.UpdatePurchase(cur); err != nil {
					return err
				}
				np++
			}
			for _, id := range msgIDs {
				m, err := tx.WebhookMessage(id)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if m.Payload, err = scrubPayload(m.Payload); err != nil {
					return err
				}
				m.Email = ""
				if err := tx.PutWebhookMessage(m); err != nil {
					return err
				}
				nm++
			}
			if len(msgIDs) > 0 {
				// Queued copies in the dispatcher still hold the old payload.
				d, ids := a.dispatcher(), msgIDs
				tx.AfterCommit(func() { d.invalidate(ids) })
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, l := range leads {
			done[l.ID] = true
		}
		for _, p := range purchases {
			done[p.ID] = true
		}
		for _, id := range msgIDs {
			done[id] = true
		}
		if nl+np+nm == 0 {
			break // everything found was changed by someone else meanwhile
		}
		res.Leads += nl
		res.Purchases += np
		res.WebhookMessages += nm
	}
	res.Erased = res.Leads + res.Purchases + res.WebhookMessages
	files, rows, err := a.eraseFromExports(ctx, norm)
	res.ExportFiles, res.ExportRows = files, rows
	if err != nil {
		return res, err
	}
	a.log.Info("erased a person's data", "records", res.Erased, "export_rows", rows)
	return res, nil
}

// scrubPayload blanks email and name in a webhook body, keeping the field
// order of the original.
func scrubPayload(b []byte) ([]byte, error) {
	var env struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("app: erase: webhook payload: %w", err)
	}
	var data any
	switch env.Type {
	case EventLeadCreated:
		var d LeadEventData
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return nil, fmt.Errorf("app: erase: webhook payload: %w", err)
		}
		d.Email, d.Name = "", ""
		data = d
	case EventPurchaseCreated, EventPurchaseRefunded, EventTest:
		var d PurchaseEventData
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return nil, fmt.Errorf("app: erase: webhook payload: %w", err)
		}
		d.Email, d.Name = "", ""
		data = d
	default:
		var d map[string]any
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return nil, fmt.Errorf("app: erase: webhook payload: %w", err)
		}
		if _, ok := d["email"]; ok {
			d["email"] = ""
		}
		if _, ok := d["name"]; ok {
			d["name"] = ""
		}
		data = d
	}
	return json.Marshal(webhookBody{Type: env.Type, Timestamp: env.Timestamp, Data: data})
}

// eraseFromExports rewrites every export file holding the person's rows
// without them. Exports still being written are waited for first: they
// may have read the rows before the store was scrubbed.
func (a *App) eraseFromExports(ctx context.Context, norm string) (files, rows int, err error) {
	dir := a.cfg.ExportsDir()
	deadline := time.Now().Add(exportWait)
	for {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			return 0, 0, nil
		}
		if err != nil {
			return files, rows, fmt.Errorf("app: erase: exports: %w", err)
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
		return 0, 0, fmt.Errorf("app: erase: exports: %w", err)
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
		return 0, fmt.Errorf("app: erase: read %s: %w", filepath.Base(path), err)
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
		return 0, fmt.Errorf("app: erase: %w", err)
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
		return 0, fmt.Errorf("app: erase: rewrite %s: %w", filepath.Base(path), err)
	}
	if removed == 0 {
		tmp.Close()
		return 0, nil
	}
	if err := tmp.Chmod(0o640); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("app: erase: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("app: erase: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("app: erase: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("app: erase: %w", err)
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
