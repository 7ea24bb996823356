package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Payouts: a payout and its items (one per affiliate paid). A payout over
// thousands of affiliates moves more commissions than one transaction can
// hold, so the app moves them in steps; Payout.Step records the step still
// to finish and where it stopped, so a restart completes it.

// Payout statuses.
const (
	PayoutOpen     = "open"
	PayoutPaid     = "paid"
	PayoutCanceled = "canceled"
)

// Payout is one batch payment in one currency.
type Payout struct {
	ID         string    `json:"id"`
	Currency   string    `json:"currency"`
	ProgramID  string    `json:"program_id,omitempty"`
	Minimum    int64     `json:"minimum"`
	Status     string    `json:"status"`
	Total      int64     `json:"total"`
	ItemCount  int       `json:"item_count"`
	CreatedAt  time.Time `json:"created_at"`
	PaidAt     time.Time `json:"paid_at,omitzero"`
	CanceledAt time.Time `json:"canceled_at,omitzero"`
	// Step is the unfinished step that moves the payout's commissions
	// (PayoutStepCreate, …; "" when none), StepAfter the affiliate it
	// resumes at.
	Step      string `json:"step,omitempty"`
	StepAfter string `json:"step_after,omitempty"`
}

// Payout steps: what an unfinished payout still has to do to its items'
// commissions.
const (
	PayoutStepCreate = "create" // approved -> processing
	PayoutStepPay    = "pay"    // processing -> paid
	PayoutStepCancel = "cancel" // processing -> approved
)

// PayoutItem is one affiliate's share of a payout, with the details it is
// paid by, copied when the payout was made.
type PayoutItem struct {
	PayoutID    string
	AffiliateID string
	Name        string
	Email       string
	Method      string
	PayoutEmail string
	Amount      int64
	Commissions int64 // how many commissions it sums
}

func init() {
	reindexers = append(reindexers, reindexer{kind: "payout", prefix: pPayout, derive: func(tx *Tx, v []byte) ([]derivedKey, error) {
		var p Payout
		if err := json.Unmarshal(v, &p); err != nil {
			return nil, err
		}
		return p.derived(), nil
	}}, reindexer{kind: "payout item", prefix: pPayoutItem, derive: func(tx *Tx, v []byte) ([]derivedKey, error) {
		var it PayoutItem
		if err := it.unmarshal(v); err != nil {
			return nil, err
		}
		p, err := tx.Payout(it.PayoutID)
		if err != nil {
			return nil, err
		}
		return it.derived(p), nil
	}})
}

func (p *Payout) derived() []derivedKey {
	d := []derivedKey{indexEntry(key(iPayoutAll).time(p.CreatedAt).id(p.ID))}
	if p.Step != "" {
		d = append(d, indexEntry(key(iPayoutStep).id(p.ID)))
	}
	return d
}

func (it *PayoutItem) derived(p *Payout) []derivedKey {
	return []derivedKey{indexEntry(key(iPayoutByAffiliate).id(it.AffiliateID).time(p.CreatedAt).id(p.ID))}
}

func payoutItemKey(payout, aff string) []byte { return key(pPayoutItem).id(payout).id(aff) }

// PutPayout stores a new or changed payout.
func (tx *Tx) PutPayout(p *Payout) error {
	var oldKeys []derivedKey
	if old, err := tx.Payout(p.ID); err == nil {
		oldKeys = old.derived()
	} else if !isNotFound(err) {
		return err
	}
	if err := tx.putDerived(oldKeys, p.derived()); err != nil {
		return err
	}
	return tx.setJSON(payoutKey(p.ID), p)
}

// Payout returns a payout by id.
func (tx *Tx) Payout(id string) (*Payout, error) {
	var p Payout
	if err := tx.getJSON(payoutKey(id), &p); err != nil {
		return nil, fmt.Errorf("store: payout %s: %w", id, err)
	}
	return &p, nil
}

// PutPayoutItem stores or replaces an item of a stored payout.
func (tx *Tx) PutPayoutItem(p *Payout, it *PayoutItem) error {
	if err := tx.putDerived(nil, it.derived(p)); err != nil {
		return err
	}
	tx.set(payoutItemKey(it.PayoutID, it.AffiliateID), it.marshal())
	return nil
}

// DeletePayoutItem removes an item (one that ended up with nothing to pay).
func (tx *Tx) DeletePayoutItem(p *Payout, it *PayoutItem) {
	for _, d := range it.derived(p) {
		tx.del(d.k)
	}
	tx.del(payoutItemKey(it.PayoutID, it.AffiliateID))
}

// PayoutItems calls fn with the payout's items in affiliate id order,
// starting after the affiliate id `after` ("" = from the first), until fn
// returns false.
func (tx *Tx) PayoutItems(payoutID, after string, fn func(*PayoutItem) (bool, error)) error {
	prefix := key(pPayoutItem).id(payoutID)
	var start []byte
	if after != "" {
		start = append(kb(prefix).id(after), 0)
	}
	return tx.scan(prefix, start, false, true, func(_ []byte, item *badger.Item) (bool, error) {
		var it PayoutItem
		if err := item.Value(it.unmarshal); err != nil {
			return false, err
		}
		return fn(&it)
	})
}

// PayoutItem returns one affiliate's item of a payout.
func (tx *Tx) PayoutItem(payoutID, affiliateID string) (*PayoutItem, error) {
	b, err := tx.get(payoutItemKey(payoutID, affiliateID))
	if err != nil {
		return nil, fmt.Errorf("store: payout %s item %s: %w", payoutID, affiliateID, err)
	}
	var it PayoutItem
	return &it, it.unmarshal(b)
}

// Payouts lists payouts newest first; affiliateID, when set, keeps those
// that pay that affiliate.
func (tx *Tx) Payouts(affiliateID, cursor string, limit int) ([]*Payout, string, error) {
	prefix := key(iPayoutAll)
	if affiliateID != "" {
		prefix = key(iPayoutByAffiliate).id(affiliateID)
	}
	var out []*Payout
	next, err := tx.scanIndexPage(prefix, time.Time{}, time.Time{}, cursor, limitOf(limit), func(id string) (bool, error) {
		p, err := tx.Payout(id)
		if err != nil {
			return false, err
		}
		out = append(out, p)
		return true, nil
	})
	return out, next, err
}

// UnfinishedPayouts returns the ids of payouts with a step still to finish.
func (tx *Tx) UnfinishedPayouts() ([]string, error) {
	prefix := []byte(iPayoutStep)
	var ids []string
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		ids = append(ids, string(k[len(prefix):]))
		return true, nil
	})
	return ids, err
}

func (it *PayoutItem) marshal() []byte {
	e := newEncoder(recordV1, 128)
	e.str(it.PayoutID)
	e.str(it.AffiliateID)
	e.str(it.Name)
	e.str(it.Email)
	e.str(it.Method)
	e.str(it.PayoutEmail)
	e.int(it.Amount)
	e.int(it.Commissions)
	return e.b
}

func (it *PayoutItem) unmarshal(b []byte) error {
	d := newDecoder(b)
	it.PayoutID = d.str()
	it.AffiliateID = d.str()
	it.Name = d.str()
	it.Email = d.str()
	it.Method = d.str()
	it.PayoutEmail = d.str()
	it.Amount = d.int()
	it.Commissions = d.int()
	return d.err
}
