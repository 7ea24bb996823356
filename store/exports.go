package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Export records: CSV files written in the background (app/exports.go).
// Each is listed by owner ("admin" or an affiliate id), newest first, and
// by expiry, so the cleanup job finds the expired ones without a scan.

func init() {
	reindexers = append(reindexers,
		jsonReindexer("export", pExport, func(x *Export) []derivedKey { return x.derived() }))
}

func (x *Export) derived() []derivedKey {
	return []derivedKey{
		indexEntry(exportByOwnerKey(x.Owner, x.CreatedAt, x.ID)),
		indexEntry(exportByExpiryKey(x.ExpiresAt, x.ID)),
	}
}

// PutExport stores an export record, new or updated, with its index entries.
func (tx *Tx) PutExport(x *Export) error {
	var old []derivedKey
	prev, err := getRecord[Export](tx, "export", x.ID, exportKey(x.ID))
	switch {
	case err == nil:
		old = prev.derived()
	case !isNotFound(err):
		return err
	}
	if err := tx.putDerived(old, x.derived()); err != nil {
		return err
	}
	return tx.setJSON(exportKey(x.ID), x)
}

// Export returns an export record by id.
func (tx *Tx) Export(id string) (*Export, error) {
	return getRecord[Export](tx, "export", id, exportKey(id))
}

// DeleteExport removes an export record and its index entries.
func (tx *Tx) DeleteExport(id string) error {
	x, err := tx.Export(id)
	if err != nil {
		return err
	}
	for _, d := range x.derived() {
		tx.del(d.k)
	}
	tx.del(exportKey(id))
	return nil
}

// ExportsByOwner returns the owner's exports, newest first, at most limit.
func (tx *Tx) ExportsByOwner(owner string, limit int) ([]*Export, error) {
	prefix := key(iExportByOwner).str(owner)
	var out []*Export
	err := tx.scan(prefix, nil, true, false, func(k []byte, _ *badger.Item) (bool, error) {
		x, err := tx.Export(string(k[len(k)-IDLen:]))
		if err != nil {
			return false, err
		}
		out = append(out, x)
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}

// ExpiredExports returns up to limit exports whose expiry is at or before now,
// oldest expiry first.
func (tx *Tx) ExpiredExports(now time.Time, limit int) ([]*Export, error) {
	prefix := []byte(iExportByExpiry)
	end := append(key(iExportByExpiry).time(now), 0xff)
	var out []*Export
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		if bytes.Compare(k, end) > 0 {
			return false, nil
		}
		x, err := tx.Export(string(k[len(k)-IDLen:]))
		if err != nil {
			return false, fmt.Errorf("store: expired exports: %w", err)
		}
		out = append(out, x)
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
