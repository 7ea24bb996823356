package views

import (
	"errors"

	"github.com/spiffy/spiffy/store"
)

// Counts and totals for the Leads and Purchases views (read with their
// rows by ReadLeadList and ReadPurchaseList, lists.go), and the detail of
// one lead or purchase with what it links to. Counts come from the tallies
// (store/tally.go) and stay cheap at any size; only an email-prefix filter
// that matches a great many rows is estimated (Count.Exact false), and its
// money totals are then left out rather than read row by row.

// PurchaseReport is the count and money totals of a purchases filter.
type PurchaseReport struct {
	Count store.Count
	// Paid and Refunded are the amount and commission totals per currency
	// of the matching paid and refunded purchases.
	Paid, Refunded []MoneyTotal
	// MoneyKnown is false when an email-prefix filter matched too many
	// purchases to sum their amounts on a page view.
	MoneyKnown bool
}

func newPurchaseReport(t store.PurchaseTotals) PurchaseReport {
	return PurchaseReport{Count: t.Count, Paid: moneyTotals(t.Paid), Refunded: moneyTotals(t.Refunded), MoneyKnown: t.MoneyKnown}
}

// LeadDetail is a lead with the click it came through and the purchase it
// turned into, and the names of its program and affiliate.
type LeadDetail struct {
	Lead          *store.Lead
	Click         *store.Click    // nil when gone or never known
	Purchase      *store.Purchase // nil until the lead buys
	ProgramName   string
	AffiliateName string
}

// ReadLeadDetail returns a lead and what it links to (store.ErrNotFound
// when there is no such lead).
func ReadLeadDetail(tx *store.Tx, id string) (*LeadDetail, error) {
	l, err := tx.Lead(id)
	if err != nil {
		return nil, err
	}
	d := &LeadDetail{Lead: l}
	names := tx.Names()
	d.ProgramName, d.AffiliateName = names.Program(l.ProgramID), names.Affiliate(l.AffiliateID)
	if d.Click, err = optional(tx.Click, l.ReferralID); err != nil {
		return nil, err
	}
	if d.Purchase, err = optional(tx.Purchase, l.PurchaseID); err != nil {
		return nil, err
	}
	return d, nil
}

// PurchaseDetail is a purchase with its click, lead and commissions and
// the names of its program and affiliate.
type PurchaseDetail struct {
	Purchase      *store.Purchase
	Click         *store.Click
	Lead          *store.Lead
	ProgramName   string
	AffiliateName string
	// Commissions are what the purchase earned and any clawbacks of it,
	// oldest first.
	Commissions []*store.Commission
}

// ReadPurchaseDetail returns a purchase and what it links to
// (store.ErrNotFound when there is no such purchase).
func ReadPurchaseDetail(tx *store.Tx, id string) (*PurchaseDetail, error) {
	p, err := tx.Purchase(id)
	if err != nil {
		return nil, err
	}
	d := &PurchaseDetail{Purchase: p}
	names := tx.Names()
	d.ProgramName, d.AffiliateName = names.Program(p.ProgramID), names.Affiliate(p.AffiliateID)
	if d.Click, err = optional(tx.Click, p.ReferralID); err != nil {
		return nil, err
	}
	if d.Lead, err = optional(tx.Lead, p.LeadID); err != nil {
		return nil, err
	}
	if d.Commissions, err = tx.PurchaseCommissions(p.ID); err != nil {
		return nil, err
	}
	return d, nil
}

// optional reads a linked record that may be absent: an empty id or a
// record that is gone gives nil without an error.
func optional[T any](get func(string) (*T, error), id string) (*T, error) {
	if id == "" {
		return nil, nil
	}
	v, err := get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return v, err
}
