package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/spiffy/spiffy/store/best"
)

// The list engine behind the merchant's Leads and Purchases views, the API
// lists, the CSV exports and the portal's rows. Every filter combination is
// answered newest first with keyset pagination, at a cost that does not grow
// with the number of stored rows:
//
//   - no email filter: the time index of the scope (all, program, affiliate,
//     affiliate+program) is walked backwards from the cursor; every entry
//     matches, so a page reads limit+1 keys and limit records;
//   - an exact email: the email index (a handful of entries per person);
//   - an email prefix, or a purchase status with other filters: the search
//     indexes (search.go), answered from keys, one seek per day visited;
//   - a purchase status alone: the status index, walked as a time index;
//   - total counts come from the per-day tallies (tally.go), one key per day,
//     except with an email prefix, where matching keys are counted up to
//     CountBudget and the rest is estimated from the tallies (Count.Exact
//     says which);
//   - records are read in key order in bulk (bulkLoad), so a chunk of an
//     export costs about one sequential read per row, not one random read.
//
// Cursors are the (time, id) of the last row handed out, so rows that
// arrive while someone pages never cause gaps or repeats: they are newer
// than every cursor.

// ErrBadCursor is returned for a cursor this store did not hand out.
var ErrBadCursor = errors.New("store: bad cursor")

// DefaultLimit is the page size when a query gives none.
const DefaultLimit = 50

// CountBudget is how many search-index keys a count with an email prefix
// reads before it estimates the rest (about 3 ms on a small VPS core): a
// prefix matching more than this many leads is shown as "about N", scaled
// from the days it read by the tallies of the days it did not.
const CountBudget = 8000

// SumBudget is how many purchases a total with an email prefix reads for
// their amounts before it gives up on the money (PurchaseTotals.MoneyKnown).
const SumBudget = 1000

// LeadQuery selects leads, newest first. Empty fields do not filter.
type LeadQuery struct {
	ProgramID   string
	AffiliateID string
	Email       string    // exact match, compared normalised
	EmailPrefix string    // prefix match, compared normalised
	From, To    time.Time // From inclusive, To exclusive
	Cursor      string    // from a previous page's next cursor
	Limit       int
}

// PurchaseQuery selects purchases, newest purchased_at first. AffiliateID
// may be NoAffiliate for unattributed purchases.
type PurchaseQuery struct {
	ProgramID   string
	AffiliateID string
	Email       string
	EmailPrefix string
	Status      string    // paid | refunded
	From, To    time.Time // on purchased_at
	Cursor      string
	Limit       int
}

// Count is the number of rows a filter matches. Exact is false when part of
// it was estimated (an email prefix matching very many rows).
type Count struct {
	N     int64
	Exact bool
}

// PurchaseTotals sums the purchases a query matches.
type PurchaseTotals struct {
	Count    Count
	Paid     []RollupMoney // amount and commission of the paid ones, per currency
	Refunded []RollupMoney // of the refunded ones
	// MoneyKnown is false when the sums were not computed: an email prefix
	// matching more than SumBudget purchases.
	MoneyKnown bool
}

// bounds is a query's [from, to) time range in key form.
type bounds struct {
	fromKey, toKey uint64 // toKey = MaxUint64 when open
	loDay, hiDay   uint32
}

func newBounds(from, to time.Time) bounds {
	b := bounds{toKey: math.MaxUint64, hiDay: math.MaxUint32}
	if !from.IsZero() {
		b.fromKey, b.loDay = timeKey(from), DayNumber(from)
	}
	if !to.IsZero() {
		b.toKey = timeKey(to)
		b.hiDay = DayNumber(time.UnixMicro(int64(b.toKey) - 1))
		if b.toKey == 0 {
			b.hiDay = 0
		}
	}
	return b
}

func (b bounds) empty() bool { return b.fromKey >= b.toKey }

func (b bounds) apply(sp *searchSpec) {
	sp.fromKey, sp.toKey, sp.loDay, sp.hiDay = b.fromKey, b.toKey, b.loDay, b.hiDay
}

// alignedLo/alignedHi report whether the range starts (ends) at a day boundary.
func (b bounds) alignedLo() bool { return b.fromKey%dayMicros == 0 }
func (b bounds) alignedHi() bool { return b.toKey == math.MaxUint64 || b.toKey%dayMicros == 0 }

