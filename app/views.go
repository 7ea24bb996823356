package app

import (
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/brand"
	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// The merchant's composite pages (package views builds them): each call
// here checks what the page asks for, then reads the whole view in one
// read transaction. The portal's pages are in portal.go, next to the rules
// of who may see them.

// Views reads the views that need no checking.
func (a *App) Views() *views.Reader { return views.NewReader(a.db) }

// SetBrand checks and keeps the owner's brand (Settings → Brand; package brand has the rules).
func (a *App) SetBrand(in brand.Input) error {
	if err := brand.Check(&in); err != nil {
		return err
	}
	return a.db.Update(func(tx *store.Tx) error { return brand.Put(tx, &in, a.Now()) })
}

// DashboardDefaultDays is the range shown when none is chosen.
const DashboardDefaultDays = 30

// DashboardMaxDays bounds a range so one request cannot ask for decades.
const DashboardMaxDays = 731

// DashboardFilter is what the dashboard page takes: ?program=&from=&to=.
type DashboardFilter struct {
	Program string `query:"program" form:"program"`
	From    string `query:"from" form:"from"`
	To      string `query:"to" form:"to"`
}

// DashboardRange parses a dashboard filter's dates: both given, or the last
// DashboardDefaultDays days up to today.
func (a *App) DashboardRange(f DashboardFilter) (from, to time.Time, err error) {
	if f.From == "" && f.To == "" {
		to = a.Now().UTC().Truncate(24 * time.Hour)
		return to.AddDate(0, 0, -(DashboardDefaultDays - 1)), to, nil
	}
	from, end, err := check.DateRange(f.From, f.To)
	if err != nil {
		return from, to, err
	}
	if from.IsZero() {
		return from, to, Invalid("from", "invalid_from", "from is required with to")
	}
	if end.IsZero() {
		end = a.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
		if !end.After(from) {
			return from, to, Invalid("from", "invalid_from", "from must not be in the future")
		}
	}
	to = end.AddDate(0, 0, -1)
	if to.Sub(from) >= DashboardMaxDays*24*time.Hour {
		return from, to, Invalid("to", "invalid_range", "a range can span at most %d days", DashboardMaxDays)
	}
	return from, to, nil
}

// Dashboard computes the dashboard for a range and an optional program.
func (a *App) Dashboard(f DashboardFilter) (*views.Dashboard, error) {
	from, to, err := a.DashboardRange(f)
	if err != nil {
		return nil, err
	}
	return store.Read(a.db, func(tx *store.Tx) (*views.Dashboard, error) {
		if err := filterExists("program", f.Program, tx.Program); err != nil {
			return nil, err
		}
		return views.ReadDashboard(tx, f.Program, from, to, func(p string) bool { return a.cfg.WebhookSecret(p) != "" })
	})
}

// LeadList validates the filter and reads one page of matching leads,
// newest first, with their count.
func (a *App) LeadList(f views.ListFilter, cursor string, limit int) (*views.LeadList, error) {
	q, err := a.LeadQuery(f)
	if err != nil {
		return nil, err
	}
	q.Cursor, q.Limit = cursor, limit
	return store.Read(a.db, func(tx *store.Tx) (*views.LeadList, error) { return views.ReadLeadList(tx, q) })
}

// PurchaseList validates the filter and reads one page of matching
// purchases, newest purchased_at first, with their count and totals.
func (a *App) PurchaseList(f views.ListFilter, cursor string, limit int) (*views.PurchaseList, error) {
	q, err := a.PurchaseQuery(f)
	if err != nil {
		return nil, err
	}
	q.Cursor, q.Limit = cursor, limit
	return store.Read(a.db, func(tx *store.Tx) (*views.PurchaseList, error) { return views.ReadPurchaseList(tx, q) })
}

// LeadDetail returns a lead and what it links to.
func (a *App) LeadDetail(id string) (*views.LeadDetail, error) {
	if !store.ValidID(id) {
		return nil, NotFound("lead_not_found", "lead not found")
	}
	d, err := store.Read(a.db, func(tx *store.Tx) (*views.LeadDetail, error) { return views.ReadLeadDetail(tx, id) })
	return d, notFoundAs(err, "lead_not_found", "lead")
}

// PurchaseDetail returns a purchase and what it links to.
func (a *App) PurchaseDetail(id string) (*views.PurchaseDetail, error) {
	if !store.ValidID(id) {
		return nil, NotFound("purchase_not_found", "purchase not found")
	}
	d, err := store.Read(a.db, func(tx *store.Tx) (*views.PurchaseDetail, error) { return views.ReadPurchaseDetail(tx, id) })
	return d, notFoundAs(err, "purchase_not_found", "purchase")
}

// WebhooksOverview reads the merchant's Webhooks page (q's scope is the
// merchant's, whatever it says). A cursor that is not valid (stale or
// edited by hand) starts from the newest delivery.
func (a *App) WebhooksOverview(q WebhookMessageQuery) (*views.WebhooksOverview, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	return store.Read(a.db, func(tx *store.Tx) (*views.WebhooksOverview, error) {
		return views.ReadWebhooksOverview(tx, q.Status, q.Cursor, q.Limit)
	})
}

// PayoutsPageQuery is what the Payouts page asks for.
type PayoutsPageQuery struct {
	Currency string // only balances in this currency; "" = all
	Page     int    // 1-based page of balances
	// History is the payout history's cursor ("" = the newest).
	History string
}

// PayoutsPage reads the Payouts page in one read transaction.
func (a *App) PayoutsPage(q PayoutsPageQuery) (*views.PayoutsPage, error) {
	cur := strings.ToUpper(strings.TrimSpace(q.Currency))
	if cur != "" {
		if err := validateCurrency("currency", cur); err != nil {
			return nil, err
		}
	}
	return store.Read(a.db, func(tx *store.Tx) (*views.PayoutsPage, error) {
		return views.ReadPayoutsPage(tx, cur, q.Page, q.History)
	})
}

// PayoutDetail reads a payout with the page of its items after the
// affiliate id after.
func (a *App) PayoutDetail(id, after string) (*views.PayoutDetail, error) {
	return store.Read(a.db, func(tx *store.Tx) (*views.PayoutDetail, error) {
		p, err := getPayout(tx, id)
		if err != nil {
			return nil, err
		}
		return views.ReadPayoutDetail(tx, p, after)
	})
}

// CommissionList validates the filter and reads one page of commissions,
// newest first, with names and order ids.
func (a *App) CommissionList(f CommissionFilter, cursor string, limit int) (*views.CommissionList, error) {
	q, err := commissionQuery(f, cursor, limit)
	if err != nil {
		return nil, err
	}
	return store.Read(a.db, func(tx *store.Tx) (*views.CommissionList, error) { return views.ReadCommissionList(tx, q) })
}
