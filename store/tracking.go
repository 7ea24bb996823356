package store

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Clicks, leads, purchases and their daily rollups. Each insert or update
// writes the record, its index entries, its unique keys and its rollup delta
// in the same operation, so they can never disagree.

// NoAffiliate stands for "unattributed" in rollup keys, whose fields are
// fixed-length ids.
const NoAffiliate = "00000000000000000000000000"

func init() {
	reindexers = append(reindexers,
		reindexer{kind: "click", prefix: pClick, derive: func(tx *Tx, v []byte) ([]derivedKey, error) {
			var c Click
			if err := c.unmarshal(v); err != nil {
				return nil, err
			}
			return c.derived(), tx.addRollup(c.CreatedAt, c.ProgramID, c.AffiliateID, &Rollup{Clicks: 1})
		}},
		reindexer{kind: "lead", prefix: pLead, derive: func(tx *Tx, v []byte) ([]derivedKey, error) {
			var l Lead
			if err := l.unmarshal(v); err != nil {
				return nil, err
			}
			return l.derived(), tx.addRollup(l.CreatedAt, l.ProgramID, l.AffiliateID, &Rollup{Leads: 1})
		}},
		reindexer{kind: "purchase", prefix: pPurchase, derive: func(tx *Tx, v []byte) ([]derivedKey, error) {
			var p Purchase
			if err := p.unmarshal(v); err != nil {
				return nil, err
			}
			return p.derived(), tx.addRollup(p.PurchasedAt, p.ProgramID, p.AffiliateID, p.contribution(1))
		}},
	)
}

// Clicks.

func (c *Click) derived() []derivedKey {
	if c.VisitorID == "" {
		return nil
	}
	return []derivedKey{indexEntry(key(iClickByVisitor).id(c.ProgramID).str(c.VisitorID).time(c.CreatedAt).id(c.ID))}
}

// InsertClick stores a new click and counts it in the day's rollup.
func (tx *Tx) InsertClick(c *Click) error {
	if err := tx.putDerived(nil, c.derived()); err != nil {
		return err
	}
	tx.set(clickKey(c.ID), c.marshal())
	return tx.addRollup(c.CreatedAt, c.ProgramID, c.AffiliateID, &Rollup{Clicks: 1})
}

// Click returns a click (a referral) by id.
func (tx *Tx) Click(id string) (*Click, error) {
	b, err := tx.get(clickKey(id))
	if err != nil {
		return nil, fmt.Errorf("store: click %s: %w", id, err)
	}
	var c Click
	return &c, c.unmarshal(b)
}

// VisitorClicks calls fn with the visitor's clicks in a program made at or
// before `at`, newest first, until fn returns false.
func (tx *Tx) VisitorClicks(programID, visitorID string, at time.Time, fn func(*Click) bool) error {
	prefix := key(iClickByVisitor).id(programID).str(visitorID)
	start := append(kb(append([]byte(nil), prefix...)).time(at), 0xff)
	return tx.scan(prefix, start, true, false, func(k []byte, _ *badger.Item) (bool, error) {
		c, err := tx.Click(string(k[len(k)-IDLen:]))
		if err != nil {
			return false, err
		}
		return fn(c), nil
	})
}

// Leads.

func (l *Lead) derived() []derivedKey {
	d := []derivedKey{
		indexEntry(key(iLeadAll).time(l.CreatedAt).id(l.ID)),
		indexEntry(key(iLeadByProgram).id(l.ProgramID).time(l.CreatedAt).id(l.ID)),
	}
	// An erased lead has no email: it must neither hold the program's
	// unique key for "" nor collide with another erased lead.
	if l.Email != "" {
		d = append(d,
			uniqueEntry("email", leadEmailKey(l.ProgramID, l.Email), l.ID),
			indexEntry(key(iLeadByEmail).str(NormEmail(l.Email)).time(l.CreatedAt).id(l.ID)))
	}
	if l.AffiliateID != "" {
		d = append(d,
			indexEntry(key(iLeadByAffiliate).id(l.AffiliateID).time(l.CreatedAt).id(l.ID)),
			indexEntry(key(iLeadByAffProgram).id(l.AffiliateID).id(l.ProgramID).time(l.CreatedAt).id(l.ID)))
	}
	return append(d, l.searchKeys()...) // search.go
}

