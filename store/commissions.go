package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Commissions and the balances kept from them. A commission's record, its
// index entries and its share of the balance counters change in one
// operation, so the balances are never a scan and never disagree with the
// records (reindex rebuilds them from the records, byte for byte).

// Commission statuses and kinds, as stored.
const (
	CommissionPending    = "pending"
	CommissionApproved   = "approved"
	CommissionProcessing = "processing"
	CommissionPaid       = "paid"
	CommissionVoided     = "voided"

	CommissionSale     = "sale"
	CommissionRenewal  = "renewal"
	CommissionClawback = "clawback"
)

// Commission is what one purchase earns an affiliate (or, for a clawback,
// takes back after a refund of money already paid out).
type Commission struct {
	ID          string
	PurchaseID  string
	ProgramID   string
	AffiliateID string
	Kind        string // sale | renewal | clawback
	Amount      int64  // minor units of Currency; negative for a clawback
	Currency    string
	Status      string // pending | approved | processing | paid | voided
	ApproveAt   time.Time
	CreatedAt   time.Time
	PaidAt      time.Time // zero until paid
	PayoutID    string
	ClawbackOf  string
}

func init() {
	reindexers = append(reindexers, reindexer{kind: "commission", prefix: pCommission, derive: func(tx *Tx, v []byte) ([]derivedKey, error) {
		var c Commission
		if err := c.unmarshal(v); err != nil {
			return nil, err
		}
		return c.derived(), tx.addBalance(&c, 1)
	}})
}

func (c *Commission) marshal() []byte {
	e := newEncoder(recordV1, 200)
	e.str(c.ID)
	e.str(c.PurchaseID)
	e.str(c.ProgramID)
	e.str(c.AffiliateID)
	e.str(c.Kind)
	e.int(c.Amount)
	e.str(c.Currency)
	e.str(c.Status)
	e.time(c.ApproveAt)
	e.time(c.CreatedAt)
	e.time(c.PaidAt)
	e.str(c.PayoutID)
	e.str(c.ClawbackOf)
	return e.b
}

func (c *Commission) unmarshal(b []byte) error {
	d := newDecoder(b)
	c.ID = d.str()
	c.PurchaseID = d.str()
	c.ProgramID = d.str()
	c.AffiliateID = d.str()
	c.Kind = d.str()
	c.Amount = d.int()
	c.Currency = d.str()
	c.Status = d.str()
	c.ApproveAt = d.time()
	c.CreatedAt = d.time()
	c.PaidAt = d.time()
	c.PayoutID = d.str()
	c.ClawbackOf = d.str()
	return d.err
}

func (c *Commission) derived() []derivedKey {
	t := c.CreatedAt
	d := []derivedKey{
		indexEntry(key(iCommissionAll).time(t).id(c.ID)),
		indexEntry(key(iCommissionByProgram).id(c.ProgramID).time(t).id(c.ID)),
		indexEntry(key(iCommissionByAffiliate).id(c.AffiliateID).time(t).id(c.ID)),
		indexEntry(key(iCommissionByStatus).str(c.Status).time(t).id(c.ID)),
		indexEntry(key(iCommissionByPurchase).id(c.PurchaseID).id(c.ID)),
	}
	if c.PayoutID != "" {
		d = append(d, indexEntry(payoutCommissionKey(c.PayoutID, c.AffiliateID, c.ID)))
	}
	switch c.Status {
	case CommissionPending:
		d = append(d, indexEntry(key(iCommissionDue).time(c.ApproveAt).id(c.ID)))
	case CommissionApproved:
		d = append(d, indexEntry(approvedCommissionKey(c.AffiliateID, c.Currency, c.ID)))
	}
	return d
}

func payoutCommissionKey(payout, aff, id string) []byte {
	return key(iCommissionByPayout).id(payout).id(aff).id(id)
}

func approvedCommissionKey(aff, currency, id string) []byte {
	return key(iCommissionApproved).str(currency).id(aff).id(id)
}

// PutCommission stores a new or changed commission, moving its index
// entries and its amount between the balance counters.
func (tx *Tx) PutCommission(c *Commission) error {
	old, err := tx.Commission(c.ID)
	if isNotFound(err) {
		old, err = nil, nil
	}
	if err != nil {
		return err
	}
	return tx.ReplaceCommission(old, c)
}

