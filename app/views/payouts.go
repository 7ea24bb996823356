package views

import (
	"cmp"
	"slices"
	"strings"

	"github.com/spiffy/spiffy/app/export"
	"github.com/spiffy/spiffy/store"
)

// The merchant's Payouts and Commissions pages, each read as one call that
// returns the page's whole view (STYLE: one app call per composite page).

// BalancesPageSize is how many balance rows a Payouts page shows.
const BalancesPageSize = 100

// PayoutHistorySize is how many payouts a page of the history shows.
const PayoutHistorySize = 20

// PayoutView is a payout with its items.
type PayoutView struct {
	*store.Payout
	ProgramName string
	Items       []*store.PayoutItem
}

// ReadPayout loads a payout's program name and items (only the
// affiliate's when affiliateID is set).
func ReadPayout(tx *store.Tx, p *store.Payout, affiliateID string) (*PayoutView, error) {
	v := &PayoutView{Payout: p, Items: []*store.PayoutItem{}}
	if p.ProgramID != "" {
		v.ProgramName = tx.Names().Program(p.ProgramID)
	}
	if affiliateID != "" {
		it, err := tx.PayoutItem(p.ID, affiliateID)
		if err != nil {
			return nil, err
		}
		v.Items = append(v.Items, it)
		return v, nil
	}
	err := tx.PayoutItems(p.ID, "", func(it *store.PayoutItem) (bool, error) {
		v.Items = append(v.Items, it)
		return true, nil
	})
	return v, err
}

