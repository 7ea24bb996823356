package store

import (
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// CommissionsOfPurchases returns the commissions of each purchase (by
// purchase id, oldest first), for a page of purchases: one key-only
// iterator walks the purchase index in key order, seeking from one
// purchase to the next, then the commissions are read by id — a page
// costs one pass, not a scan per row.
func (tx *Tx) CommissionsOfPurchases(purchaseIDs []string) (map[string][]*Commission, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(purchaseIDs)))
	out := make(map[string][]*Commission, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	type ref struct{ purchase, commission string }
	var refs []ref
	prefix := []byte(iCommissionByPurchase)
	it := tx.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for _, pid := range ids {
		if !ValidID(pid) {
			continue
		}
		p := key(iCommissionByPurchase).id(pid)
		for it.Seek(p); it.ValidForPrefix(p); it.Next() {
			k := it.Item().Key()
			if len(k) != len(p)+IDLen {
				return nil, errCorrupt
			}
			refs = append(refs, ref{pid, string(k[len(p):])})
		}
	}
	for _, r := range refs {
		c, err := tx.Commission(r.commission)
		if err != nil {
			return nil, err
		}
		out[r.purchase] = append(out[r.purchase], c)
	}
	return out, nil
}
