package views

import (
	"net/url"
	"strings"

	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/store"
)

// The merchant's Leads and Purchases pages, each read as one
// call: a page of rows with the names of their program and affiliate, the
// count (and, for purchases, the totals) of everything the filter matches,
// and the cursor of the next page — in one read transaction, so the parts
// agree.

// ListFilter is the parsed form of the list filters every leads and
// purchases view takes: ?program=&affiliate=&from=&to=&q= (and &status= for
// purchases).
//
// q is an email: a complete, valid address matches exactly (compared trimmed
// and case-insensitively, through the email index); anything else matches
// as a prefix of the email ("jane@", "jane@exa").
type ListFilter struct {
	Program   string
	Affiliate string
	From, To  string // UTC dates, both days included
	Q         string
	Status    string // purchases only: paid | refunded
}

// ListFilterFromParams reads the filters from query (or form) values.
func ListFilterFromParams(v url.Values) ListFilter {
	return ListFilter{
		Program:   strings.TrimSpace(v.Get("program")),
		Affiliate: strings.TrimSpace(v.Get("affiliate")),
		From:      strings.TrimSpace(v.Get("from")),
		To:        strings.TrimSpace(v.Get("to")),
		Q:         strings.TrimSpace(v.Get("q")),
		Status:    strings.TrimSpace(v.Get("status")),
	}
}

// LeadRow is a lead with the names of its program and affiliate.
type LeadRow struct {
	*store.Lead
	ProgramName, AffiliateName string
}

// LeadList is one page of the Leads view.
type LeadList struct {
	Rows  []LeadRow
	Count store.Count
	Next  string // "" on the last page
}

// ReadLeadList reads one page of the leads q matches (its cursor and
// limit), newest first, with their count.
func ReadLeadList(tx *store.Tx, q store.LeadQuery) (*LeadList, error) {
	leads, next, count, err := tx.LeadsAndCount(q)
	if err != nil {
		return nil, err
	}
	out := &LeadList{Next: next, Count: count, Rows: make([]LeadRow, 0, len(leads))}
	names := tx.Names()
	for _, l := range leads {
		out.Rows = append(out.Rows, LeadRow{Lead: l, ProgramName: names.Program(l.ProgramID), AffiliateName: names.Affiliate(l.AffiliateID)})
	}
	return out, nil
}

// PurchaseRow is a purchase with the names of its program and affiliate.
type PurchaseRow struct {
	*store.Purchase
	ProgramName, AffiliateName string
}

// PurchaseList is one page of the Purchases view with the totals of all
// that the filter matches.
type PurchaseList struct {
	Rows   []PurchaseRow
	Report PurchaseReport
	Next   string // "" on the last page
}

// ReadPurchaseList reads one page of the purchases q matches, newest
// purchased_at first, with their count and totals.
func ReadPurchaseList(tx *store.Tx, q store.PurchaseQuery) (*PurchaseList, error) {
	ps, next, err := tx.Purchases(q)
	if err != nil {
		return nil, err
	}
	t, err := tx.PurchaseTotals(q)
	if err != nil {
		return nil, err
	}
	out := &PurchaseList{Report: newPurchaseReport(t), Next: next, Rows: make([]PurchaseRow, 0, len(ps))}
	names := tx.Names()
	for _, p := range ps {
		out.Rows = append(out.Rows, PurchaseRow{Purchase: p, ProgramName: names.Program(p.ProgramID), AffiliateName: names.Affiliate(p.AffiliateID)})
	}
	return out, nil
}

// CommissionValue renders a program's stored commission value as the API's
// decimal string: an amount for a flat commission, else a percentage.
func CommissionValue(p *store.Program) string {
	if p.CommissionType == "flat" {
		return money.Format(p.CommissionValue, p.Currency)
	}
	return money.FormatPercent(p.CommissionValue)
}