// InsertLead stores a new lead. A lead with the same email in the same
// program fails with ErrDuplicate.
func (tx *Tx) InsertLead(l *Lead) error {
	if err := tx.putDerived(nil, l.derived()); err != nil {
		return err
	}
	tx.set(leadKey(l.ID), l.marshal())
	return tx.addRollup(l.CreatedAt, l.ProgramID, l.AffiliateID, &Rollup{Leads: 1})
}

// UpdateLead replaces a stored lead (same id), moving its index entries.
func (tx *Tx) UpdateLead(l *Lead) error {
	old, err := tx.Lead(l.ID)
	if err != nil {
		return err
	}
	if err := tx.putDerived(old.derived(), l.derived()); err != nil {
		return err
	}
	tx.set(leadKey(l.ID), l.marshal())
	return nil
}

// LinkLeadPurchase records purchaseID as the lead's first purchase. l must
// be the lead as stored in this transaction (read in it). No derived key
// depends on the purchase, so only the record is rewritten: UpdateLead
// would read the stored lead again to compare its keys, a point read that
// at a million leads costs a purchase more than the write.
func (tx *Tx) LinkLeadPurchase(l *Lead, purchaseID string) {
	l.PurchaseID = purchaseID
	tx.set(leadKey(l.ID), l.marshal())
}

// Lead returns a lead by id.
func (tx *Tx) Lead(id string) (*Lead, error) {
	b, err := tx.get(leadKey(id))
	if err != nil {
		return nil, fmt.Errorf("store: lead %s: %w", id, err)
	}
	var l Lead
	return &l, l.unmarshal(b)
}

// LeadByEmail returns the program's lead with that email (compared normalised).
func (tx *Tx) LeadByEmail(programID, email string) (*Lead, error) {
	id, err := tx.get(leadEmailKey(programID, email))
	if errors.Is(err, ErrNotFound) {
		// Every new lead asks and gets this: the bare sentinel, with no
		// message built for it.
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: lead %q: %w", email, err)
	}
	return tx.Lead(string(id))
}

// LeadsByEmail calls fn with the leads of an email in every program,
// newest first, until fn returns false.
func (tx *Tx) LeadsByEmail(email string, fn func(*Lead) (bool, error)) error {
	prefix := key(iLeadByEmail).str(NormEmail(email))
	return tx.scan(prefix, nil, true, false, func(k []byte, _ *badger.Item) (bool, error) {
		l, err := tx.Lead(string(k[len(k)-IDLen:]))
		if err != nil {
			return false, err
		}
		return fn(l)
	})
}

// Purchases.

func (p *Purchase) derived() []derivedKey {
	t := p.PurchasedAt
	d := []derivedKey{
		uniqueEntry("order_id", orderKey(p.ProgramID, p.OrderID), p.ID),
		indexEntry(key(iPurchaseAll).time(t).id(p.ID)),
		indexEntry(key(iPurchaseByProgram).id(p.ProgramID).time(t).id(p.ID)),
		indexEntry(purchaseStatusKey(p)),
	}
	if p.Email != "" {
		d = append(d, indexEntry(key(iPurchaseByEmail).str(NormEmail(p.Email)).time(t).id(p.ID)))
	}
	if p.AffiliateID != "" {
		d = append(d,
			indexEntry(key(iPurchaseByAffiliate).id(p.AffiliateID).time(t).id(p.ID)),
			indexEntry(key(iPurchaseByAffProgram).id(p.AffiliateID).id(p.ProgramID).time(t).id(p.ID)))
	}
	return append(d, p.searchKeys()...) // search.go
}

// purchaseStatusKey is the purchase's entry in the status index: the
// Purchases list filtered by status alone walks it newest first. Without
// it that filter read the search index, every purchase of each day
// visited, to find the few refunded ones (docs/PERFORMANCE.md, issue 17).
func purchaseStatusKey(p *Purchase) kb {
	return append(key(iPurchaseByStatus), statusByte(p.Status)).time(p.PurchasedAt).id(p.ID)
}

// contribution is what the purchase adds to its day's rollup, times sign.
func (p *Purchase) contribution(sign int64) *Rollup {
	r := &Rollup{Purchases: sign}
	if p.Status == "refunded" {
		r.Refunds = sign
		r.refunded = []RollupMoney{{Currency: p.Currency, Amount: sign * p.Amount, Commission: sign * p.Commission}}
		return r
	}
	// A partly refunded purchase counts what is left as paid.
	share := RefundShare(p.Commission, p.RefundedAmount, p.Amount)
	r.Money = []RollupMoney{{Currency: p.Currency, Amount: sign * (p.Amount - p.RefundedAmount), Commission: sign * (p.Commission - share)}}
	if p.RefundedAmount > 0 {
		r.refunded = []RollupMoney{{Currency: p.Currency, Amount: sign * p.RefundedAmount, Commission: sign * share}}
	}
	return r
}

