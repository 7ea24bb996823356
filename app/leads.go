package app

import (
	"errors"

	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// Listing leads and purchases: the filters shared by the JSON API, the CSV
// exports and the admin pages.

// listCommon validates what leads and purchases filters share. It checks
// that a program or affiliate id names a stored one (deleted programs
// included: their history stays listable); an unknown one is a 400 rather
// than an empty list, so a typo does not look like "no data".
func (a *App) listCommon(f views.ListFilter) (q store.LeadQuery, err error) {
	q.From, q.To, err = check.DateRange(f.From, f.To)
	if err != nil {
		return q, err
	}
	if len(f.Q) > 254 {
		return q, Invalid("q", "invalid_q", "q must be at most 254 characters")
	}
	if f.Q != "" {
		if check.Email("q", f.Q) == nil {
			q.Email = f.Q
		} else {
			q.EmailPrefix = f.Q
		}
	}
	if f.Program == "" && f.Affiliate == "" {
		return q, nil
	}
	err = a.db.View(func(tx *store.Tx) error {
		if err := filterExists("program", f.Program, tx.Program); err != nil {
			return err
		}
		return filterExists("affiliate", f.Affiliate, tx.Affiliate)
	})
	q.ProgramID, q.AffiliateID = f.Program, f.Affiliate
	return q, err
}

// LeadQuery validates a filter and turns it into a store query (without
// cursor and limit, which the caller adds).
func (a *App) LeadQuery(f views.ListFilter) (store.LeadQuery, error) {
	return a.listCommon(f)
}

// PurchaseQuery validates a filter and turns it into a store query; its
// date range applies to purchased_at.
func (a *App) PurchaseQuery(f views.ListFilter) (store.PurchaseQuery, error) {
	if f.Status != "" && f.Status != PurchasePaid && f.Status != PurchaseRefunded {
		return store.PurchaseQuery{}, Invalid("status", "invalid_status", "status must be paid or refunded")
	}
	lq, err := a.listCommon(f)
	if err != nil {
		return store.PurchaseQuery{}, err
	}
	return store.PurchaseQuery{
		ProgramID: lq.ProgramID, AffiliateID: lq.AffiliateID, Email: lq.Email, EmailPrefix: lq.EmailPrefix,
		Status: f.Status, From: lq.From, To: lq.To,
	}, nil
}

// Lead returns a lead by id.
func (a *App) Lead(id string) (*store.Lead, error) {
	if !store.ValidID(id) {
		return nil, NotFound("lead_not_found", "lead not found")
	}
	var l *store.Lead
	err := a.db.View(func(tx *store.Tx) (err error) { l, err = tx.Lead(id); return })
	return l, notFoundAs(err, "lead_not_found", "lead")
}

// filterExists checks that a list or dashboard filter (field "program" or
// "affiliate") names a record that exists: a malformed or unknown id is a
// 400 naming the field. An empty id is no filter.
func filterExists[T any](field, id string, read func(string) (*T, error)) error {
	if id == "" {
		return nil
	}
	unknown := Invalid(field, "unknown_"+field, "%s %q does not exist", field, id)
	if !store.ValidID(id) {
		return unknown
	}
	if _, err := read(id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return unknown
		}
		return err
	}
	return nil
}
