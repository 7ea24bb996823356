package app

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/spiffy/spiffy/store"
)

// The affiliate's money in the portal: the commission of each shared
// purchase on a program page, and the Payouts page (balances, payout
// history, payout details). Like every portal read, each takes the
// affiliate id from the session and scopes every query by it.

// PortalCommission is where a purchase's commission stands, as its
// affiliate sees it.
type PortalCommission struct {
	Status    string    // pending | approved | processing | paid | voided
	Amount    int64     // what it is worth now (lowered by a partial refund while unpaid)
	Currency  string    //
	ApproveAt time.Time // the end of the hold, for a pending one
	PaidAt    time.Time
	// ClawedBack is the total (negative) of the clawbacks a refund after
	// payment added; 0 when none.
	ClawedBack int64
}

// portalPurchaseCommissions sets the commission of each purchase of a
// report page, reading them all in one pass (store.CommissionsOfPurchases).
func portalPurchaseCommissions(tx *store.Tx, rep *PortalReport, affiliateID string) error {
	if len(rep.Purchases) == 0 {
		return nil
	}
	ids := make([]string, len(rep.Purchases))
	for i, p := range rep.Purchases {
		ids[i] = p.id
	}
	coms, err := tx.CommissionsOfPurchases(ids)
	if err != nil {
		return err
	}
	for i := range rep.Purchases {
		p := &rep.Purchases[i]
		var pc *PortalCommission
		var claw int64
		for _, c := range coms[p.id] {
			if c.AffiliateID != affiliateID {
				continue // never another affiliate's money
			}
			if c.Kind == CommissionClawback {
				if c.Status != CommissionVoided {
					claw += c.Amount
				}
				continue
			}
			pc = &PortalCommission{Status: c.Status, Amount: c.Amount, Currency: c.Currency, ApproveAt: c.ApproveAt, PaidAt: c.PaidAt}
		}
		if pc != nil {
			pc.ClawedBack = claw
			p.Earned = pc
		}
	}
	return nil
}

// PortalBalance is the affiliate's money in one currency.
type PortalBalance struct {
	Currency   string
	Pending    int64 // on hold
	Approved   int64 // due in the next payout (net of clawbacks)
	Processing int64 // in a payout not yet paid
	Paid       int64
}

// PortalPayout is one payout as the affiliate sees it: only its own share.
type PortalPayout struct {
	ID          string
	Status      string // open | paid | canceled
	Currency    string
	Amount      int64
	Commissions int64
	Method      string
	PayoutEmail string
	CreatedAt   time.Time
	PaidAt      time.Time
	CanceledAt  time.Time
}

// PortalPayoutsPage is the portal's Payouts page.
type PortalPayoutsPage struct {
	// Method and Email are how the affiliate is paid now.
	Method, Email string
	Balances      []PortalBalance // by currency
	Payouts       []PortalPayout  // newest first
	Next          string          // the history's next cursor
}

// PortalPayouts reads the affiliate's Payouts page: its balances per
// currency (from the counters), a page of the payouts that paid it, with
// its own item only, and its payout details.
func (a *App) PortalPayouts(affiliateID, cursor string) (*PortalPayoutsPage, error) {
	out := &PortalPayoutsPage{}
	err := a.db.View(func(tx *store.Tx) error {
		af, err := getAffiliate(tx, affiliateID)
		if err != nil {
			return err
		}
		if af.Status == StatusBlocked {
			return forbidden("affiliate_blocked", "this account has been blocked")
		}
		out.Method, out.Email = af.PayoutMethod, af.PayoutEmail
		err = tx.Balances(store.BalanceQuery{AffiliateID: af.ID}, func(b *store.Balance) bool {
			out.Balances = append(out.Balances, PortalBalance{Currency: b.Currency, Pending: b.Pending,
				Approved: b.Approved, Processing: b.Processing, Paid: b.Paid})
			return true
		})
		if err != nil {
			return err
		}
		slices.SortFunc(out.Balances, func(x, y PortalBalance) int { return strings.Compare(x.Currency, y.Currency) })
		ps, next, err := tx.Payouts(af.ID, cursor, PayoutHistorySize)
		if err != nil {
			return err
		}
		out.Next = next
		for _, p := range ps {
			it, err := tx.PayoutItem(p.ID, af.ID)
			if err != nil {
				return err
			}
			out.Payouts = append(out.Payouts, PortalPayout{ID: p.ID, Status: p.Status, Currency: p.Currency,
				Amount: it.Amount, Commissions: it.Commissions, Method: it.Method, PayoutEmail: it.PayoutEmail,
				CreatedAt: p.CreatedAt, PaidAt: p.PaidAt, CanceledAt: p.CanceledAt})
		}
		return nil
	})
	if errors.Is(err, store.ErrBadCursor) {
		return nil, Invalid("cursor", "invalid_cursor", "this page link is not valid; go back to the first page")
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