const dayMicros = 86400 * 1e6

func timeFromKey(k uint64) time.Time { return time.UnixMicro(int64(k)).UTC() }

func limitOf(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return n
}

// Leads returns one page of leads matching q and the cursor of the next page
// ("" at the end).
func (tx *Tx) Leads(q LeadQuery) ([]*Lead, string, error) {
	hits, next, err := pageOfHits(q.Cursor, q.Limit, func(after []byte, n int) ([]searchHit, error) {
		return tx.leadHits(&q, after, n)
	})
	if err != nil {
		return nil, "", err
	}
	recs, err := bulkLoad(tx, pLead, hits, decodeLead)
	return recs, next, err
}

// LeadsAndCount is Leads and CountLeads in one read. An email-prefix
// search walks the same index keys for its page as for its count (a prefix
// common on one busy day means thousands of keys), so one walk serves
// both; other queries read each as Leads and CountLeads do.
func (tx *Tx) LeadsAndCount(q LeadQuery) ([]*Lead, string, Count, error) {
	b := newBounds(q.From, q.To)
	if q.Email != "" || q.EmailPrefix == "" || b.empty() {
		leads, next, err := tx.Leads(q)
		if err != nil {
			return nil, "", Count{}, err
		}
		c, err := tx.CountLeads(q)
		return leads, next, c, err
	}
	limit := limitOf(q.Limit)
	after, err := parseCursor(q.Cursor)
	if err != nil {
		return nil, "", Count{}, err
	}
	// The count's walk hands out a day's hits in key order (by email); the
	// page keeps the newest limit+1 before the cursor.
	page := newestHits(limit + 1)
	c, err := tx.searchCount(leadSearchSpec(&q, b), TallyScope{q.ProgramID, q.AffiliateID}, b,
		func(t *Tally) int64 { return t.Leads }, func(h searchHit) {
			if after == nil || bytes.Compare(h.suffix, after) < 0 {
				page.Offer(h)
			}
		})
	if err != nil {
		return nil, "", Count{}, err
	}
	hits := page.Items()
	if len(hits) <= limit && !c.Exact {
		// The count stopped at its budget before the page filled: the
		// page walks on by itself.
		leads, next, err := tx.Leads(q)
		return leads, next, c, err
	}
	next := ""
	if len(hits) > limit {
		hits = hits[:limit]
		next = encodeCursor(hits[limit-1].suffix)
	}
	recs, err := bulkLoad(tx, pLead, hits, decodeLead)
	return recs, next, c, err
}

// Purchases is Leads for purchases.
func (tx *Tx) Purchases(q PurchaseQuery) ([]*Purchase, string, error) {
	hits, next, err := pageOfHits(q.Cursor, q.Limit, func(after []byte, n int) ([]searchHit, error) {
		return tx.purchaseHits(&q, after, n)
	})
	if err != nil {
		return nil, "", err
	}
	recs, err := bulkLoad(tx, pPurchase, hits, decodePurchase)
	return recs, next, err
}

