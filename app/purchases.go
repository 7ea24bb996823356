package app

import (
	"errors"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/app/event"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/app/text"
	"github.com/spiffy/spiffy/store"
)

// Purchase statuses.
const (
	PurchasePaid     = store.PurchasePaid
	PurchaseRefunded = store.PurchaseRefunded

	// PurchaseRenewal is the Kind of a subscription's later payment
	// (a first sale's Kind is PurchaseSale).
	PurchaseSale    = "sale"
	PurchaseRenewal = "renewal"
)

// PurchaseInput is a purchase reported by the merchant's server.
type PurchaseInput struct {
	OrderID     string `json:"order_id"`
	Program     string `json:"program"`
	Email       string `json:"email"`
	Name        string `json:"name"`
	Product     string `json:"product"`
	Amount      string `json:"amount"`       // decimal string, "49.00"
	Currency    string `json:"currency"`     // ISO 4217; required
	Referral    string `json:"referral"`     // the click id SpiffyJS held, optional
	VID         string `json:"vid"`          // the visitor id, optional
	Coupon      string `json:"coupon"`       // a coupon code used at checkout, optional
	PurchasedAt string `json:"purchased_at"` // RFC3339; default now
}

// validate checks and normalises the input. It returns the amount in minor
// units and the purchase time.
func (in *PurchaseInput) validate(now time.Time) (amount int64, at time.Time, err error) {
	in.OrderID = strings.TrimSpace(in.OrderID)
	if err := check.Text("order_id", in.OrderID, true, 200); err != nil {
		return 0, at, err
	}
	in.Email = strings.TrimSpace(in.Email)
	if err := check.Email("email", in.Email); err != nil {
		return 0, at, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := check.Text("name", in.Name, false, 200); err != nil {
		return 0, at, err
	}
	in.Product = strings.TrimSpace(in.Product)
	if err := check.Text("product", in.Product, false, 200); err != nil {
		return 0, at, err
	}
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if in.Currency == "" { // no default: guessing the program's would misstate the money
		return 0, at, Invalid("currency", "invalid_currency", "currency is required, as an ISO 4217 code such as USD")
	}
	if err := validateCurrency("currency", in.Currency); err != nil {
		return 0, at, err
	}
	if strings.TrimSpace(in.Amount) == "" {
		return 0, at, Invalid("amount", "invalid_amount", "amount is required, as a decimal string such as \"49.00\"")
	}
	if amount, err = ParseMoney("amount", in.Amount, in.Currency); err != nil {
		return 0, at, err
	}
	at = now
	if s := strings.TrimSpace(in.PurchasedAt); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil || t.Year() < 1970 || t.Year() > 9999 {
			return 0, at, Invalid("purchased_at", "invalid_purchased_at", "purchased_at must be an RFC3339 time such as 2026-01-31T12:00:00Z")
		}
		at = t.UTC()
	}
	in.Referral = strings.TrimSpace(in.Referral)
	in.VID = text.VisitorID(strings.TrimSpace(in.VID), maxVisitorIDLen)
	in.Coupon = strings.TrimSpace(in.Coupon)
	if len(in.Coupon) > 64 {
		return 0, at, Invalid("coupon", "invalid_coupon", "coupon must be at most 64 characters")
	}
	return amount, at, nil
}

