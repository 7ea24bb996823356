package views

import (
	"errors"
	"slices"
	"strings"

	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/store"
)

// The merchant's Affiliates pages at any number of affiliates: the list
// (search, status, keyset pages), a program's enrolled affiliates, the
// affiliate picker's suggestions and an affiliate's results and balances.
// Every figure comes from keys kept on write (store/affiliate_search.go,
// the balance counters): a page reads a few keys per row, never events.

// Results are an affiliate's totals of all time, in one program or all.
type Results struct {
	Clicks, Leads, Purchases int64
	// Money is per currency: Amount the revenue of paid purchases,
	// Commission what they earned the affiliate.
	Money []MoneyTotal
}

func newResults(ts map[string]*store.Tally) Results {
	var sum store.Tally
	for _, t := range ts {
		sum.Add(t)
	}
	return Results{Clicks: sum.Clicks, Leads: sum.Leads, Purchases: sum.Purchases, Money: moneyTotals(sum.Paid)}
}

// Due is commission not yet paid in one currency, as decimal strings:
// Total is pending plus approved (approved is net of clawbacks).
type Due struct {
	Currency                 string
	Total, Pending, Approved string
}

// BalanceView is an affiliate's balance in one currency, as decimal strings.
type BalanceView struct {
	Currency                            string
	Pending, Approved, Processing, Paid string
}

// AffiliateRow is one row of the Affiliates page or of a program's
// affiliates.
type AffiliateRow struct {
	*store.Affiliate
	Programs   []string          // names of the live programs it is in
	Enrollment *store.Enrollment // in the program, for a program's table
	Results    Results
	Due        []Due
}

// AffiliatesPage is one page of affiliates, newest first.
type AffiliatesPage struct {
	Rows       []AffiliateRow
	Prev, Next string // cursors of the pages around ("" = none)
	// Total is how many affiliates there are (in the program, for a
	// program's table), All how many in all, ByStatus of each status.
	Total, All int64
	ByStatus   map[string]int64
}

// AffiliateQuery selects a page of affiliates (store.AffiliatePageQuery).
type AffiliateQuery = store.AffiliatePageQuery

// AffiliatesPage reads one page of the affiliates q selects with each
// one's programs, results of all time and commission due (in q's program
// when it names one), in one read. The caller has checked q's cursors.
func (r *Reader) AffiliatesPage(q store.AffiliatePageQuery) (*AffiliatesPage, error) {
	return store.Read(r.db, func(tx *store.Tx) (*AffiliatesPage, error) {
		page, err := tx.AffiliatePage(q)
		if err != nil {
			return nil, err
		}
		out := &AffiliatesPage{Prev: page.Prev, Next: page.Next, Rows: make([]AffiliateRow, 0, len(page.IDs))}
		if out.ByStatus, err = tx.AffiliateStatusCounts(); err != nil {
			return nil, err
		}
		for _, n := range out.ByStatus {
			out.All += n
		}
		out.Total = out.All
		if q.ProgramID != "" {
			if out.Total, err = tx.ProgramEnrolledCount(q.ProgramID); err != nil {
				return nil, err
			}
		}
		live, err := liveProgramNames(tx)
		if err != nil {
			return nil, err
		}
		for _, id := range page.IDs {
			row, err := readAffiliateRow(tx, id, q.ProgramID, live)
			if err != nil {
				return nil, err
			}
			out.Rows = append(out.Rows, row)
		}
		return out, nil
	})
}

// liveProgramNames maps the live programs' ids to their names.
func liveProgramNames(tx *store.Tx) (map[string]string, error) {
	ps, err := tx.Programs()
	live := make(map[string]string, len(ps))
	for _, p := range ps {
		if p.DeletedAt == nil {
			live[p.ID] = p.Name
		}
	}
	return live, err
}

func readAffiliateRow(tx *store.Tx, id, programID string, live map[string]string) (AffiliateRow, error) {
	a, err := tx.Affiliate(id)
	if err != nil {
		return AffiliateRow{}, err
	}
	row := AffiliateRow{Affiliate: a}
	if programID != "" {
		if row.Enrollment, err = tx.Enrollment(programID, id); err != nil {
			return row, err
		}
	} else {
		programs, err := tx.AffiliateProgramIDs(id)
		if err != nil {
			return row, err
		}
		for _, p := range programs {
			if name, ok := live[p]; ok {
				row.Programs = append(row.Programs, name)
			}
		}
	}
	ts, err := tx.AffiliateResults(id, programID)
	if err != nil {
		return row, err
	}
	row.Results = newResults(ts)
	err = tx.Balances(store.BalanceQuery{AffiliateID: id, ProgramID: programID}, func(b *store.Balance) bool {
		if b.Pending != 0 || b.Approved != 0 {
			row.Due = append(row.Due, Due{Currency: b.Currency, Total: money.Format(b.Pending+b.Approved, b.Currency),
				Pending: money.Format(b.Pending, b.Currency), Approved: money.Format(b.Approved, b.Currency)})
		}
		return true
	})
	return row, err
}