// ReplaceCommission is PutCommission for a caller that holds the stored
// version (old; nil for a new commission) and changed a copy of it.
func (tx *Tx) ReplaceCommission(old, c *Commission) error {
	var oldKeys []derivedKey
	if old != nil {
		oldKeys = old.derived()
		if err := tx.addBalance(old, -1); err != nil {
			return err
		}
	}
	if err := tx.putDerived(oldKeys, c.derived()); err != nil {
		return err
	}
	tx.set(commissionKey(c.ID), c.marshal())
	return tx.addBalance(c, 1)
}

// Commission returns a commission by id.
func (tx *Tx) Commission(id string) (*Commission, error) {
	b, err := tx.get(commissionKey(id))
	if err != nil {
		return nil, fmt.Errorf("store: commission %s: %w", id, err)
	}
	var c Commission
	return &c, c.unmarshal(b)
}

// PurchaseCommissions returns the commissions of a purchase, oldest first.
func (tx *Tx) PurchaseCommissions(purchaseID string) ([]*Commission, error) {
	return tx.commissionsUnder(key(iCommissionByPurchase).id(purchaseID), 0, nil)
}

// ScanApproved calls fn with the affiliate and commission ids of the
// approved commissions in a currency, by affiliate id then commission id,
// starting at affiliate fromAffiliate ("" = the first), until fn returns
// false. It reads keys only.
func (tx *Tx) ScanApproved(currency, fromAffiliate string, fn func(affiliateID, commissionID string) (bool, error)) error {
	return tx.scanPairs(key(iCommissionApproved).str(currency), fromAffiliate, fn)
}

// ScanPayout calls fn with the affiliate and commission ids of a payout's
// commissions, as ScanApproved does.
func (tx *Tx) ScanPayout(payoutID, fromAffiliate string, fn func(affiliateID, commissionID string) (bool, error)) error {
	return tx.scanPairs(key(iCommissionByPayout).id(payoutID), fromAffiliate, fn)
}

// scanPairs walks index keys "prefix + affiliate id + commission id".
func (tx *Tx) scanPairs(prefix []byte, fromAffiliate string, fn func(aff, id string) (bool, error)) error {
	var start []byte
	if fromAffiliate != "" {
		start = kb(bytes.Clone(prefix)).id(fromAffiliate)
	}
	return tx.scan(prefix, start, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		rest := k[len(prefix):]
		if len(rest) != 2*IDLen {
			return false, errCorrupt
		}
		return fn(string(rest[:IDLen]), string(rest[IDLen:]))
	})
}

// commissionsUnder loads up to limit (0 = all) commissions that keep is
// true of, whose index keys under prefix end with their id.
func (tx *Tx) commissionsUnder(prefix []byte, limit int, keep func(*Commission) bool) ([]*Commission, error) {
	var out []*Commission
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		c, err := tx.Commission(string(k[len(k)-IDLen:]))
		if err != nil {
			return false, err
		}
		if keep == nil || keep(c) {
			out = append(out, c)
		}
		return limit == 0 || len(out) < limit, nil
	})
	return out, err
}

// DueCommissions returns up to limit pending commissions whose approve_at
// is at or before t, oldest first.
func (tx *Tx) DueCommissions(t time.Time, limit int) ([]*Commission, error) {
	prefix := []byte(iCommissionDue)
	var out []*Commission
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		if len(k) != len(prefix)+8+IDLen {
			return false, errCorrupt
		}
		if be64(k[len(prefix):]) > timeKey(t) || len(out) == limit {
			return false, nil
		}
		c, err := tx.Commission(string(k[len(k)-IDLen:]))
		if err != nil {
			return false, err
		}
		out = append(out, c)
		return true, nil
	})
	return out, err
}

// CommissionQuery filters the commission list. Empty fields do not filter.
type CommissionQuery struct {
	ProgramID   string
	AffiliateID string
	Status      string
	PurchaseID  string
	From, To    time.Time // on created_at; To exclusive
	Cursor      string
	Limit       int
}

