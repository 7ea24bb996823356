package store

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// Tallies are the r: rollups re-keyed by the scopes the merchant views ask
// about, kept on write by the same operation that writes the record (through
// addRollup), so that:
//
//   - a list's total count for a program, an affiliate or both over a date
//     range reads one key per day (per program, for an affiliate) instead
//     of counting a million index entries (t-all, t-prg, t-ap);
//   - the dashboard's per-day series reads one key per day;
//   - "top affiliates" over a range reads, per affiliate and program, one
//     key per BlockDays-day block for the whole blocks of the range and one
//     r: rollup per edge day (t-blk).
//
// The price is four small read-modify-writes per tracked event inside the
// writer's batch, two of them on keys every event of the day shares (so
// after the first they are read from the batch itself). Reindex rebuilds
// tallies with the rollups.

// BlockDays is the span of a t-blk tally: day numbers d with the same d/BlockDays.
const BlockDays = 8

// Tally is one scope's totals for one day (or block of days).
type Tally struct {
	Clicks    int64
	Leads     int64
	Purchases int64 // every purchase, refunded ones included
	Refunds   int64
	Paid      []RollupMoney // amount and commission of paid purchases, per currency
	Refunded  []RollupMoney // amount and commission of refunded purchases, per currency
}

// Add adds o to t, merging money per currency.
func (t *Tally) Add(o *Tally) {
	t.Clicks += o.Clicks
	t.Leads += o.Leads
	t.Purchases += o.Purchases
	t.Refunds += o.Refunds
	t.Paid = mergeMoney(t.Paid, o.Paid)
	t.Refunded = mergeMoney(t.Refunded, o.Refunded)
}

// IsZero reports whether the tally counts nothing.
func (t *Tally) IsZero() bool {
	return t.Clicks == 0 && t.Leads == 0 && t.Purchases == 0 && t.Refunds == 0 && len(t.Paid) == 0 && len(t.Refunded) == 0
}

// mergeMoney adds b into a per currency and returns the result sorted by
// currency without all-zero entries, so that the same set of events always
// encodes to the same bytes whatever order they were added in (reindex
// compares byte for byte with the live path).
func mergeMoney(a, b []RollupMoney) []RollupMoney {
	for _, m := range b {
		found := false
		for i := range a {
			if a[i].Currency == m.Currency {
				a[i].Amount += m.Amount
				a[i].Commission += m.Commission
				found = true
				break
			}
		}
		if !found {
			a = append(a, m)
		}
	}
	return normaliseMoney(a)
}

