package app

import (
	"context"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/store"
)

// Commissions (contract §9): every attributed purchase earns one, held
// pending through the program's hold period, then approved (by the
// approval job or the merchant), paid through a payout, or voided. Refunds
// void the refunded share of an unpaid commission and claw back the share
// of one already in a payout.
//
// Every change of approved, processing or paid money takes a.money, so a
// payout being built sees no other change to the balances it sums. Pending
// commissions of new purchases do not take it: the purchase path stays as
// it was.

// Commission statuses and kinds.
const (
	CommissionPending    = store.CommissionPending
	CommissionApproved   = store.CommissionApproved
	CommissionProcessing = store.CommissionProcessing
	CommissionPaid       = store.CommissionPaid
	CommissionVoided     = store.CommissionVoided

	CommissionSale     = store.CommissionSale
	CommissionRenewal  = store.CommissionRenewal
	CommissionClawback = store.CommissionClawback
)

// Payout methods.
const (
	PayoutPayPal = "paypal"
	PayoutWise   = "wise"
)

// invalidState refuses a change the record's status does not allow.
func invalidState(format string, args ...any) error {
	return Errorf(KindConflict, "invalid_state", format, args...)
}

// NewCommission is what an attributed purchase earns: pending until the
// program's hold period after the sale has passed (voided when the purchase
// is refunded already, as a demo's may be).
func NewCommission(prg *store.Program, p *store.Purchase) *store.Commission {
	kind := CommissionSale
	if p.Kind == PurchaseRenewal {
		kind = CommissionRenewal
	}
	c := &store.Commission{
		ID: store.NewID(p.CreatedAt), PurchaseID: p.ID, ProgramID: p.ProgramID, AffiliateID: p.AffiliateID,
		Kind: kind, Amount: p.Commission, Currency: p.Currency, Status: CommissionPending,
		ApproveAt: p.PurchasedAt.AddDate(0, 0, prg.HoldDays), CreatedAt: p.CreatedAt,
	}
	if p.Status == PurchaseRefunded {
		c.Status = CommissionVoided
	}
	return c
}

// Commission returns a commission by id.
func (a *App) Commission(id string) (*store.Commission, error) {
	return store.Read(a.db, func(tx *store.Tx) (*store.Commission, error) { return getCommission(tx, id) })
}

func getCommission(tx *store.Tx, id string) (*store.Commission, error) {
	if !store.ValidID(id) {
		return nil, NotFound("commission_not_found", "commission not found")
	}
	c, err := tx.Commission(id)
	return c, notFoundAs(err, "commission_not_found", "commission")
}

// CommissionFilter is the commission list's query, as the API takes it.
type CommissionFilter struct {
	Program, Affiliate, Status, Purchase string
	From, To                             string // UTC dates, both included, on created_at
}

// Commissions lists commissions newest first.
func (a *App) Commissions(f CommissionFilter, cursor string, limit int) ([]*store.Commission, string, error) {
	q, err := commissionQuery(f, cursor, limit)
	if err != nil {
		return nil, "", err
	}
	var out []*store.Commission
	var next string
	err = a.db.View(func(tx *store.Tx) (err error) { out, next, err = tx.Commissions(q); return err })
	return out, next, err
}

// commissionQuery validates a commission filter and turns it into a store
// query.
func commissionQuery(f CommissionFilter, cursor string, limit int) (store.CommissionQuery, error) {
	q := store.CommissionQuery{ProgramID: f.Program, AffiliateID: f.Affiliate, Status: f.Status, PurchaseID: f.Purchase, Cursor: cursor, Limit: limit}
	switch f.Status {
	case "", CommissionPending, CommissionApproved, CommissionProcessing, CommissionPaid, CommissionVoided:
	default:
		return q, Invalid("status", "invalid_status", "status must be pending, approved, processing, paid or voided")
	}
	for _, id := range []struct{ field, v string }{{"program", f.Program}, {"affiliate", f.Affiliate}, {"purchase", f.Purchase}} {
		if id.v != "" && !store.ValidID(id.v) {
			return q, Invalid(id.field, "invalid_"+id.field, "%s is not a valid id", id.field)
		}
	}
	var err error
	q.From, q.To, err = check.DateRange(f.From, f.To)
	return q, err
}

// ApproveCommission approves a pending commission now, before its hold
// period ends.
func (a *App) ApproveCommission(id string) (*store.Commission, error) {
	return a.changeCommission(id, func(c *store.Commission) error {
		if c.Status != CommissionPending {
			return invalidState("only a pending commission can be approved; this one is %s", c.Status)
		}
		c.Status = CommissionApproved
		return nil
	})
}