// InsertPurchase stores a new purchase. The same order id in the same
// program fails with ErrDuplicate.
func (tx *Tx) InsertPurchase(p *Purchase) error {
	if err := tx.putDerived(nil, p.derived()); err != nil {
		return err
	}
	tx.set(purchaseKey(p.ID), p.marshal())
	return tx.addRollup(p.PurchasedAt, p.ProgramID, p.AffiliateID, p.contribution(1))
}

// UpdatePurchase replaces a stored purchase (same id), moving its index
// entries and correcting the rollups (a refund, for example).
func (tx *Tx) UpdatePurchase(p *Purchase) error {
	old, err := tx.Purchase(p.ID)
	if err != nil {
		return err
	}
	if err := tx.putDerived(old.derived(), p.derived()); err != nil {
		return err
	}
	tx.set(purchaseKey(p.ID), p.marshal())
	if err := tx.addRollup(old.PurchasedAt, old.ProgramID, old.AffiliateID, old.contribution(-1)); err != nil {
		return err
	}
	return tx.addRollup(p.PurchasedAt, p.ProgramID, p.AffiliateID, p.contribution(1))
}

// Purchase returns a purchase by id.
func (tx *Tx) Purchase(id string) (*Purchase, error) {
	b, err := tx.get(purchaseKey(id))
	if err != nil {
		return nil, fmt.Errorf("store: purchase %s: %w", id, err)
	}
	var p Purchase
	return &p, p.unmarshal(b)
}

// PurchaseByOrder returns the program's purchase with that order id.
func (tx *Tx) PurchaseByOrder(programID, orderID string) (*Purchase, error) {
	id, err := tx.get(orderKey(programID, orderID))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound // every new order asks: as LeadByEmail
	}
	if err != nil {
		return nil, fmt.Errorf("store: order %q: %w", orderID, err)
	}
	return tx.Purchase(string(id))
}

// Rollups.

// rollupID names one day's rollup of a program and an affiliate.
type rollupID struct {
	day      uint32
	prg, aff string
}

// addRollup adds delta to the day's rollup of the program and affiliate and
// to the tallies kept from it (tally.go). The deltas are summed per rollup
// over the whole batch and written once, just before the batch commits
// (writer.go): a batch of clicks for one affiliate reads and writes its five
// keys once instead of once per click. So a write operation never reads
// rollups or tallies; every read of them is in a View.
func (tx *Tx) addRollup(t time.Time, programID, affiliateID string, delta *Rollup) error {
	if affiliateID == "" {
		affiliateID = NoAffiliate
	}
	id := rollupID{DayNumber(t), programID, affiliateID}
	// An operation touches one or two rollups: a short list, searched.
	for i := range tx.rollups {
		if tx.rollups[i].id == id {
			tx.rollups[i].sum.addDelta(delta)
			return nil
		}
	}
	tx.rollups = append(tx.rollups, rollupDelta{id: id})
	tx.rollups[len(tx.rollups)-1].sum.addDelta(delta)
	return nil
}

// rollupDelta is what one write operation adds to one rollup.
type rollupDelta struct {
	id  rollupID
	sum Rollup
}

// writeRollups applies a batch's summed rollup deltas to the stored rollups
// and tallies, in txn.
// It returns the counter values written (the Tx's buffer), for the
// writer's counter cache once the batch is committed.
func writeRollups(txn *badger.Txn, sums map[rollupID]*Rollup, cache *counterCache) (map[string][]byte, error) {
	tx := &Tx{txn: txn, writable: true, buf: make(map[string][]byte, 5*len(sums)), counters: cache}
	for id, delta := range sums {
		if err := tx.writeRollup(id, delta); err != nil {
			return nil, err
		}
	}
	return tx.buf, tx.flush()
}