// CreatePurchase records a purchase, attributes it and computes its
// commission, all in one write together with its webhook messages. The
// same order id in the same program again returns the first purchase with
// created false (idempotent).
//
// Attribution, first match wins, every window judged at purchased_at:
//  1. the referral id (a click) of the same program within its cookie window;
//  2. a coupon of an affiliate's enrolment in the program (no window);
//  3. the visitor's clicks in the program, per its attribution rule;
//  4. the program's lead with the same email (leads do not expire);
//  5. none.
//
// A referral, visitor or lead whose affiliate is no longer active (blocked,
// or set back to pending) is skipped as if it did not exist, so a later path
// can still find an active affiliate. When the purchase email is the found
// affiliate's own, the purchase is stored unattributed with SelfReferral.
//
// A flat commission is in the program's currency; a purchase in another
// currency earns no commission (there is no exchange rate to apply) and a
// warning is logged. Percent commissions work in any currency.
func (a *App) CreatePurchase(in PurchaseInput) (pur *store.Purchase, created bool, err error) {
	in.Program = strings.TrimSpace(in.Program)
	if in.Program == "" {
		return nil, false, Invalid("program", "invalid_program", "program is required")
	}
	now := a.Now()
	// The program, the buyer's lead and the attribution are read outside
	// the writer, on the request's goroutine: the writer, which every
	// write waits for, then only checks the order id and writes. At a
	// million leads these reads were most of a purchase's time in the
	// writer (docs/PERFORMANCE.md, issue 17). Bad input is refused before
	// it takes a place in a batch. What the reads found is what a purchase
	// arriving a moment earlier would find: clicks never change, and a
	// lead's attribution never does either. The program and the
	// affiliates come through the accounts cache, as clicks and leads read
	// theirs (read-only).
	var (
		prg    *store.Program
		lead   *store.Lead
		m      *match
		amount int64
		at     time.Time
	)
	rev := a.db.AccountsRevision()
	err = a.db.View(func(tx *store.Tx) error {
		unknown := Invalid("program", "unknown_program", "program %q does not exist", in.Program)
		if !store.ValidID(in.Program) {
			return unknown
		}
		var err error
		cache := a.accounts.Reader(tx, rev)
		prg, err = cache.Program(in.Program)
		if errors.Is(err, store.ErrNotFound) || err == nil && prg.DeletedAt != nil {
			return unknown
		}
		if err != nil {
			return err
		}
		if amount, at, err = in.validate(now); err != nil {
			return err
		}
		if lead, err = tx.LeadByEmail(prg.ID, in.Email); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		m, err = attribute(tx, cache.Affiliate, prg, in.Referral, in.Coupon, in.VID, lead, at)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	err = a.db.Update(func(tx *store.Tx) error {
		// The writer may run this more than once (a retried batch): it only
		// reads its inputs and sets its results.
		pur, created = nil, false
		if first, err := tx.PurchaseByOrder(prg.ID, in.OrderID); err == nil {
			pur = first
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		p := &store.Purchase{
			ID:          store.NewID(now),
			OrderID:     in.OrderID,
			ProgramID:   prg.ID,
			Email:       in.Email,
			Name:        in.Name,
			Product:     in.Product,
			Amount:      amount,
			Currency:    in.Currency,
			Status:      PurchasePaid,
			Kind:        PurchaseSale,
			VisitorID:   in.VID,
			PurchasedAt: at,
			CreatedAt:   now,
		}
		buyer := lead
		if lead != nil && lead.PurchaseID == "" {
			// The lead as it is now: an earlier purchase of this batch, or
			// one since the read, may have become its first.
			var err error
			if buyer, err = tx.Lead(lead.ID); err != nil {
				return err
			}
		}
		pur, created = p, true
		return a.recordPurchase(tx, prg, p, m, buyer)
	})
	if err != nil {
		return nil, false, err
	}
	return pur, created, nil
}

// recordPurchase stores a new purchase credited to m (nil: unattributed)
// with its commission, its link to the buyer's lead and its
// purchase.created event, in the caller's write. When the buyer is the
// affiliate itself it is stored unattributed with SelfReferral. lead, the
// buyer's lead or nil, gets the purchase as its first when it has none: it
// must then be the lead as read in tx.
func (a *App) recordPurchase(tx *store.Tx, prg *store.Program, p *store.Purchase, m *match, lead *store.Lead) error {
	if m != nil {
		if p.Email != "" && store.NormEmail(m.affiliate.Email) == store.NormEmail(p.Email) {
			p.SelfReferral = true
		} else {
			p.AffiliateID, p.ReferralID, p.Code, p.SubID = m.affiliate.ID, m.referralID, m.code, m.subID
			var ok bool
			if p.Commission, ok = CommissionFor(prg, p.Amount, p.Currency); !ok {
				a.log.Warn("purchase currency differs from the program's flat commission currency; commission is 0",
					"program", prg.ID, "order_id", p.OrderID, "currency", p.Currency, "program_currency", prg.Currency)
			}
		}
	}
	if lead != nil {
		p.LeadID = lead.ID
	}
	if err := tx.InsertPurchase(p); err != nil {
		return err
	}
	if p.AffiliateID != "" {
		// A new commission: there is no stored version to read first.
		if err := tx.ReplaceCommission(nil, NewCommission(prg, p)); err != nil {
			return err
		}
	}
	if lead != nil && lead.PurchaseID == "" {
		tx.LinkLeadPurchase(lead, p.ID)
	}
	return a.queuePurchaseEvent(tx, prg, p, event.PurchaseCreated)
}

// match is the referral a purchase is credited to.
type match struct {
	affiliate  *store.Affiliate
	referralID string // the click, when there was one
	code       string
	subID      string
}

// attribute walks the attribution paths (see CreatePurchase) and returns the
// first match, or nil. Affiliates come from affiliate (the accounts cache's
// reader: read-only records), the rest from tx.
func attribute(tx *store.Tx, affiliate func(id string) (*store.Affiliate, error), p *store.Program, referral, coupon, vid string, lead *store.Lead, at time.Time) (*match, error) {
	affs := map[string]*store.Affiliate{}
	active := func(id string) (*store.Affiliate, error) {
		if af, ok := affs[id]; ok {
			return af, nil
		}
		af, err := affiliate(id)
		if errors.Is(err, store.ErrNotFound) {
			affs[id] = nil
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if !attributable(af) {
			af = nil
		}
		affs[id] = af
		return af, nil
	}
	fromClick := func(c *store.Click, af *store.Affiliate) *match {
		return &match{affiliate: af, referralID: c.ID, code: c.Code, subID: c.SubID}
	}

	// 1. The referral the checkout passed along.
	if store.ValidID(referral) {
		c, err := tx.Click(referral)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if err == nil && c.ProgramID == p.ID && inWindow(p, c, at) {
			af, err := active(c.AffiliateID)
			if err != nil {
				return nil, err
			}
			if af != nil {
				return fromClick(c, af), nil
			}
		}
	}

	// 2. A coupon of an enrolment in this program: any time, no window.
	if coupon != "" {
		e, err := tx.EnrollmentByCoupon(coupon)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if err == nil && e.ProgramID == p.ID {
			af, err := active(e.AffiliateID)
			if err != nil {
				return nil, err
			}
			if af != nil {
				return &match{affiliate: af, code: e.Code}, nil
			}
		}
	}

	// 3. The visitor's clicks, newest first: last_click takes the first
	// valid one, first_click the last (oldest) one still in its window.
	if vid != "" {
		var (
			found   *store.Click
			foundAf *store.Affiliate
			err     error
		)
		scanErr := tx.VisitorClicks(p.ID, vid, at, func(c *store.Click) bool {
			if !inWindow(p, c, at) {
				return false // older clicks are out of the window too
			}
			var af *store.Affiliate
			if af, err = active(c.AffiliateID); err != nil {
				return false
			}
			if af != nil {
				found, foundAf = c, af
				if p.Attribution != AttributionFirst {
					return false
				}
			}
			return true
		})
		if scanErr != nil {
			return nil, scanErr
		}
		if err != nil {
			return nil, err
		}
		if found != nil {
			return fromClick(found, foundAf), nil
		}
	}

	// 4. A lead with the same email.
	if lead != nil && lead.AffiliateID != "" {
		af, err := active(lead.AffiliateID)
		if err != nil {
			return nil, err
		}
		if af != nil {
			return &match{affiliate: af, referralID: lead.ReferralID, code: lead.Code, subID: lead.SubID}, nil
		}
	}
	return nil, nil
}

// Purchase returns a purchase by id.
func (a *App) Purchase(id string) (*store.Purchase, error) {
	return store.Read(a.db, func(tx *store.Tx) (*store.Purchase, error) { return getPurchase(tx, id) })
}

func getPurchase(tx *store.Tx, id string) (*store.Purchase, error) {
	if !store.ValidID(id) {
		return nil, NotFound("purchase_not_found", "purchase not found")
	}
	p, err := tx.Purchase(id)
	return p, notFoundAs(err, "purchase_not_found", "purchase")
}

// RefundPurchase refunds amount (a decimal string; "" = all that is left)
// of a purchase. The purchase keeps how much was refunded and becomes
// "refunded" once all of it was; its commissions lose the refunded share
// (refundCommissions), and purchase.refunded is queued, all in one write.
// Refunding a fully refunded purchase with no amount changes nothing.
func (a *App) RefundPurchase(id, amount string) (*store.Purchase, error) {
	a.money.Lock()
	defer a.money.Unlock()
	var out *store.Purchase
	err := a.db.Update(func(tx *store.Tx) error {
		p, err := getPurchase(tx, id)
		if err != nil {
			return err
		}
		out = p
		left := p.Amount - p.RefundedAmount
		refund := left
		if strings.TrimSpace(amount) != "" {
			if refund, err = ParseMoney("amount", amount, p.Currency); err != nil {
				return err
			}
			if refund <= 0 {
				return Invalid("amount", "invalid_amount", "amount must be more than zero")
			}
			if refund > left {
				return Invalid("amount", "invalid_amount", "amount is more than the %s left to refund", money.Format(left, p.Currency))
			}
		}
		return a.refund(tx, p, refund)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// refund takes amount (0 < amount <= what is left) back on a purchase in
// the caller's write: the purchase's refunded total, its commissions
// (refundCommissions) and purchase.refunded. The caller holds a.money.
func (a *App) refund(tx *store.Tx, p *store.Purchase, amount int64) error {
	if amount <= 0 {
		return nil
	}
	prg, err := tx.Program(p.ProgramID)
	if err != nil {
		return err
	}
	before := p.RefundedAmount
	p.RefundedAmount += amount
	p.RefundedAt = a.Now()
	if p.RefundedAmount >= p.Amount {
		p.RefundedAmount, p.Status = p.Amount, PurchaseRefunded
	}
	if err := tx.UpdatePurchase(p); err != nil {
		return err
	}
	if err := refundCommissions(tx, p, before, p.RefundedAmount, a.Now()); err != nil {
		return err
	}
	return a.queuePurchaseEvent(tx, prg, p, event.PurchaseRefunded)
}