// Commissions lists commissions newest first, one page at a time. It walks
// the narrowest index the query names and checks the other filters on the
// records.
func (tx *Tx) Commissions(q CommissionQuery) ([]*Commission, string, error) {
	if q.PurchaseID != "" {
		// A purchase has a handful of commissions: no paging needed.
		all, err := tx.PurchaseCommissions(q.PurchaseID)
		if err != nil {
			return nil, "", err
		}
		var out []*Commission
		for i := len(all) - 1; i >= 0; i-- {
			if q.matches(all[i]) {
				out = append(out, all[i])
			}
		}
		return out, "", nil
	}
	var prefix []byte
	switch {
	case q.AffiliateID != "":
		prefix = key(iCommissionByAffiliate).id(q.AffiliateID)
	case q.ProgramID != "":
		prefix = key(iCommissionByProgram).id(q.ProgramID)
	case q.Status != "":
		prefix = key(iCommissionByStatus).str(q.Status)
	default:
		prefix = key(iCommissionAll)
	}
	limit := limitOf(q.Limit)
	var out []*Commission
	next, err := tx.scanIndexPage(prefix, q.From, q.To, q.Cursor, limit, func(id string) (bool, error) {
		c, err := tx.Commission(id)
		if err != nil {
			return false, err
		}
		if !q.matches(c) {
			return false, nil
		}
		out = append(out, c)
		return true, nil
	})
	return out, next, err
}

func (q *CommissionQuery) matches(c *Commission) bool {
	return (q.ProgramID == "" || c.ProgramID == q.ProgramID) &&
		(q.AffiliateID == "" || c.AffiliateID == q.AffiliateID) &&
		(q.Status == "" || c.Status == q.Status) &&
		(q.From.IsZero() || !c.CreatedAt.Before(q.From)) &&
		(q.To.IsZero() || c.CreatedAt.Before(q.To))
}

// Balances.

// Balance is what an affiliate has in one currency, per commission status
// (voided commissions count nowhere). Approved is net: clawbacks included.
type Balance struct {
	AffiliateID string
	ProgramID   string // "" for the affiliate's total over all programs
	Currency    string
	Name        string // the affiliate's, when the query asked for names
	Pending     int64
	Approved    int64
	Processing  int64
	Paid        int64
}

// allPrograms stands for "every program" in balance keys.
const allPrograms = NoAffiliate

func balanceKey(scope, aff, currency string) []byte {
	return key(tBalance).id(scope).id(aff).str(currency)
}

// addBalance adds sign times c's amount to the counters of its status: the
// affiliate's total and its program's. As with rollups, the deltas are
// summed per batch and written once just before it commits (writeBalances):
// a purchase costs no counter read, and a write operation never reads a
// counter it changed (reads see the committed balances).
func (tx *Tx) addBalance(c *Commission, sign int64) error {
	i := balanceSlot(c.Status)
	if i < 0 || c.Amount == 0 {
		return nil
	}
	for _, scope := range [...]string{allPrograms, c.ProgramID} {
		tx.balanceDelta(balanceKey(scope, c.AffiliateID, c.Currency))[i] += sign * c.Amount
	}
	return nil
}

// balanceDelta is the operation's delta to the balance counter at k. An
// operation touches a few counters: a short list, searched.
func (tx *Tx) balanceDelta(k []byte) *[4]int64 {
	for i := range tx.balances {
		if tx.balances[i].key == string(k) {
			return &tx.balances[i].sum
		}
	}
	tx.balances = append(tx.balances, balanceDelta{key: string(k)})
	return &tx.balances[len(tx.balances)-1].sum
}

// balanceDelta is what one write operation adds to one balance counter.
type balanceDelta struct {
	key string
	sum [4]int64
}

// balanceSlot is where a status's money sits in a balance counter (-1:
// nowhere, as for voided commissions).
func balanceSlot(status string) int {
	switch status {
	case CommissionPending:
		return 0
	case CommissionApproved:
		return 1
	case CommissionProcessing:
		return 2
	case CommissionPaid:
		return 3
	}
	return -1
}

// writeBalances applies a batch's summed balance deltas in txn. A counter
// set that drops to zero is deleted, as a reindex would not write it.
// Like writeRollups it returns the values written, for the counter cache.
func writeBalances(txn *badger.Txn, sums map[string]*[4]int64, cache *counterCache) (map[string][]byte, error) {
	if len(sums) == 0 {
		return nil, nil
	}
	tx := &Tx{txn: txn, writable: true, buf: make(map[string][]byte, len(sums)), counters: cache}
	for k, d := range sums {
		var v [4]int64
		b, err := tx.getCounter([]byte(k))
		switch {
		case err == nil:
			if len(b) != 32 {
				return nil, errCorrupt
			}
			for i := range v {
				v[i] = int64(binary.BigEndian.Uint64(b[8*i:]))
			}
		case !isNotFound(err):
			return nil, err
		}
		for i := range v {
			v[i] += d[i]
		}
		if v == [4]int64{} {
			tx.del([]byte(k))
			continue
		}
		out := make([]byte, 0, 32)
		for _, n := range v {
			out = binary.BigEndian.AppendUint64(out, uint64(n))
		}
		tx.set([]byte(k), out)
	}
	return tx.buf, tx.flush()
}