func (tx *Tx) writeRollup(id rollupID, delta *Rollup) error {
	k := rollupKey(id.day, id.prg, id.aff)
	var r Rollup
	if err := tx.getCounterDecoded(k, r.unmarshal); err != nil {
		return err
	}
	r.Add(delta)
	if r.Clicks == 0 && r.Leads == 0 && r.Purchases == 0 && r.Refunds == 0 && len(r.Money) == 0 {
		tx.del(k) // nothing left: a reindex would not write this key either
	} else {
		tx.set(k, r.marshal())
	}
	return tx.addTallies(id.day, id.prg, id.aff, delta) // tally.go
}

// Rollups calls fn for every stored rollup of the days from..to (both
// included), in day order. programID filters when not empty.
func (tx *Tx) Rollups(from, to uint32, programID string, fn func(day uint32, programID, affiliateID string, r *Rollup)) error {
	prefix := []byte(pRollup)
	start := key(pRollup).day(from)
	return tx.scan(prefix, start, false, true, func(k []byte, item *badger.Item) (bool, error) {
		rest := k[len(pRollup):]
		if len(rest) != 4+2*IDLen {
			return false, errCorrupt
		}
		day := uint32(rest[0])<<24 | uint32(rest[1])<<16 | uint32(rest[2])<<8 | uint32(rest[3])
		if day > to {
			return false, nil
		}
		prg, aff := string(rest[4:4+IDLen]), string(rest[4+IDLen:])
		if programID != "" && prg != programID {
			return true, nil
		}
		var r Rollup
		if err := item.Value(r.unmarshal); err != nil {
			return false, err
		}
		if aff == NoAffiliate {
			aff = ""
		}
		fn(day, prg, aff, &r)
		return true, nil
	})
}

// RefundShare is the part of total (a commission) that refunds of refunded
// out of amount take back, rounded half-up. It is cumulative: the share of
// each partial refund is RefundShare after it minus RefundShare before it,
// so any sequence of partial refunds takes back exactly total in the end.
func RefundShare(total, refunded, amount int64) int64 {
	if refunded <= 0 || amount <= 0 || total == 0 {
		return 0
	}
	if refunded >= amount {
		return total
	}
	// total*refunded may not fit in 64 bits.
	n := new(big.Int).Mul(big.NewInt(total), big.NewInt(refunded))
	n.Mul(n, big.NewInt(2))
	sign := n.Sign()
	n.Abs(n)
	n.Add(n, big.NewInt(amount))
	n.Quo(n, big.NewInt(2*amount))
	if sign < 0 {
		n.Neg(n)
	}
	return n.Int64()
}

// Client event ids.

// EventReplyTTL is how long the first answer to an event sent with a
// client event id is kept. SpiffyJS drops an undelivered event after three
// days, so a retry always finds its answer; a week leaves room for clocks
// and stragglers while keeping the keys to about a week of tracking.
const EventReplyTTL = 7 * 24 * time.Hour

// Kinds of tracked events, each with its own event id space.
const (
	EventClick = "click"
	EventLead  = "lead"
)

// EventReply is what a tracking event with a client event id was first
// answered: for a click the kept referral, its program and its expiry, for
// a lead the lead's id.
type EventReply struct {
	Record    string    // the kept referral's click id, or the lead's id
	Program   string    // a click's program; "" for a lead
	ExpiresAt time.Time // a click's referral expiry; zero for a lead
}

func (r *EventReply) marshal() []byte {
	e := newEncoder(recordV1, 72)
	e.str(r.Record)
	e.str(r.Program)
	e.time(r.ExpiresAt)
	return e.b
}

func (r *EventReply) unmarshal(b []byte) error {
	d := newDecoder(b)
	r.Record = d.str()
	r.Program = d.str()
	r.ExpiresAt = d.time()
	return d.err
}

// EventReply returns the first answer to the event of that kind and client
// event id, or nil when there is none: no id, never sent, or sent more than
// EventReplyTTL ago.
func (tx *Tx) EventReply(kind, eventID string) (*EventReply, error) {
	if eventID == "" {
		return nil, nil
	}
	b, err := tx.get(eventReplyKey(kind, eventID))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r EventReply
	return &r, r.unmarshal(b)
}

// PutEventReply keeps the first answer to an event for EventReplyTTL (an
// event without an id keeps nothing). It goes into the write that stores
// the event, so a retry finds both or neither.
func (tx *Tx) PutEventReply(kind, eventID string, r *EventReply) {
	if eventID == "" {
		return
	}
	tx.setTTL(eventReplyKey(kind, eventID), r.marshal(), EventReplyTTL)
}
