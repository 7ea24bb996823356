package store

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// derivedKey is a key computed from a record: an index entry (empty value) or
// a unique key (value = the owner's id, and a second owner is refused).
type derivedKey struct {
	k      []byte
	v      []byte
	unique string // for unique keys: the field name reported in ErrDuplicate
}

func indexEntry(k []byte) derivedKey { return derivedKey{k: k} }

func uniqueEntry(field string, k []byte, owner string) derivedKey {
	return derivedKey{k: k, v: []byte(owner), unique: field}
}

// DuplicateError says which unique field collided. It matches ErrDuplicate.
type DuplicateError struct{ Field string }

func (e *DuplicateError) Error() string        { return "store: duplicate " + e.Field }
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// putDerived replaces the derived keys of a record's old version by those of
// its new version (old nil for a new record), refusing unique keys that
// another owner holds. It must run before any other write of the operation
// so a refusal leaves nothing behind (the Tx buffer is dropped on error
// anyway).
func (tx *Tx) putDerived(old, new []derivedKey) error {
	for _, d := range new {
		if d.unique == "" {
			continue
		}
		cur, err := tx.get(d.k)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if !bytes.Equal(cur, d.v) {
			return &DuplicateError{Field: d.unique}
		}
	}
	// A record has a few dozen derived keys at most: comparing the lists
	// pairwise costs less than a set of string copies of them, and a new
	// record (old nil) compares nothing.
	for _, d := range old {
		if !containsKey(new, d.k) {
			tx.del(d.k)
		}
	}
	for _, d := range new {
		tx.set(d.k, d.v)
	}
	return nil
}

func containsKey(ds []derivedKey, k []byte) bool {
	for _, d := range ds {
		if bytes.Equal(d.k, k) {
			return true
		}
	}
	return false
}

// Reindex rebuilds every secondary index and unique key from the records,
// after deleting the old ones. progress, when not nil, is called with the
// number of records processed so far. It runs through the writer in batches,
// so the server can keep serving while it runs.
func (db *DB) Reindex(progress func(kind string, done int)) error {
	// Drop every derived prefix first.
	for _, p := range allPrefixes {
		if p[0] != 'u' && p[0] != 'i' && p[0] != 't' && p != pRollup {
			continue
		}
		if err := db.dropPrefix(p); err != nil {
			return fmt.Errorf("store: reindex: drop %s: %w", p, err)
		}
	}
	for _, r := range reindexers {
		if err := db.reindexKind(r, progress); err != nil {
			return err
		}
	}
	return nil
}

// reindexer knows how to decode one record kind and compute its derived keys.
type reindexer struct {
	kind   string
	prefix string
	// derive returns the record's derived keys and rollup deltas to apply.
	derive func(tx *Tx, val []byte) ([]derivedKey, error)
}

// reindexers is filled by the files that define record kinds.
var reindexers []reindexer

func (db *DB) reindexKind(r reindexer, progress func(string, int)) error {
	const chunk = 500 // records per write: stays well below Badger's transaction size limit
	var after []byte
	done := 0
	for {
		type rec struct{ k, v []byte }
		var recs []rec
		err := db.View(func(tx *Tx) error {
			start := key(r.prefix)
			if after != nil {
				start = append(bytes.Clone(after), 0)
			}
			return tx.scan([]byte(r.prefix), start, false, true, func(k []byte, item *badger.Item) (bool, error) {
				v, err := item.ValueCopy(nil)
				if err != nil {
					return false, err
				}
				recs = append(recs, rec{bytes.Clone(k), v})
				return len(recs) < chunk, nil
			})
		})
		if err != nil {
			return fmt.Errorf("store: reindex %s: %w", r.kind, err)
		}
		if len(recs) == 0 {
			return nil
		}
		err = db.Update(func(tx *Tx) error {
			for _, rc := range recs {
				keys, err := r.derive(tx, rc.v)
				if err != nil {
					return fmt.Errorf("store: reindex %s %q: %w", r.kind, rc.k, err)
				}
				for _, d := range keys {
					tx.set(d.k, d.v)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		done += len(recs)
		after = recs[len(recs)-1].k
		if progress != nil {
			progress(r.kind, done)
		}
	}
}