// pageOfHits asks find for one hit more than the page holds, so the next
// cursor is only handed out when a next page really exists.
func pageOfHits(cursor string, limitN int, find func(after []byte, n int) ([]searchHit, error)) ([]searchHit, string, error) {
	limit := limitOf(limitN)
	after, err := parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	hits, err := find(after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(hits) > limit {
		hits = hits[:limit]
		next = encodeCursor(hits[limit-1].suffix)
	}
	return hits, next, nil
}

// leadHits finds up to n leads matching q after the cursor, newest first,
// reading keys only (except for an exact email, a handful of records).
func (tx *Tx) leadHits(q *LeadQuery, after []byte, n int) ([]searchHit, error) {
	b := newBounds(q.From, q.To)
	if b.empty() {
		return nil, nil
	}
	switch {
	case q.Email != "":
		prefix := key(iLeadByEmail).str(NormEmail(q.Email))
		emailPrefix := NormEmail(q.EmailPrefix)
		return filterHits(tx, pLead, prefix, b, after, n, decodeLead, func(l *Lead) bool {
			return (q.ProgramID == "" || l.ProgramID == q.ProgramID) &&
				(q.AffiliateID == "" || l.AffiliateID == q.AffiliateID) && emailHasPrefix(l.Email, emailPrefix)
		})
	case q.EmailPrefix != "":
		return tx.searchHits(leadSearchSpec(q, b), after, n)
	}
	return tx.timeHits(leadScopePrefix(q.ProgramID, q.AffiliateID), b, after, n)
}

// purchaseHits is leadHits for purchases.
func (tx *Tx) purchaseHits(q *PurchaseQuery, after []byte, n int) ([]searchHit, error) {
	b := newBounds(q.From, q.To)
	if b.empty() {
		return nil, nil
	}
	switch {
	case q.Email != "":
		prefix := key(iPurchaseByEmail).str(NormEmail(q.Email))
		return filterHits(tx, pPurchase, prefix, b, after, n, decodePurchase, purchaseFilter(q))
	case q.Status != "" && q.EmailPrefix == "" && q.ProgramID == "" && q.AffiliateID == "":
		return tx.timeHits(append(key(iPurchaseByStatus), statusByte(q.Status)), b, after, n)
	case q.EmailPrefix != "" || q.Status != "" || q.AffiliateID == NoAffiliate:
		return tx.searchHits(purchaseSearchSpec(q, b), after, n)
	}
	return tx.timeHits(purchaseScopePrefix(q.ProgramID, q.AffiliateID), b, after, n)
}

func purchaseFilter(q *PurchaseQuery) func(*Purchase) bool {
	emailPrefix := NormEmail(q.EmailPrefix)
	return func(p *Purchase) bool {
		aff := q.AffiliateID
		if aff == NoAffiliate {
			aff = ""
		}
		return (q.ProgramID == "" || p.ProgramID == q.ProgramID) &&
			(q.AffiliateID == "" || p.AffiliateID == aff) &&
			(q.Status == "" || p.Status == q.Status) && emailHasPrefix(p.Email, emailPrefix)
	}
}

func leadScopePrefix(prg, aff string) []byte {
	switch {
	case aff != "" && prg != "":
		return key(iLeadByAffProgram).id(aff).id(prg)
	case aff != "":
		return key(iLeadByAffiliate).id(aff)
	case prg != "":
		return key(iLeadByProgram).id(prg)
	}
	return key(iLeadAll)
}

func purchaseScopePrefix(prg, aff string) []byte {
	switch {
	case aff != "" && prg != "":
		return key(iPurchaseByAffProgram).id(aff).id(prg)
	case aff != "":
		return key(iPurchaseByAffiliate).id(aff)
	case prg != "":
		return key(iPurchaseByProgram).id(prg)
	}
	return key(iPurchaseAll)
}

// timeHits walks a "prefix + time + id" index newest first within b, after
// the cursor, and returns up to n entries. Every entry matches, so it reads
// n keys.
func (tx *Tx) timeHits(prefix []byte, b bounds, after []byte, n int) ([]searchHit, error) {
	start := prefixEnd(prefix)
	if b.toKey != math.MaxUint64 {
		start = append(binary64(bytes.Clone(prefix), b.toKey-1), 0xff)
	}
	if after != nil {
		if c := append(bytes.Clone(prefix), after...); bytes.Compare(c, start) < 0 {
			start = c
		}
	}
	var hits []searchHit
	err := tx.scan(prefix, start, true, false, func(k []byte, _ *badger.Item) (bool, error) {
		suffix := k[len(prefix):]
		if len(suffix) != 8+IDLen {
			return false, errCorrupt
		}
		if after != nil && bytes.Compare(suffix, after) >= 0 {
			return true, nil // the cursor row itself
		}
		if be64(suffix) < b.fromKey {
			return false, nil
		}
		hits = append(hits, searchHit{suffix: bytes.Clone(suffix)})
		return len(hits) < n, nil
	})
	return hits, err
}

// searchHits collects up to n hits of a search walk.
func (tx *Tx) searchHits(sp *searchSpec, after []byte, n int) ([]searchHit, error) {
	var hits []searchHit
	_, _, err := tx.searchWalk(sp, after, 0, newestFirst, func(h searchHit) (bool, error) {
		hits = append(hits, h)
		return len(hits) < n, nil
	})
	return hits, err
}

// filterHits walks a small index (one person's email) and checks each
// record against the filters that are not in its keys.
func filterHits[T any](tx *Tx, recPrefix string, prefix []byte, b bounds, after []byte, n int,
	decode func([]byte) (*T, error), keep func(*T) bool) ([]searchHit, error) {
	cands, err := tx.timeHits(prefix, b, after, math.MaxInt)
	if err != nil {
		return nil, err
	}
	var out []searchHit
	for _, h := range cands {
		rec, err := loadHit(tx, recPrefix, h, decode)
		if err != nil {
			return nil, err
		}
		if rec != nil && keep(rec) {
			out = append(out, h)
			if len(out) == n {
				break
			}
		}
	}
	return out, nil
}

// loadHit reads and decodes the record behind a hit with a point read; nil
// when the record is gone.
func loadHit[T any](tx *Tx, recPrefix string, h searchHit, decode func([]byte) (*T, error)) (*T, error) {
	v, err := tx.get(key(recPrefix).id(h.id()))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decode(v)
}

func decodeLead(b []byte) (*Lead, error) {
	var l Lead
	return &l, l.unmarshal(b)
}

// decodeLeadForExport decodes what a list or a CSV row shows and skips the
// request details (referral and visitor ids, URL, IP, user agent): they are
// the bulk of a lead's bytes, and no export carries them. The fields share
// one copy of the record's bytes, one allocation instead of eight.
func decodeLeadForExport(b []byte) (*Lead, error) {
	var l Lead
	d := stringDecoder{s: string(b)}
	if d.version() != recordV1 {
		return decodeLead(b) // a newer layout: take the general path
	}
	l.ID = d.str()
	l.ProgramID = d.str()
	l.AffiliateID = d.str()
	d.str() // ReferralID
	l.Code = d.str()
	l.SubID = d.str()
	l.Email = d.str()
	l.Name = d.str()
	d.str() // URL
	d.str() // VisitorID
	d.str() // IP
	d.str() // UserAgent
	l.CreatedAt = d.time()
	l.PurchaseID = d.str()
	return &l, d.err
}

func decodePurchase(b []byte) (*Purchase, error) {
	var p Purchase
	return &p, p.unmarshal(b)
}

// bulkLoad reads the records of hits, in hits' order. Hits whose record is
// gone are dropped.
//
// A page (up to pointReads rows) is read with point reads: Badger's bloom
// filters make each one touch a single block. A bigger chunk (an export)
// walks the record keys in id order with one iterator, stepping over up to
// maxStep unwanted keys before it seeks instead: ids are time-ordered, so
// the rows of a chunk usually sit close together, and a step costs a
// fraction of a seek or a point read.
func bulkLoad[T any](tx *Tx, recPrefix string, hits []searchHit, decode func([]byte) (*T, error)) ([]*T, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	const pointReads, maxStep = 128, 8
	if len(hits) <= pointReads {
		out := make([]*T, 0, len(hits))
		for _, h := range hits {
			rec, err := loadHit(tx, recPrefix, h, decode)
			if err != nil {
				return nil, err
			}
			if rec != nil {
				out = append(out, rec)
			}
		}
		return out, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.id()
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	found := make(map[string]*T, len(ids))
	it := tx.txn.NewIterator(badger.IteratorOptions{Prefix: []byte(recPrefix)})
	defer it.Close()
	p := len(recPrefix)
	seeked := false
	for _, id := range ids {
		steps := 0
		for seeked && it.Valid() && steps < maxStep && string(it.Item().Key()[p:]) < id {
			it.Next()
			steps++
		}
		if !seeked || !it.Valid() || string(it.Item().Key()[p:]) < id {
			it.Seek(key(recPrefix).id(id))
			seeked = true
		}
		if !it.Valid() || string(it.Item().Key()[p:]) != id {
			continue
		}
		var rec *T
		err := it.Item().Value(func(v []byte) error {
			var err error
			rec, err = decode(v)
			return err
		})
		if err != nil {
			return nil, err
		}
		found[id] = rec
		it.Next()
	}
	out := make([]*T, 0, len(hits))
	for _, h := range hits {
		if r := found[string(h.suffix[8:])]; r != nil { // no allocation for a lookup
			out = append(out, r)
		}
	}
	return out, nil
}

// CountLeads returns how many leads match q (Cursor and Limit ignored).
func (tx *Tx) CountLeads(q LeadQuery) (Count, error) {
	b := newBounds(q.From, q.To)
	if b.empty() {
		return Count{Exact: true}, nil
	}
	switch {
	case q.Email != "":
		hits, err := tx.leadHits(&q, nil, math.MaxInt)
		return Count{N: int64(len(hits)), Exact: true}, err
	case q.EmailPrefix != "":
		return tx.searchCount(leadSearchSpec(&q, b), TallyScope{q.ProgramID, q.AffiliateID}, b,
			func(t *Tally) int64 { return t.Leads }, nil)
	}
	scope := TallyScope{q.ProgramID, q.AffiliateID}
	n, err := tx.tallyCount(scope, b, func(t *Tally) int64 { return t.Leads }, func(p bounds) (int64, error) {
		pq := q
		pq.EmailPrefix = ""
		hits, err := tx.searchHits(leadSearchSpec(&pq, p), nil, math.MaxInt)
		return int64(len(hits)), err
	})
	return Count{N: n, Exact: true}, err
}

// tallyCount sums a tally field over b's days, counting the rows of a
// partial first or last day (a range not on day boundaries) with partial.
func (tx *Tx) tallyCount(s TallyScope, b bounds, field func(*Tally) int64, partial func(bounds) (int64, error)) (int64, error) {
	lo, hi := b.loDay, b.hiDay
	var n int64
	if !b.alignedLo() || !b.alignedHi() && lo == hi {
		end := min(b.toKey, uint64(lo+1)*dayMicros)
		c, err := partial(bounds{fromKey: b.fromKey, toKey: end, loDay: lo, hiDay: lo})
		if err != nil {
			return 0, err
		}
		n += c
		if lo == hi {
			return n, nil
		}
		lo++
	}
	if !b.alignedHi() {
		if hi == 0 {
			return n, nil
		}
		c, err := partial(bounds{fromKey: uint64(hi) * dayMicros, toKey: b.toKey, loDay: hi, hiDay: hi})
		if err != nil {
			return 0, err
		}
		n += c
		hi--
	}
	if lo > hi {
		return n, nil
	}
	err := tx.TallyDays(s, lo, hi, func(_ uint32, t *Tally) { n += field(t) })
	return n, err
}

// newestHits keeps the n newest hits offered, newest first: a page taken
// from a walk that hands out hits in any order.
func newestHits(n int) *best.K[searchHit] {
	return best.New(n, func(a, b searchHit) int { return bytes.Compare(b.suffix, a.suffix) })
}

// searchCount counts a search walk's hits, reading at most CountBudget keys;
// past that it scales what it counted by the tallies of the days it did
// not reach. each, when given, sees every hit counted: days newest first,
// a day's hits in any order.
func (tx *Tx) searchCount(sp *searchSpec, s TallyScope, b bounds, field func(*Tally) int64, each func(searchHit)) (Count, error) {
	return tx.searchCountBudget(sp, s, b, field, each, CountBudget)
}

func (tx *Tx) searchCountBudget(sp *searchSpec, s TallyScope, b bounds, field func(*Tally) int64, each func(searchHit), budget int) (Count, error) {
	var n int64
	done, lastDay, err := tx.searchWalk(sp, nil, budget, anyOrder, func(h searchHit) (bool, error) {
		n++
		if each != nil {
			each(h)
		}
		return true, nil
	})
	if err != nil || done {
		return Count{N: n, Exact: true}, err
	}
	var seen, total int64
	err = tx.TallyDays(s, b.loDay, b.hiDay, func(day uint32, t *Tally) {
		total += field(t)
		if day >= lastDay {
			seen += field(t)
		}
	})
	if err != nil || seen == 0 {
		return Count{N: n}, err
	}
	est := int64(float64(n) * float64(total) / float64(seen))
	return Count{N: max(est, n)}, nil
}

// CountPurchases returns how many purchases match q.
func (tx *Tx) CountPurchases(q PurchaseQuery) (Count, error) {
	t, err := tx.purchaseTotals(q, false)
	return t.Count, err
}

// PurchaseTotals counts the purchases matching q and sums their amounts and
// commissions per currency.
func (tx *Tx) PurchaseTotals(q PurchaseQuery) (PurchaseTotals, error) {
	return tx.purchaseTotals(q, true)
}

func (tx *Tx) purchaseTotals(q PurchaseQuery, money bool) (PurchaseTotals, error) {
	var out PurchaseTotals
	b := newBounds(q.From, q.To)
	if b.empty() {
		out.Count.Exact, out.MoneyKnown = true, true
		return out, nil
	}
	if q.Email != "" || q.EmailPrefix != "" {
		return tx.sumPurchases(&q, b, money)
	}
	aff := q.AffiliateID
	scope := TallyScope{q.ProgramID, aff}
	var sum Tally
	field := statusField(q.Status)
	n, err := tx.tallyCount(scope, b, func(t *Tally) int64 {
		sum.Add(t)
		return field(t)
	}, func(p bounds) (int64, error) {
		part, err := tx.sumPurchases(&q, p, true)
		if err == nil {
			sum.Add(&Tally{Paid: part.Paid, Refunded: part.Refunded})
		}
		return part.Count.N, err
	})
	if err != nil {
		return out, err
	}
	out.Count = Count{N: n, Exact: true}
	out.MoneyKnown = true
	if q.Status != "refunded" {
		out.Paid = sum.Paid
	}
	if q.Status != "paid" {
		out.Refunded = sum.Refunded
	}
	return out, nil
}

// sumPurchases counts (and sums, when money is set) purchases by walking
// their keys: for email filters and partial days.
func (tx *Tx) sumPurchases(q *PurchaseQuery, b bounds, money bool) (PurchaseTotals, error) {
	var out PurchaseTotals
	var hits []searchHit
	if q.Email != "" {
		var err error
		if hits, err = tx.purchaseHits(q, nil, math.MaxInt); err != nil {
			return out, err
		}
		out.Count = Count{N: int64(len(hits)), Exact: true}
	} else {
		c, err := tx.searchCount(purchaseSearchSpec(q, b), TallyScope{q.ProgramID, q.AffiliateID}, b,
			statusField(q.Status), func(h searchHit) {
				if len(hits) <= SumBudget {
					hits = append(hits, h)
				}
			})
		if err != nil {
			return out, err
		}
		out.Count = c
	}
	if !money || !out.Count.Exact || len(hits) > SumBudget {
		return out, nil
	}
	recs, err := bulkLoad(tx, pPurchase, hits, decodePurchase)
	if err != nil {
		return out, err
	}
	for _, p := range recs {
		m := []RollupMoney{{Currency: p.Currency, Amount: p.Amount, Commission: p.Commission}}
		if p.Status == "refunded" {
			out.Refunded = mergeMoney(out.Refunded, m)
		} else {
			out.Paid = mergeMoney(out.Paid, m)
		}
	}
	out.MoneyKnown = true
	return out, nil
}

// statusField is the tally field counting purchases of a status ("" = all).
func statusField(status string) func(*Tally) int64 {
	switch status {
	case "paid":
		return func(t *Tally) int64 { return t.Purchases - t.Refunds }
	case "refunded":
		return func(t *Tally) int64 { return t.Refunds }
	}
	return func(t *Tally) int64 { return t.Purchases }
}

// StreamChunk is how many rows StreamLeads and StreamPurchases read per
// read transaction.
const StreamChunk = 2048

// StreamLeads hands fn every lead matching q (Cursor and Limit are
// ignored), newest first, a chunk of up to StreamChunk at a time. Each chunk
// is read in its own short read transaction, so a long export never holds a
// snapshot open and never waits for or holds up the writer; the next chunk
// is read on another goroutine while fn handles this one, so an export uses
// both cores of a small machine. fn runs outside any transaction. It stops
// at the first error of fn or when ctx ends.
//
// The leads carry what lists and CSV files show; their request details
// (ReferralID, URL, VisitorID, IP, UserAgent) are left empty to keep a
// million-row export fast. Use Leads or Lead for whole records.
func (db *DB) StreamLeads(ctx context.Context, q LeadQuery, fn func([]*Lead) error) error {
	return stream(ctx, db, func(tx *Tx, after []byte) ([]searchHit, []*Lead, error) {
		hits, err := tx.leadHits(&q, after, StreamChunk)
		if err != nil {
			return nil, nil, err
		}
		recs, err := bulkLoad(tx, pLead, hits, decodeLeadForExport)
		return hits, recs, err
	}, fn)
}

// StreamPurchases is StreamLeads for purchases (whole records).
func (db *DB) StreamPurchases(ctx context.Context, q PurchaseQuery, fn func([]*Purchase) error) error {
	return stream(ctx, db, func(tx *Tx, after []byte) ([]searchHit, []*Purchase, error) {
		hits, err := tx.purchaseHits(&q, after, StreamChunk)
		if err != nil {
			return nil, nil, err
		}
		recs, err := bulkLoad(tx, pPurchase, hits, decodePurchase)
		return hits, recs, err
	}, fn)
}

// stream runs chunk in successive read transactions on a producer goroutine
// and fn on the caller's, one chunk apart.
func stream[T any](ctx context.Context, db *DB, chunk func(*Tx, []byte) ([]searchHit, []*T, error), fn func([]*T) error) error {
	type result struct {
		recs []*T
		err  error
		last bool
	}
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan result, 1)
	go func() {
		defer close(ch)
		var after []byte
		for ctx.Err() == nil {
			var r result
			r.err = db.View(func(tx *Tx) error {
				hits, recs, err := chunk(tx, after)
				if len(hits) > 0 {
					after = hits[len(hits)-1].suffix
				}
				r.recs, r.last = recs, len(hits) < StreamChunk
				return err
			})
			select {
			case ch <- r:
			case <-ctx.Done():
				return
			}
			if r.err != nil || r.last {
				return
			}
			runtime.Gosched() // let tracking requests in between chunks (export.writeCSVRows says why)
		}
	}()
	err := func() error {
		for r := range ch {
			if r.err != nil {
				return r.err
			}
			if len(r.recs) > 0 {
				if err := fn(r.recs); err != nil {
					return err
				}
			}
			if r.last {
				return nil
			}
		}
		return ctx.Err()
	}()
	cancel()
	for range ch { // wait for the producer: nothing reads after we return
	}
	return err
}

// parseCursor decodes a cursor ("" = none).
func parseCursor(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return decodeCursor(s)
}

func encodeCursor(suffix []byte) string { return base64.RawURLEncoding.EncodeToString(suffix) }

func binary64(b []byte, v uint64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// scanIndexPage walks index entries "prefix + time + id" newest first within
// [from, to), starting after cursor. match is called per entry and reports
// whether the entry was taken; the walk stops after limit taken entries and
// returns the cursor of the last one when more may follow. (The webhook
// message lists use it.)
func (tx *Tx) scanIndexPage(prefix []byte, from, to time.Time, cursor string, limit int, match func(id string) (bool, error)) (string, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	start := []byte(nil)
	var after []byte // suffix of the cursor entry: skip it and anything newer
	if cursor != "" {
		c, err := decodeCursor(cursor)
		if err != nil {
			return "", err
		}
		after = c
		start = append(bytes.Clone(prefix), c...)
	}
	if !to.IsZero() {
		// Entries before `to`: the greatest key <= prefix + (to-1µs) + 0xff….
		end := append(kb(bytes.Clone(prefix)).time(to.Add(-time.Microsecond)), 0xff)
		if start == nil || bytes.Compare(end, start) < 0 {
			start = end
		}
	}
	fromKey := uint64(0)
	if !from.IsZero() {
		fromKey = timeKey(from)
	}
	taken := 0
	var last []byte
	more := false
	err := tx.scan(prefix, start, true, false, func(k []byte, _ *badger.Item) (bool, error) {
		suffix := k[len(prefix):]
		if len(suffix) != 8+IDLen {
			return false, errCorrupt
		}
		if after != nil && bytes.Compare(suffix, after) >= 0 {
			return true, nil
		}
		if be64(suffix) < fromKey {
			return false, nil
		}
		if taken == limit {
			more = true
			return false, nil
		}
		ok, err := match(string(suffix[8:]))
		if err != nil {
			return false, err
		}
		if ok {
			taken++
			last = bytes.Clone(suffix)
		}
		return true, nil
	})
	if err != nil || !more {
		return "", err
	}
	return encodeCursor(last), nil
}

func be64(b []byte) uint64 {
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

func decodeCursor(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 8+IDLen || !ValidID(string(b[8:])) {
		return nil, ErrBadCursor
	}
	return b, nil
}
