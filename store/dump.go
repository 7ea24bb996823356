package store

import "github.com/dgraph-io/badger/v4"

// isDerivedPrefix reports whether keys under p are computed from records
// (unique keys, indexes, rollups, tallies) and so rebuilt by Reindex.
func isDerivedPrefix(p string) bool {
	return p[0] == 'u' || p[0] == 'i' || p[0] == 't' || p == pRollup
}

// DumpDerived calls fn with every derived key and its value, prefix by
// prefix in key order. Tests use it to check that Reindex rebuilds exactly
// what the live write path wrote. The slices are only valid during fn.
func (db *DB) DumpDerived(fn func(k, v []byte) error) error {
	return db.View(func(tx *Tx) error {
		for _, p := range allPrefixes {
			if !isDerivedPrefix(p) {
				continue
			}
			err := tx.scan([]byte(p), nil, false, true, func(k []byte, item *badger.Item) (bool, error) {
				return true, item.Value(func(v []byte) error { return fn(k, v) })
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}
