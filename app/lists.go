package app

import (
	"github.com/spiffy/spiffy/store"
)

// The merchant's Leads and Purchases pages, each read as one call: a page
// of rows with the names of their program and affiliate, the count (and,
// for purchases, the totals) of everything the filter matches, and the
// cursor of the next page — in one read transaction, so the parts agree.

// LeadRow is a lead with the names of its program and affiliate.
type LeadRow struct {
	*store.Lead
	ProgramName, AffiliateName string
}

// LeadList is one page of the Leads view.
type LeadList struct {
	Rows  []LeadRow
	Count Count
	Next  string // "" on the last page
}

// LeadList validates the filter and reads one page of matching leads,
// newest first, with their count.
func (a *App) LeadList(f ListFilter, cursor string, limit int) (*LeadList, error) {
	q, err := a.LeadQuery(f)
	if err != nil {
		return nil, err
	}
	q.Cursor, q.Limit = cursor, limit
	out := &LeadList{}
	err = a.db.View(func(tx *store.Tx) error {
		leads, next, err := tx.Leads(q)
		if err != nil {
			return err
		}
		if out.Count, err = tx.CountLeads(q); err != nil {
			return err
		}
		names := tx.Names()
		out.Next, out.Rows = next, make([]LeadRow, 0, len(leads))
		for _, l := range leads {
			out.Rows = append(out.Rows, LeadRow{Lead: l, ProgramName: names.Program(l.ProgramID), AffiliateName: names.Affiliate(l.AffiliateID)})
		}
		return nil
	})
	if err != nil {
		return nil, err
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

// PurchaseList validates the filter and reads one page of matching
// purchases, newest purchased_at first, with their count and totals.
func (a *App) PurchaseList(f ListFilter, cursor string, limit int) (*PurchaseList, error) {
	q, err := a.PurchaseQuery(f)
	if err != nil {
		return nil, err
	}
	q.Cursor, q.Limit = cursor, limit
	out := &PurchaseList{}
	err = a.db.View(func(tx *store.Tx) error {
		ps, next, err := tx.Purchases(q)
		if err != nil {
			return err
		}
		t, err := tx.PurchaseTotals(q)
		if err != nil {
			return err
		}
		out.Report = newPurchaseReport(t)
		names := tx.Names()
		out.Next, out.Rows = next, make([]PurchaseRow, 0, len(ps))
		for _, p := range ps {
			out.Rows = append(out.Rows, PurchaseRow{Purchase: p, ProgramName: names.Program(p.ProgramID), AffiliateName: names.Affiliate(p.AffiliateID)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AffiliateRow is an affiliate with the names of the live programs it is
// enrolled in.
type AffiliateRow struct {
	*store.Affiliate
	Programs []string
}

// AffiliateList is the merchant's Affiliates page: the affiliates of one
// status ("" = all) with their programs, and how many there are of each
// status.
type AffiliateList struct {
	Rows     []AffiliateRow
	Total    int            // all affiliates
	ByStatus map[string]int // pending, active, blocked
}

// AffiliateList reads the Affiliates page in one read: affiliates,
// programs and enrolments are each one scan, whatever the number of
// affiliates.
func (a *App) AffiliateList(status string) (*AffiliateList, error) {
	out := &AffiliateList{ByStatus: map[string]int{}}
	err := a.db.View(func(tx *store.Tx) error {
		all, err := tx.Affiliates()
		if err != nil {
			return err
		}
		programs, err := tx.Programs()
		if err != nil {
			return err
		}
		enrollments, err := tx.Enrollments()
		if err != nil {
			return err
		}
		live := make(map[string]string, len(programs))
		for _, p := range programs {
			if p.DeletedAt == nil {
				live[p.ID] = p.Name
			}
		}
		inPrograms := map[string][]string{}
		for _, e := range enrollments {
			if name, ok := live[e.ProgramID]; ok {
				inPrograms[e.AffiliateID] = append(inPrograms[e.AffiliateID], name)
			}
		}
		out.Total = len(all)
		for _, af := range all {
			out.ByStatus[af.Status]++
			if status == "" || af.Status == status {
				out.Rows = append(out.Rows, AffiliateRow{Affiliate: af, Programs: inPrograms[af.ID]})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