// Balance returns an affiliate's balance in a currency, over all programs
// or in one (zero when it has none).
func (tx *Tx) Balance(programID, affiliateID, currency string) (*Balance, error) {
	scope := allPrograms
	if programID != "" {
		scope = programID
	}
	bal := &Balance{AffiliateID: affiliateID, ProgramID: programID, Currency: currency}
	b, err := tx.get(balanceKey(scope, affiliateID, currency))
	if isNotFound(err) {
		return bal, nil
	}
	if err != nil {
		return nil, err
	}
	return bal, bal.decode(b)
}

func (bal *Balance) decode(b []byte) error {
	if len(b) != 32 {
		return errCorrupt
	}
	bal.Pending = int64(binary.BigEndian.Uint64(b))
	bal.Approved = int64(binary.BigEndian.Uint64(b[8:]))
	bal.Processing = int64(binary.BigEndian.Uint64(b[16:]))
	bal.Paid = int64(binary.BigEndian.Uint64(b[24:]))
	return nil
}

// BalanceQuery filters balances; empty fields do not filter.
type BalanceQuery struct {
	ProgramID   string
	AffiliateID string
	Currency    string
	// AfterAffiliate starts the walk after this affiliate id.
	AfterAffiliate string
	// Names fills each balance's affiliate name.
	Names bool
}

// Balances calls fn with each balance the query selects, by affiliate id
// then currency, until fn returns false. It reads only the counters.
func (tx *Tx) Balances(q BalanceQuery, fn func(*Balance) bool) error {
	scope := allPrograms
	if q.ProgramID != "" {
		scope = q.ProgramID
	}
	prefix := key(tBalance).id(scope)
	if q.AffiliateID != "" {
		prefix = kb(prefix).id(q.AffiliateID)
	}
	var start []byte
	if q.AfterAffiliate != "" {
		start = append(kb(bytes.Clone(prefix)).id(q.AfterAffiliate), 0xff)
	}
	var names *nameWalk
	if q.Names {
		names = newNameWalk(tx)
		defer names.close()
	}
	// Key-only iteration: a counter's 32 bytes live in the LSM tree with
	// its key, so prefetching values only adds work (a quarter of the
	// Payouts page's read at 10,000 affiliates).
	return tx.scan(prefix, start, false, false, func(k []byte, item *badger.Item) (bool, error) {
		rest := k[len(tBalance)+IDLen:]
		if len(rest) < IDLen+2 || rest[len(rest)-1] != 0 {
			return false, errCorrupt
		}
		cur := string(rest[IDLen : len(rest)-1])
		if q.Currency != "" && cur != q.Currency {
			return true, nil
		}
		bal := &Balance{AffiliateID: string(rest[:IDLen]), ProgramID: q.ProgramID, Currency: cur}
		if err := item.Value(bal.decode); err != nil {
			return false, err
		}
		if names != nil {
			var err error
			if bal.Name, err = names.name(bal.AffiliateID); err != nil {
				return false, err
			}
		}
		return fn(bal), nil
	})
}

// nameWalk reads affiliates' names for ids asked in increasing order, with
// one iterator stepping forward: for thousands of rows far cheaper than a
// lookup each.
type nameWalk struct {
	it     *badger.Iterator
	prefix []byte
}

func newNameWalk(tx *Tx) *nameWalk {
	prefix := []byte(tAffiliateName)
	it := tx.txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 256})
	it.Seek(prefix)
	return &nameWalk{it: it, prefix: prefix}
}

// name returns the affiliate's name; ids must come in increasing order.
func (w *nameWalk) name(id string) (string, error) {
	target := affiliateNameKey(id)
	for ; w.it.ValidForPrefix(w.prefix); w.it.Next() {
		switch c := bytes.Compare(w.it.Item().Key(), target); {
		case c == 0:
			v, err := w.it.Item().ValueCopy(nil)
			return string(v), err
		case c > 0:
			return "", nil
		}
	}
	return "", nil
}

func (w *nameWalk) close() { w.it.Close() }