// ReadPayouts reads a page of payouts newest first, with their items:
// with an affiliate id, only the payouts that paid it, with only its own
// item.
func ReadPayouts(tx *store.Tx, affiliateID, cursor string, limit int) ([]*PayoutView, string, error) {
	ps, next, err := tx.Payouts(affiliateID, cursor, limit)
	if err != nil {
		return nil, "", err
	}
	var out []*PayoutView
	for _, p := range ps {
		v, err := ReadPayout(tx, p, affiliateID)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, next, nil
}

// BalanceRow is one affiliate's balance in one currency, with its name.
type BalanceRow struct {
	store.Balance
}

// CurrencyDue sums the balances in one currency: what the "Create payout"
// form offers.
type CurrencyDue struct {
	Currency   string
	Affiliates int   // affiliates with a balance in it
	Payable    int   // of them, those with a net approved balance above zero
	Due        int64 // the sum of those positive approved balances
	Pending    int64
	Processing int64
	Paid       int64
}

// ProgramOption is a live program for a select.
type ProgramOption struct {
	ID, Name string
}

// PayoutsPage is the merchant's Payouts page: balances due, the create
// form's choices and the payout history.
type PayoutsPage struct {
	Currencies []CurrencyDue // every currency with a balance, by code
	Balances   []BalanceRow  // this page's rows
	Rows       int           // balance rows the currency filter matches
	Page       int
	Pages      int
	Programs   []ProgramOption // live programs, by name
	// Payouts is a page of the history, newest first, without items.
	Payouts     []*PayoutView
	HistoryNext string
}

// ReadPayoutsPage reads the Payouts page: the balances in currency cur
// ("" = all), their page (1-based), and the payout history from its cursor.
//
// The balances are sorted by currency, then by net approved balance (the
// money due) descending, then by pending descending: the merchant comes to
// this page to see who is owed what, so the largest amounts due lead, and
// sorting within a currency keeps amounts comparable. That order needs
// every balance of the filter, so the page reads all the balance counters
// (one key per affiliate and currency, never a commission) — which the
// currency totals need anyway — sorts them in memory and keeps one page;
// names are looked up for that page only. At 10,000 affiliates that is
// one sequential pass over about 10,000 small keys per view.
func ReadPayoutsPage(tx *store.Tx, cur string, page int, history string) (*PayoutsPage, error) {
	out := &PayoutsPage{}
	// rows come in affiliate id order; order holds what the sort
	// compares, all integers, so sorting 10,000 rows moves 24-byte
	// keys and compares no strings.
	var rows []store.Balance
	type sortKey struct {
		cur               int // the currency's rank by code
		approved, pending int64
		row               int // index in rows: affiliate id order
	}
	var order []sortKey
	byCur := map[string]*CurrencyDue{}
	err := tx.Balances(store.BalanceQuery{}, func(b *store.Balance) bool {
		d := byCur[b.Currency]
		if d == nil {
			d = &CurrencyDue{Currency: b.Currency}
			byCur[b.Currency] = d
		}
		d.Affiliates++
		if b.Approved > 0 {
			d.Payable++
			d.Due += b.Approved
		}
		d.Pending += b.Pending
		d.Processing += b.Processing
		d.Paid += b.Paid
		if cur == "" || b.Currency == cur {
			order = append(order, sortKey{approved: b.Approved, pending: b.Pending, row: len(rows)})
			rows = append(rows, *b)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	for _, d := range byCur {
		out.Currencies = append(out.Currencies, *d)
	}
	slices.SortFunc(out.Currencies, func(x, y CurrencyDue) int { return strings.Compare(x.Currency, y.Currency) })
	rank := make(map[string]int, len(out.Currencies))
	for i, d := range out.Currencies {
		rank[d.Currency] = i
	}
	for i := range order {
		order[i].cur = rank[rows[order[i].row].Currency]
	}
	slices.SortFunc(order, func(x, y sortKey) int {
		return cmp.Or(cmp.Compare(x.cur, y.cur), cmp.Compare(y.approved, x.approved),
			cmp.Compare(y.pending, x.pending), cmp.Compare(x.row, y.row))
	})
	out.Rows = len(order)
	out.Pages = max(1, (len(order)+BalancesPageSize-1)/BalancesPageSize)
	out.Page = min(max(page, 1), out.Pages)
	lo := (out.Page - 1) * BalancesPageSize
	for _, k := range order[lo:min(lo+BalancesPageSize, len(order))] {
		out.Balances = append(out.Balances, BalanceRow{Balance: rows[k.row]})
	}
	names := tx.Names()
	for i := range out.Balances {
		out.Balances[i].Name = names.Affiliate(out.Balances[i].AffiliateID)
	}

	if out.Programs, err = livePrograms(tx); err != nil {
		return nil, err
	}

	ps, next, err := tx.Payouts("", history, PayoutHistorySize)
	if err != nil {
		return nil, err
	}
	out.HistoryNext = next
	for _, p := range ps {
		v := &PayoutView{Payout: p}
		if p.ProgramID != "" {
			v.ProgramName = names.Program(p.ProgramID)
		}
		out.Payouts = append(out.Payouts, v)
	}
	return out, nil
}

// livePrograms lists the programs not deleted, by name, for a select.
func livePrograms(tx *store.Tx) ([]ProgramOption, error) {
	programs, err := tx.Programs()
	if err != nil {
		return nil, err
	}
	var out []ProgramOption
	for _, p := range programs {
		if p.DeletedAt == nil {
			out = append(out, ProgramOption{ID: p.ID, Name: p.Name})
		}
	}
	slices.SortFunc(out, func(x, y ProgramOption) int {
		return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	return out, nil
}

// PayoutItemsPageSize is how many items a payout's page shows.
const PayoutItemsPageSize = 100

// PayoutDetail is a payout's page: the payout, one page of its items (by
// affiliate id), and how many items each file will hold.
type PayoutDetail struct {
	*PayoutView
	// After is the affiliate id this page starts after ("" = the first
	// page); Next the one the next page starts after ("" = none).
	After, Next string
	// PayPal, Wise and NoMethod count the items by payout method: the
	// PayPal and Wise files hold only their own.
	PayPal, Wise, NoMethod int
}

// ReadPayoutDetail reads a payout with the page of its items after the
// affiliate id after. Counting the items by method reads every item (a
// small record each), once, in the same pass that picks the page.
func ReadPayoutDetail(tx *store.Tx, p *store.Payout, after string) (*PayoutDetail, error) {
	out := &PayoutDetail{PayoutView: &PayoutView{Payout: p, Items: []*store.PayoutItem{}}, After: after}
	if p.ProgramID != "" {
		out.ProgramName = tx.Names().Program(p.ProgramID)
	}
	err := tx.PayoutItems(p.ID, "", func(it *store.PayoutItem) (bool, error) {
		switch it.Method {
		case export.PayoutPayPal:
			out.PayPal++
		case export.PayoutWise:
			out.Wise++
		default:
			out.NoMethod++
		}
		if it.AffiliateID > after {
			if len(out.Items) < PayoutItemsPageSize {
				out.Items = append(out.Items, it)
			} else if out.Next == "" {
				out.Next = out.Items[len(out.Items)-1].AffiliateID
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CommissionRow is a commission with the names of its program and
// affiliate and the order id of its purchase.
type CommissionRow struct {
	*store.Commission
	ProgramName, AffiliateName, OrderID string
}

// CommissionList is one page of the merchant's Commissions view.
type CommissionList struct {
	Rows []CommissionRow
	Next string // "" on the last page
	// Programs are the live programs, for the filter.
	Programs []ProgramOption
	// The names of the filter's affiliate and program and the order id of
	// its purchase, to say what the list is narrowed to.
	AffiliateName, ProgramName, OrderID string
}

// ReadCommissionList reads one page of the commissions q matches, newest
// first, with names and order ids. A page's order ids are point reads by
// id, as the store's own pages load their records.
func ReadCommissionList(tx *store.Tx, q store.CommissionQuery) (*CommissionList, error) {
	coms, next, err := tx.Commissions(q)
	if err != nil {
		return nil, err
	}
	out := &CommissionList{Next: next, Rows: make([]CommissionRow, 0, len(coms))}
	names := tx.Names()
	if out.Programs, err = livePrograms(tx); err != nil {
		return nil, err
	}
	if q.AffiliateID != "" {
		out.AffiliateName = names.Affiliate(q.AffiliateID)
	}
	if q.ProgramID != "" {
		out.ProgramName = names.Program(q.ProgramID)
	}
	if q.PurchaseID != "" {
		if out.OrderID, err = orderID(tx, q.PurchaseID); err != nil {
			return nil, err
		}
	}
	for _, c := range coms {
		row := CommissionRow{Commission: c, ProgramName: names.Program(c.ProgramID), AffiliateName: names.Affiliate(c.AffiliateID)}
		if row.OrderID, err = orderID(tx, c.PurchaseID); err != nil {
			return nil, err
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

// orderID is a purchase's order id ("" when it is gone).
func orderID(tx *store.Tx, purchaseID string) (string, error) {
	p, err := optional(tx.Purchase, purchaseID)
	if p == nil {
		return "", err
	}
	return p.OrderID, nil
}

// ReadBalances returns the balances q selects, by affiliate id.
func ReadBalances(tx *store.Tx, q store.BalanceQuery) ([]BalanceRow, error) {
	out := []BalanceRow{}
	err := tx.Balances(q, func(b *store.Balance) bool {
		out = append(out, BalanceRow{Balance: *b})
		return true
	})
	return out, err
}