// VoidCommission voids a pending or approved commission: it will not be paid.
func (a *App) VoidCommission(id string) (*store.Commission, error) {
	return a.changeCommission(id, func(c *store.Commission) error {
		if c.Status != CommissionPending && c.Status != CommissionApproved {
			return invalidState("only a pending or approved commission can be voided; this one is %s", c.Status)
		}
		c.Status = CommissionVoided
		return nil
	})
}

func (a *App) changeCommission(id string, change func(*store.Commission) error) (*store.Commission, error) {
	a.money.Lock()
	defer a.money.Unlock()
	var out *store.Commission
	err := a.db.Update(func(tx *store.Tx) error {
		c, err := getCommission(tx, id)
		if err != nil {
			return err
		}
		if err := change(c); err != nil {
			return err
		}
		out = c
		return tx.PutCommission(c)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// approveBatch is how many commissions one approval write moves.
const approveBatch = 500

// ApproveDueCommissions approves every pending commission whose hold period
// has ended, in batches; it is the approve_commissions job. It returns how
// many it approved.
func (a *App) ApproveDueCommissions(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, err := a.approveDue(a.Now())
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, ctx.Err()
}

func (a *App) approveDue(now time.Time) (int, error) {
	a.money.Lock()
	defer a.money.Unlock()
	n := 0
	err := a.db.Update(func(tx *store.Tx) error {
		n = 0
		due, err := tx.DueCommissions(now, approveBatch)
		if err != nil {
			return err
		}
		for _, c := range due {
			if tx.Full() {
				break
			}
			c.Status = CommissionApproved
			if err := tx.PutCommission(c); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// refundCommissions applies a refund of the purchase (refunded so far:
// before, then after) to its commissions: the refunded share of a pending
// or approved one is voided (its amount lowered, or the whole voided), and
// for one already processing or paid a clawback of the share is added,
// approved at once, so the next payout nets it.
func refundCommissions(tx *store.Tx, p *store.Purchase, before, after int64, now time.Time) error {
	coms, err := tx.PurchaseCommissions(p.ID)
	if err != nil {
		return err
	}
	for _, c := range coms {
		if c.Kind == CommissionClawback {
			continue
		}
		share := store.RefundShare(p.Commission, after, p.Amount) - store.RefundShare(p.Commission, before, p.Amount)
		if share == 0 {
			continue
		}
		switch c.Status {
		case CommissionPending, CommissionApproved:
			if after >= p.Amount || share >= c.Amount {
				c.Status = CommissionVoided
			} else {
				c.Amount -= share
			}
			if err := tx.PutCommission(c); err != nil {
				return err
			}
		case CommissionProcessing, CommissionPaid:
			claw := &store.Commission{
				ID: store.NewID(now), PurchaseID: p.ID, ProgramID: c.ProgramID, AffiliateID: c.AffiliateID,
				Kind: CommissionClawback, Amount: -share, Currency: c.Currency, Status: CommissionApproved,
				ApproveAt: now, CreatedAt: now, ClawbackOf: c.ID,
			}
			if err := tx.PutCommission(claw); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyPayoutDetails validates and sets how an affiliate is paid. A method
// needs an email to pay; clearing the method keeps nothing.
func applyPayoutDetails(af *store.Affiliate, method, email *string) error {
	if method == nil && email == nil {
		return nil
	}
	if method != nil {
		m := strings.ToLower(strings.TrimSpace(*method))
		if m != "" && m != PayoutPayPal && m != PayoutWise {
			return Invalid("payout_method", "invalid_payout_method", "payout method must be paypal or wise")
		}
		af.PayoutMethod = m
	}
	if email != nil {
		af.PayoutEmail = strings.TrimSpace(*email)
	}
	if af.PayoutEmail != "" {
		if err := check.Email("payout_email", af.PayoutEmail); err != nil {
			return err
		}
	}
	if af.PayoutMethod != "" && af.PayoutEmail == "" {
		return Invalid("payout_email", "invalid_email", "payout email is required to be paid by %s", af.PayoutMethod)
	}
	return nil
}

// SetPayoutDetails is the affiliate's own change of how it is paid (the
// portal's payout form): method "paypal", "wise" or "" and the email paid.
func (a *App) SetPayoutDetails(affiliateID, method, email string) (*store.Affiliate, error) {
	return a.UpdateAffiliate(affiliateID, AffiliateInput{PayoutMethod: &method, PayoutEmail: &email})
}
