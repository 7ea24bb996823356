package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/event"
	"github.com/spiffy/spiffy/app/export"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// Payouts (contract §9). A payout pays, in one currency, every affiliate
// whose net approved balance is at least the minimum and above zero; the
// commissions it sums move to processing, then to paid when the merchant
// marks it paid, or back to approved when it is canceled.
//
// Moving thousands of affiliates' commissions does not fit one write, so
// each of the three moves is a step recorded on the payout (Step, and
// StepAfter, the affiliate to resume at): every write moves some
// affiliates' commissions (walking an index in affiliate order), writes
// their items and advances StepAfter together. A step interrupted by a crash is finished by ResumePayouts at
// the next start, before anything else changes money: a payout is either
// absent or complete, never half made.

// PayoutInput is a request to create a payout.
type PayoutInput struct {
	Currency string `json:"currency" form:"currency"`
	Minimum  string `json:"minimum" form:"minimum"`
	Program  string `json:"program" form:"program"`
}

// PayoutView is a payout with its items.
type PayoutView = views.PayoutView

// CreatePayout creates a payout of everything due in a currency (in one
// program, when given). When no one is due it fails with a Conflict,
// nothing_due.
func (a *App) CreatePayout(in PayoutInput) (*PayoutView, error) {
	cur := strings.ToUpper(strings.TrimSpace(in.Currency))
	if cur == "" {
		return nil, Invalid("currency", "invalid_currency", "currency is required")
	}
	if err := validateCurrency("currency", cur); err != nil {
		return nil, err
	}
	var minimum int64
	if strings.TrimSpace(in.Minimum) != "" {
		var err error
		if minimum, err = ParseMoney("minimum", in.Minimum, cur); err != nil {
			return nil, err
		}
		if minimum < 0 {
			return nil, Invalid("minimum", "invalid_minimum", "minimum must not be negative")
		}
	}
	prgID := strings.TrimSpace(in.Program)
	if prgID != "" {
		err := a.db.View(func(tx *store.Tx) error {
			if !store.ValidID(prgID) {
				return errUnknownProgram(prgID)
			}
			_, err := tx.Program(prgID)
			if errors.Is(err, store.ErrNotFound) {
				return errUnknownProgram(prgID)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}

	a.money.Lock()
	defer a.money.Unlock()
	due := false
	err := a.db.View(func(tx *store.Tx) error {
		return tx.Balances(store.BalanceQuery{ProgramID: prgID, Currency: cur}, func(b *store.Balance) bool {
			due = payable(b, minimum)
			return !due
		})
	})
	if err != nil {
		return nil, err
	}
	if !due {
		return nil, Errorf(KindConflict, "nothing_due", "no affiliate has at least %s %s approved and unpaid", money.Format(minimum, cur), cur)
	}
	now := a.Now()
	p := &store.Payout{
		ID: store.NewID(now), Currency: cur, ProgramID: prgID, Minimum: minimum,
		Status: store.PayoutOpen, CreatedAt: now, Step: store.PayoutStepCreate,
	}
	if err := a.db.Update(func(tx *store.Tx) error { return tx.PutPayout(p) }); err != nil {
		return nil, err
	}
	if err := a.finishPayoutStep(p.ID); err != nil {
		return nil, err
	}
	return a.Payout(p.ID)
}

func errUnknownProgram(id string) error {
	return Invalid("program", "unknown_program", "program %q does not exist", id)
}

// payable says whether a balance is due in a payout with this minimum.
func payable(b *store.Balance, minimum int64) bool { return b.Approved > 0 && b.Approved >= minimum }

// MarkPayoutPaid records that the merchant paid an open payout: its
// commissions become paid and each affiliate gets payout.paid.
func (a *App) MarkPayoutPaid(id string) (*PayoutView, error) {
	return a.startPayoutStep(id, store.PayoutStepPay)
}

// CancelPayout gives up an open payout: its commissions are approved again,
// due in the next one.
func (a *App) CancelPayout(id string) (*PayoutView, error) {
	return a.startPayoutStep(id, store.PayoutStepCancel)
}

func (a *App) startPayoutStep(id, step string) (*PayoutView, error) {
	a.money.Lock()
	defer a.money.Unlock()
	err := a.db.Update(func(tx *store.Tx) error {
		p, err := getPayout(tx, id)
		if err != nil {
			return err
		}
		if p.Status != store.PayoutOpen || p.Step != "" {
			return invalidState("only an open payout can be marked paid or canceled; this one is %s", p.Status)
		}
		now := a.Now()
		p.Step, p.StepAfter = step, ""
		if step == store.PayoutStepPay {
			p.Status, p.PaidAt = store.PayoutPaid, now
		} else {
			p.Status, p.CanceledAt = store.PayoutCanceled, now
		}
		return tx.PutPayout(p)
	})
	if err != nil {
		return nil, err
	}
	if err := a.finishPayoutStep(id); err != nil {
		return nil, err
	}
	return a.Payout(id)
}

// ResumePayouts finishes the payout steps a crash interrupted. Start calls
// it before the jobs and the server run.
func (a *App) ResumePayouts() error {
	a.money.Lock()
	defer a.money.Unlock()
	var ids []string
	if err := a.db.View(func(tx *store.Tx) (err error) { ids, err = tx.UnfinishedPayouts(); return }); err != nil {
		return err
	}
	for _, id := range ids {
		if err := a.finishPayoutStep(id); err != nil {
			return fmt.Errorf("app: resume payout %s: %w", id, err)
		}
		a.log.Warn("finished an interrupted payout step", "payout", id)
	}
	return nil
}

// finishPayoutStep runs the payout's step to its end, one write at a time.
// The caller holds a.money.
func (a *App) finishPayoutStep(id string) error {
	for {
		done := false
		err := a.db.Update(func(tx *store.Tx) error {
			p, err := tx.Payout(id)
			if err != nil {
				return err
			}
			done, err = a.payoutStepWrite(tx, p)
			return err
		})
		if err != nil || done {
			return err
		}
	}
}

// payoutStepWrite moves the step's commissions until the write is full,
// walking one index in affiliate order from p.StepAfter (the affiliate to
// resume at), and reports whether the step is complete (then it is
// cleared in this same write). A write stops between two affiliates when
// it can, so most affiliates are finished in one write.
func (a *App) payoutStepWrite(tx *store.Tx, p *store.Payout) (done bool, err error) {
	switch p.Step {
	case "":
		return true, nil
	case store.PayoutStepCreate:
		done, err = a.payoutCreateWrite(tx, p)
	default:
		done, err = a.payoutSettleWrite(tx, p)
	}
	if err != nil {
		return false, err
	}
	if done {
		p.Step, p.StepAfter = "", ""
		if p.Status == store.PayoutOpen && p.ItemCount == 0 {
			p.Status, p.CanceledAt = store.PayoutCanceled, a.Now() // everything due vanished: nothing to pay
		}
	}
	return done, tx.PutPayout(p)
}

// payoutCreateWrite moves approved commissions of payable affiliates to
// processing in the payout, writing each affiliate's item as it goes. An
// affiliate is payable when its balance is (its item exists already when
// a previous write began it).
func (a *App) payoutCreateWrite(tx *store.Tx, p *store.Payout) (done bool, err error) {
	var item *store.PayoutItem // the current affiliate's, nil when it is not paid
	curAff := ""
	flush := func() error {
		if item == nil {
			return nil
		}
		return tx.PutPayoutItem(p, item)
	}
	done = true
	err = tx.ScanApproved(p.Currency, p.StepAfter, func(affID, comID string) (bool, error) {
		if affID != curAff {
			if err := flush(); err != nil {
				return false, err
			}
			if tx.Full() {
				p.StepAfter, done = affID, false
				return false, nil
			}
			curAff, item = affID, nil
			var err error
			if item, err = a.beginPayoutItem(tx, p, affID); err != nil {
				return false, err
			}
		}
		if item == nil {
			return true, nil // not payable: its commissions stay approved
		}
		if tx.Full() {
			p.StepAfter, done = affID, false // resume in this affiliate
			return false, nil
		}
		old, err := tx.Commission(comID)
		if err != nil {
			return false, err
		}
		if p.ProgramID != "" && old.ProgramID != p.ProgramID {
			return true, nil
		}
		c := *old
		c.Status, c.PayoutID = CommissionProcessing, p.ID
		item.Amount += c.Amount
		item.Commissions++
		p.Total += c.Amount
		return true, tx.ReplaceCommission(old, &c)
	})
	if err != nil {
		return false, err
	}
	return done, flush()
}

// beginPayoutItem returns the payout's item for an affiliate: the one a
// previous write began, or a new one when the affiliate's balance is
// payable, or nil.
func (a *App) beginPayoutItem(tx *store.Tx, p *store.Payout, affID string) (*store.PayoutItem, error) {
	it, err := tx.PayoutItem(p.ID, affID)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return it, err
	}
	bal, err := tx.Balance(p.ProgramID, affID, p.Currency)
	if err != nil || !payable(bal, p.Minimum) {
		return nil, err
	}
	af, err := tx.Affiliate(affID)
	if err != nil {
		return nil, err
	}
	p.ItemCount++
	return &store.PayoutItem{PayoutID: p.ID, AffiliateID: affID, Name: af.Name, Email: af.Email,
		Method: af.PayoutMethod, PayoutEmail: af.PayoutEmail}, nil
}

// payoutSettleWrite moves a paid or canceled payout's processing
// commissions to paid (queuing each affiliate's payout.paid once all of its
// are) or back to approved.
func (a *App) payoutSettleWrite(tx *store.Tx, p *store.Payout) (done bool, err error) {
	curAff := ""
	finished := func(aff string) error {
		if aff == "" || p.Step != store.PayoutStepPay {
			return nil
		}
		it, err := tx.PayoutItem(p.ID, aff)
		if err != nil {
			return err
		}
		return a.queuePayoutPaid(tx, p, it)
	}
	done = true
	err = tx.ScanPayout(p.ID, p.StepAfter, func(affID, comID string) (bool, error) {
		if affID != curAff {
			if err := finished(curAff); err != nil {
				return false, err
			}
			curAff = affID
		}
		old, err := tx.Commission(comID)
		if err != nil {
			return false, err
		}
		if old.Status != CommissionProcessing {
			return true, nil // paid by a previous write of this step
		}
		if tx.Full() {
			p.StepAfter, done = affID, false
			return false, nil
		}
		c := *old
		if p.Step == store.PayoutStepPay {
			c.Status, c.PaidAt = CommissionPaid, p.PaidAt
		} else {
			c.Status, c.PayoutID = CommissionApproved, ""
		}
		return true, tx.ReplaceCommission(old, &c)
	})
	if err != nil || !done {
		return done, err
	}
	return true, finished(curAff)
}

func (a *App) queuePayoutPaid(tx *store.Tx, p *store.Payout, it *store.PayoutItem) error {
	err := a.queueEvent(tx, it.AffiliateID, event.PayoutPaid, p.ID, "", func(now time.Time) ([]byte, error) {
		return event.Marshal(event.PayoutPaid, now, event.Payout(p, it))
	})
	if err != nil {
		return err
	}
	return a.queuePayoutPaidMail(tx, p, it)
}

func getPayout(tx *store.Tx, id string) (*store.Payout, error) {
	if !store.ValidID(id) {
		return nil, NotFound("payout_not_found", "payout not found")
	}
	p, err := tx.Payout(id)
	return p, notFoundAs(err, "payout_not_found", "payout")
}

// Payout returns a payout with all its items.
func (a *App) Payout(id string) (*PayoutView, error) {
	return store.Read(a.db, func(tx *store.Tx) (*PayoutView, error) {
		p, err := getPayout(tx, id)
		if err != nil {
			return nil, err
		}
		return views.ReadPayout(tx, p, "")
	})
}

// Payouts lists payouts newest first, with their items; an affiliate's
// scope lists only the payouts that paid it, with only its own item.
func (a *App) Payouts(s Scope, cursor string, limit int) ([]*PayoutView, string, error) {
	aff := ""
	if !s.IsMerchant() {
		if aff = s.AffiliateID(); aff == "" {
			return nil, "", ErrForbidden
		}
	}
	var out []*PayoutView
	var next string
	err := a.db.View(func(tx *store.Tx) (err error) { out, next, err = views.ReadPayouts(tx, aff, cursor, limit); return err })
	return out, next, err
}

// BalanceFilter selects balances; empty fields do not filter.
type BalanceFilter struct {
	Currency, Affiliate, Program string
}

// Balances returns balances per affiliate and currency, by affiliate id,
// from the counters kept on every commission change, never a scan of
// commissions.
func (a *App) Balances(f BalanceFilter) ([]views.BalanceRow, error) {
	q := store.BalanceQuery{Currency: strings.ToUpper(strings.TrimSpace(f.Currency)), AffiliateID: f.Affiliate, ProgramID: f.Program, Names: true}
	if q.Currency != "" {
		if err := validateCurrency("currency", q.Currency); err != nil {
			return nil, err
		}
	}
	for _, id := range []struct{ field, v string }{{"affiliate", f.Affiliate}, {"program", f.Program}} {
		if id.v != "" && !store.ValidID(id.v) {
			return nil, Invalid(id.field, "invalid_"+id.field, "%s is not a valid id", id.field)
		}
	}
	return store.Read(a.db, func(tx *store.Tx) ([]views.BalanceRow, error) { return views.ReadBalances(tx, q) })
}

// PayoutFile prepares a payout's file in a format (export.PayoutGeneric,
// PayoutPayPal or PayoutWise; "" = generic): it fails before anything is
// written when the payout or the format is unknown. The PayPal note says
// who pays (the program, or the site's host name) and which payout.
func (a *App) PayoutFile(id, format string) (*export.PayoutFile, error) {
	if format == "" {
		format = export.PayoutGeneric
	}
	if !slices.Contains(export.PayoutFormats(), format) {
		return nil, Invalid("format", "invalid_format", "format must be generic, paypal or wise")
	}
	return store.Read(a.db, func(tx *store.Tx) (*export.PayoutFile, error) {
		p, err := getPayout(tx, id)
		if err != nil {
			return nil, err
		}
		return export.NewPayoutFile(a.db, p, format, export.PayoutNote(tx.Names().Program(p.ProgramID), a.cfg.BaseURL, p.ID)), nil
	})
}