// normaliseMoney drops a's zero entries and sorts the rest by currency, in
// place; nil when none is left.
func normaliseMoney(a []RollupMoney) []RollupMoney {
	a = slices.DeleteFunc(a, func(m RollupMoney) bool { return m.Amount == 0 && m.Commission == 0 })
	slices.SortFunc(a, func(x, y RollupMoney) int { return cmpString(x.Currency, y.Currency) })
	if len(a) == 0 {
		return nil
	}
	return a
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (t *Tally) marshal() []byte {
	e := newEncoder(recordV1, 40+16*(len(t.Paid)+len(t.Refunded)))
	e.int(t.Clicks)
	e.int(t.Leads)
	e.int(t.Purchases)
	e.int(t.Refunds)
	for _, list := range [][]RollupMoney{t.Paid, t.Refunded} {
		e.int(int64(len(list)))
		for _, m := range list {
			e.str(m.Currency)
			e.int(m.Amount)
			e.int(m.Commission)
		}
	}
	return e.b
}

func (t *Tally) unmarshal(b []byte) error {
	d := newDecoder(b)
	t.Clicks = d.int()
	t.Leads = d.int()
	t.Purchases = d.int()
	t.Refunds = d.int()
	for _, list := range []*[]RollupMoney{&t.Paid, &t.Refunded} {
		n := d.int()
		if n < 0 || n > 1000 {
			return errCorrupt
		}
		*list = nil
		for i := int64(0); i < n && d.err == nil; i++ {
			*list = append(*list, RollupMoney{Currency: d.str(), Amount: d.int(), Commission: d.int()})
		}
	}
	return d.err
}

// tallyFromRollup turns a rollup delta into a tally delta.
func tallyFromRollup(r *Rollup) *Tally {
	return &Tally{
		Clicks: r.Clicks, Leads: r.Leads, Purchases: r.Purchases, Refunds: r.Refunds,
		Paid: slices.Clone(r.Money), Refunded: slices.Clone(r.refunded),
	}
}

// Tally key builders.
func tallyAllKey(day uint32) []byte                 { return key(tAll).day(day) }
func tallyProgramKey(prg string, day uint32) []byte { return key(tProgram).id(prg).day(day) }
func tallyAffProgramKey(aff, prg string, day uint32) []byte {
	return key(tAffProgram).id(aff).id(prg).day(day)
}
func tallyBlockKey(block uint32, prg, aff string) []byte {
	return key(tBlock).day(block).id(prg).id(aff)
}

// addTallies applies a rollup delta (see addRollup, which calls it) to every
// tally the event belongs to. affiliateID is NoAffiliate when unattributed.
func (tx *Tx) addTallies(day uint32, programID, affiliateID string, delta *Rollup) error {
	d := tallyFromRollup(delta)
	for _, k := range [][]byte{
		tallyAllKey(day),
		tallyProgramKey(programID, day),
		tallyAffProgramKey(affiliateID, programID, day),
		tallyBlockKey(day/BlockDays, programID, affiliateID),
	} {
		if err := tx.addTally(k, d); err != nil {
			return err
		}
	}
	if affiliateID == NoAffiliate {
		return nil
	}
	// The affiliate's results of all time in the program, for the
	// Affiliates pages (affiliate_search.go): one key per row there.
	return tx.addTally(affiliateResultsKey(affiliateID, programID), d)
}

func (tx *Tx) addTally(k []byte, d *Tally) error {
	var t Tally
	if err := tx.getCounterDecoded(k, t.unmarshal); err != nil {
		return err
	}
	t.Add(d)
	if t.IsZero() {
		// Nothing left (an event moved to another day): drop the key, as
		// a reindex would never write it.
		tx.del(k)
		return nil
	}
	tx.set(k, t.marshal())
	return nil
}

// TallyScope selects whose tallies to read: a program, an affiliate (or
// NoAffiliate for unattributed purchases), both, or neither (everything).
type TallyScope struct {
	ProgramID   string
	AffiliateID string
}

// TallyDays calls fn with the scope's tally of each day from..to (both
// included) that has one, in day order. For an affiliate without a program
// it sums the affiliate's per-program tallies day by day.
func (tx *Tx) TallyDays(s TallyScope, from, to uint32, fn func(day uint32, t *Tally)) error {
	if s.AffiliateID != "" && s.ProgramID == "" {
		return tx.affiliateDays(s.AffiliateID, from, to, fn)
	}
	var prefix []byte
	switch {
	case s.ProgramID != "" && s.AffiliateID != "":
		prefix = key(tAffProgram).id(s.AffiliateID).id(s.ProgramID)
	case s.ProgramID != "":
		prefix = key(tProgram).id(s.ProgramID)
	default:
		prefix = key(tAll)
	}
	start := append(bytes.Clone(prefix), be32(from)...)
	return tx.scanValues(prefix, start, func(k []byte, item *badger.Item) (bool, error) {
		rest := k[len(prefix):]
		if len(rest) != 4 {
			return false, errCorrupt
		}
		day := binary.BigEndian.Uint32(rest)
		if day > to {
			return false, nil
		}
		var t Tally
		if err := item.Value(t.unmarshal); err != nil {
			return false, err
		}
		fn(day, &t)
		return true, nil
	})
}

// affiliateDays sums an affiliate's t-ap tallies over its programs, seeking
// to each program's first day in range and past its last.
func (tx *Tx) affiliateDays(aff string, from, to uint32, fn func(day uint32, t *Tally)) error {
	base := key(tAffProgram).id(aff)
	sums := map[uint32]*Tally{}
	it := tx.txn.NewIterator(badger.IteratorOptions{Prefix: base})
	defer it.Close()
	it.Seek(base)
	for it.ValidForPrefix(base) {
		k := it.Item().Key()
		if len(k) != len(base)+IDLen+4 {
			return errCorrupt
		}
		prg := bytes.Clone(k[len(base) : len(base)+IDLen])
		day := binary.BigEndian.Uint32(k[len(base)+IDLen:])
		switch {
		case day < from:
			it.Seek(append(append(bytes.Clone(base), prg...), be32(from)...))
			continue
		case day > to:
			it.Seek(prefixEnd(append(bytes.Clone(base), prg...))) // next program
			continue
		}
		sum := sums[day]
		if sum == nil {
			sum = &Tally{}
			sums[day] = sum
		}
		var t Tally
		if err := it.Item().Value(t.unmarshal); err != nil {
			return err
		}
		sum.Add(&t)
		it.Next()
	}
	days := make([]uint32, 0, len(sums))
	for d := range sums {
		days = append(days, d)
	}
	slices.Sort(days)
	for _, d := range days {
		fn(d, sums[d])
	}
	return nil
}

// TallySum returns the scope's totals over the days from..to (both included).
func (tx *Tx) TallySum(s TallyScope, from, to uint32) (*Tally, error) {
	var sum Tally
	err := tx.TallyDays(s, from, to, func(_ uint32, t *Tally) { sum.Add(t) })
	return &sum, err
}

// addEncoded decodes a stored Tally or Rollup (both encodings start with
// the counts and the paid money; the refunded money after them is not
// needed here) and adds its counts and paid money to t without allocating,
// except when t.Paid grows. Currency names come from currencies, the names
// seen so far in the walk, which only grows for a currency never seen:
// without it every affiliate's sum made its own copy of "USD". t.Paid is
// left unsorted: callers normalise at the end.
func (t *Tally) addEncoded(b []byte, currencies *[]string) error {
	d := newDecoder(b)
	t.Clicks += d.int()
	t.Leads += d.int()
	t.Purchases += d.int()
	t.Refunds += d.int()
	n := d.int()
	if n < 0 || n > 1000 {
		return errCorrupt
	}
	for i := int64(0); i < n && d.err == nil; i++ {
		cur := d.strBytes()
		amount, commission := d.int(), d.int()
		found := false
		for j := range t.Paid {
			if t.Paid[j].Currency == string(cur) {
				t.Paid[j].Amount += amount
				t.Paid[j].Commission += commission
				found = true
				break
			}
		}
		if !found {
			t.Paid = append(t.Paid, RollupMoney{Currency: intern(currencies, cur), Amount: amount, Commission: commission})
		}
	}
	return d.err
}

// intern returns the string in names equal to b, adding it if there is none.
func intern(names *[]string, b []byte) string {
	for _, s := range *names {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	*names = append(*names, s)
	return s
}

// strBytes is str without the copy: the bytes are only valid while b is.
func (d *decoder) strBytes() []byte {
	if !d.more() {
		return nil
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 || uint64(len(d.b)-k) < n {
		d.err = errCorrupt
		return nil
	}
	v := d.b[k : k+int(n)]
	d.b = d.b[k+int(n):]
	return v
}

// scanPrefixes calls fn with every key (and its value, valid only during
// fn) under each of prefixes, all within base, using one iterator.
func (tx *Tx) scanPrefixes(base []byte, prefixes [][]byte, fn func(prefix, k, v []byte) error) error {
	if len(prefixes) == 0 {
		return nil
	}
	it := tx.txn.NewIterator(badger.IteratorOptions{Prefix: base})
	defer it.Close()
	for _, p := range prefixes {
		for it.Seek(p); it.ValidForPrefix(p); it.Next() {
			item := it.Item()
			k := item.Key()
			if err := item.Value(func(v []byte) error { return fn(p, k, v) }); err != nil {
				return err
			}
		}
	}
	return nil
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// scanValues is scan for small values read in the callback: it does not
// ask Badger to prefetch values, which would start a goroutine per key for
// values that sit in the LSM tree anyway (tallies, rollups).
func (tx *Tx) scanValues(prefix, start []byte, fn func(k []byte, item *badger.Item) (bool, error)) error {
	it := tx.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	if start == nil {
		start = prefix
	}
	for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		more, err := fn(item.Key(), item)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// rebuildTallies is migration 3: drop the retired tally keys (per-affiliate
// and per-day-affiliate tallies of a layout that never shipped), then
// rebuild every derived key (search indexes and tallies included) from the
// records.
func rebuildTallies(db *DB) error {
	for _, p := range []string{"t-aff:", "t-da:"} {
		if err := db.dropPrefix(p); err != nil {
			return err
		}
	}
	return db.Reindex(nil)
}