// Suggestion is one affiliate offered by the affiliate picker.
type Suggestion struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Code  string `json:"code,omitempty"` // a referral code, when enrolled
}

// SuggestAffiliates returns up to limit affiliates whose name, email or
// referral code starts with q, newest first.
func (r *Reader) SuggestAffiliates(q string, limit int) ([]Suggestion, error) {
	return store.Read(r.db, func(tx *store.Tx) ([]Suggestion, error) {
		page, err := tx.AffiliatePage(store.AffiliatePageQuery{Q: q, Limit: limit})
		if err != nil {
			return nil, err
		}
		out := make([]Suggestion, 0, len(page.IDs))
		for _, id := range page.IDs {
			a, err := tx.Affiliate(id)
			if err != nil {
				return nil, err
			}
			s := Suggestion{ID: a.ID, Name: a.Name, Email: a.Email}
			es, err := tx.AffiliateEnrollments(id)
			if err != nil {
				return nil, err
			}
			if len(es) > 0 {
				s.Code = es[0].Code
			}
			out = append(out, s)
		}
		return out, nil
	})
}

// FindAffiliate resolves what someone typed in an affiliate field: an id,
// an email, a referral code, or else text that one affiliate alone
// matches as a search. store.ErrNotFound when nothing (or several) match.
func (r *Reader) FindAffiliate(text string) (*store.Affiliate, error) {
	return store.Read(r.db, func(tx *store.Tx) (*store.Affiliate, error) {
		a, err := tx.FindAffiliate(text)
		if !errors.Is(err, store.ErrNotFound) {
			return a, err
		}
		page, err := tx.AffiliatePage(store.AffiliatePageQuery{Q: text, Limit: 2})
		if err != nil {
			return nil, err
		}
		if len(page.IDs) != 1 {
			return nil, store.ErrNotFound
		}
		return tx.Affiliate(page.IDs[0])
	})
}

// ProgramResults is an affiliate's results in one program.
type ProgramResults struct {
	ProgramID, Name string
	Results
}

// AffiliateOverview is what an affiliate's page shows besides its
// settings: results of all time in each program and over all, and the
// balances per currency.
type AffiliateOverview struct {
	Total     Results
	Programs  []ProgramResults // programs with any results, by name
	Balances  []BalanceView    // per currency, by code
	HasEvents bool
}

// AffiliateOverview reads an affiliate's results and balances.
func (r *Reader) AffiliateOverview(affiliateID string) (*AffiliateOverview, error) {
	return store.Read(r.db, func(tx *store.Tx) (*AffiliateOverview, error) {
		ts, err := tx.AffiliateResults(affiliateID, "")
		if err != nil {
			return nil, err
		}
		out := &AffiliateOverview{Total: newResults(ts), HasEvents: len(ts) > 0}
		names := tx.Names()
		for prg, t := range ts {
			out.Programs = append(out.Programs, ProgramResults{ProgramID: prg, Name: names.Program(prg),
				Results: newResults(map[string]*store.Tally{prg: t})})
		}
		slices.SortFunc(out.Programs, func(x, y ProgramResults) int {
			return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
		})
		err = tx.Balances(store.BalanceQuery{AffiliateID: affiliateID}, func(b *store.Balance) bool {
			out.Balances = append(out.Balances, BalanceView{Currency: b.Currency, Pending: money.Format(b.Pending, b.Currency),
				Approved: money.Format(b.Approved, b.Currency), Processing: money.Format(b.Processing, b.Currency), Paid: money.Format(b.Paid, b.Currency)})
			return true
		})
		return out, err
	})
}

// EnrolledCount returns how many affiliates a program enrolled (one key).
func (r *Reader) EnrolledCount(programID string) (int, error) {
	n, err := store.Read(r.db, func(tx *store.Tx) (int64, error) { return tx.ProgramEnrolledCount(programID) })
	return int(n), err
}
