package views

import (
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/app/fault"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/app/text"
	"github.com/spiffy/spiffy/store"
)

// The affiliate portal's pages. Package app checks who may see what (the
// affiliate from the session, active and enrolled; the program live) in the
// read transaction and then reads the view here, in the same transaction:
// every query is scoped by the affiliate id it was given, and the program's
// sharing flags are read with the data, so switching sharing off hides the
// data at once.

// Portal defaults.
const (
	// PortalDefaultDays is the length of the default date range, ending today.
	PortalDefaultDays = 30
	// PortalPageSize is how many rows one page of a portal list holds.
	PortalPageSize = 25
)

// Portal list kinds: the Leads | Purchases toggle and the two CSV files.
const (
	PortalLeads     = "leads"
	PortalPurchases = "purchases"
)

// Date ranges.

// PortalRange is a span of whole UTC days, both ends included.
type PortalRange struct {
	From time.Time // 00:00 UTC of the first day
	To   time.Time // 00:00 UTC of the last day (included)
}

// End is the exclusive upper bound of the range: 00:00 UTC of the day after To.
func (r PortalRange) End() time.Time { return r.To.AddDate(0, 0, 1) }

// Days is the number of days in the range.
func (r PortalRange) Days() int { return int(r.End().Sub(r.From).Hours() / 24) }

// FromParam and ToParam are the range's ends as the YYYY-MM-DD of the URLs.
func (r PortalRange) FromParam() string { return r.From.Format(time.DateOnly) }

// ToParam: see FromParam.
func (r PortalRange) ToParam() string { return r.To.Format(time.DateOnly) }

// DefaultPortalRange is the last PortalDefaultDays days, today included.
func DefaultPortalRange(now time.Time) PortalRange {
	today := now.UTC().Truncate(24 * time.Hour)
	return PortalRange{From: today.AddDate(0, 0, -(PortalDefaultDays - 1)), To: today}
}

// PortalMaxDays bounds a portal date range so a request cannot ask for
// centuries of per-day chart points.
const PortalMaxDays = 366

// ParsePortalRange reads from/to (YYYY-MM-DD, UTC, both days included). A
// missing end is filled in: no dates at all is the last 30 days; only `to`
// means the 30 days ending then; only `from` runs to today (or to that day
// when it is in the future).
func ParsePortalRange(fromS, toS string, now time.Time) (PortalRange, error) {
	fromS, toS = strings.TrimSpace(fromS), strings.TrimSpace(toS)
	from, end, err := check.DateRange(fromS, toS)
	if err != nil {
		return PortalRange{}, err
	}
	def := DefaultPortalRange(now)
	var r PortalRange
	switch {
	case fromS == "" && toS == "":
		return def, nil
	case fromS == "":
		r.To = end.AddDate(0, 0, -1)
		r.From = r.To.AddDate(0, 0, -(PortalDefaultDays - 1))
	case toS == "":
		r.From = from
		r.To = def.To
		if r.To.Before(from) {
			r.To = from
		}
	default:
		r.From, r.To = from, end.AddDate(0, 0, -1)
	}
	if r.From.Year() < 1970 || r.To.Year() > 9999 {
		return PortalRange{}, fault.Invalid("from", "invalid_from", "dates must be between 1970-01-01 and 9999-12-31")
	}
	if r.Days() > PortalMaxDays {
		return PortalRange{}, fault.Invalid("from", "invalid_range", "a date range can span at most %d days", PortalMaxDays)
	}
	return r, nil
}

// Programs and links.

// PortalProgram is one of the affiliate's programs as the portal shows it.
type PortalProgram struct {
	Program  *store.Program
	Code     string
	Coupon   string // the affiliate's coupon code in the program, if the merchant gave one
	Link     string // the referral link; "" while the affiliate is not active
	JoinedAt time.Time
	// Totals covers the range asked for (the home page's last 30 days).
	Totals PortalTotals
}

// SharesLeads and SharesPurchases report the program's sharing toggles.
func (p *PortalProgram) SharesLeads() bool { return p.Program.ShareLeads }

// SharesPurchases: see SharesLeads.
func (p *PortalProgram) SharesPurchases() bool { return p.Program.SharePurchasers }

// shares reports whether the program shares a list (PortalLeads or
// PortalPurchases).
func (p *PortalProgram) shares(list string) bool {
	return list == PortalLeads && p.SharesLeads() || list == PortalPurchases && p.SharesPurchases()
}

// ReadPortalPrograms lists the live programs the affiliate (not blocked:
// the caller checked) is enrolled in, by name, each with its totals over
// r. Links and totals are left out unless the affiliate is active.
func ReadPortalPrograms(tx *store.Tx, af *store.Affiliate, r PortalRange) ([]*PortalProgram, error) {
	ens, err := tx.AffiliateEnrollments(af.ID)
	if err != nil {
		return nil, err
	}
	var out []*PortalProgram
	byID := map[string]*PortalProgram{}
	active := af.Status == store.AffiliateActive
	for _, e := range ens {
		p, err := optional(tx.Program, e.ProgramID)
		if err != nil {
			return nil, err
		}
		if p == nil || p.DeletedAt != nil {
			continue // a deleted program leaves the portal
		}
		pp := &PortalProgram{Program: p, Code: e.Code, Coupon: e.Coupon, JoinedAt: e.CreatedAt}
		if active {
			pp.Link = p.ReferralLink(e.Code)
		}
		out = append(out, pp)
		byID[p.ID] = pp
	}
	if active && len(out) > 0 {
		err = tx.Rollups(store.DayNumber(r.From), store.DayNumber(r.To), "", func(_ uint32, prg, aff string, ru *store.Rollup) {
			if pp := byID[prg]; pp != nil && aff == af.ID {
				pp.Totals.add(ru)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return strings.ToLower(out[i].Program.Name) < strings.ToLower(out[j].Program.Name)
	})
	return out, nil
}

// Statistics.

// PortalTotals sums an affiliate's roll-ups over some days.
type PortalTotals struct {
	Clicks    int64
	Leads     int64
	Purchases int64 // every purchase, refunded ones included
	Refunds   int64
	// Money holds paid (not refunded) sales and commission per currency,
	// sorted by currency.
	Money []store.RollupMoney
}

func (t *PortalTotals) add(r *store.Rollup) {
	t.Clicks += r.Clicks
	t.Leads += r.Leads
	t.Purchases += r.Purchases
	t.Refunds += r.Refunds
	for _, m := range r.Money {
		i := sort.Search(len(t.Money), func(i int) bool { return t.Money[i].Currency >= m.Currency })
		if i < len(t.Money) && t.Money[i].Currency == m.Currency {
			t.Money[i].Amount += m.Amount
			t.Money[i].Commission += m.Commission
			continue
		}
		t.Money = append(t.Money, store.RollupMoney{})
		copy(t.Money[i+1:], t.Money[i:])
		t.Money[i] = m
	}
}

// Conversion is purchases per click in percent, "" with no clicks.
func (t PortalTotals) Conversion() string {
	if t.Clicks == 0 {
		return ""
	}
	pct := float64(t.Purchases) * 100 / float64(t.Clicks)
	return strconv.FormatFloat(pct, 'f', 1, 64) + "%"
}

// Commission is the paid commission, one "$12.00" per currency.
func (t PortalTotals) Commission() []string {
	out := make([]string, 0, len(t.Money))
	for _, m := range t.Money {
		out = append(out, money.Display(m.Commission, m.Currency))
	}
	return out
}

// Sales is the paid purchase amount, one "$49.00" per currency.
func (t PortalTotals) Sales() []string {
	out := make([]string, 0, len(t.Money))
	for _, m := range t.Money {
		out = append(out, money.Display(m.Amount, m.Currency))
	}
	return out
}

// PortalDay is one day of the per-day chart.
type PortalDay struct {
	Date      time.Time
	Clicks    int64
	Leads     int64
	Purchases int64
}

// Rows of the shared lists: only the fields an affiliate may see. Merchant
// data (IP, user agent, visitor and referral ids, other affiliates) has no
// field here, so no template can show it by mistake.

// PortalLead is one of the affiliate's leads.
type PortalLead struct {
	CreatedAt time.Time
	Email     string
	Name      string
	Code      string
	SubID     string
	Purchased bool
}

// PortalPurchase is one of the affiliate's purchases.
type PortalPurchase struct {
	PurchasedAt time.Time
	OrderID     string
	Email       string
	Name        string
	Product     string
	Amount      string // as people read it: "$49.00"
	Currency    string
	Commission  string // as people read it
	Status      string // paid | refunded
	SubID       string
	// Earned is where the purchase's commission stands (nil when it has
	// none): set by ReadPortalReport (portalPurchaseCommissions).
	Earned *PortalCommission

	id string // the purchase's id: never shown, used to find its commission
}

func portalLead(l *store.Lead) PortalLead {
	return PortalLead{CreatedAt: l.CreatedAt, Email: l.Email, Name: l.Name, Code: l.Code, SubID: l.SubID, Purchased: l.PurchaseID != ""}
}

func portalPurchase(p *store.Purchase) PortalPurchase {
	return PortalPurchase{
		PurchasedAt: p.PurchasedAt, OrderID: p.OrderID, Email: p.Email, Name: p.Name, Product: p.Product,
		Amount: money.Display(p.Amount, p.Currency), Currency: p.Currency, Commission: money.Display(p.Commission, p.Currency),
		Status: p.Status, SubID: p.SubID, id: p.ID,
	}
}

// The program page.

// PortalReportQuery is what the program page asks for.
type PortalReportQuery struct {
	Range  PortalRange
	List   string // PortalLeads or PortalPurchases; "" or unshared falls back to a shared one
	Cursor string // from the previous page's NextCursor
	Limit  int    // PortalPageSize when 0
}

// PortalReport is everything the program page shows, read in one snapshot.
type PortalReport struct {
	PortalProgram
	Range  PortalRange
	Totals PortalTotals
	Days   []PortalDay // one per day of the range, in order
	// List is the list shown ("" when the program shares none).
	List       string
	Leads      []PortalLead
	Purchases  []PortalPurchase
	NextCursor string
}

// ReadPortalReport reads the affiliate's statistics and (where the program
// shares them) rows for one program and date range. pp is the program as
// the caller's access check found it, in the same transaction.
func ReadPortalReport(tx *store.Tx, pp *PortalProgram, affiliateID string, q PortalReportQuery) (*PortalReport, error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = PortalPageSize
	}
	rep := &PortalReport{PortalProgram: *pp, Range: q.Range, List: q.List}
	if err := portalDays(tx, rep, affiliateID); err != nil {
		return nil, err
	}
	if !pp.shares(rep.List) {
		rep.List, q.Cursor = "", "" // a cursor of the other list means nothing here
		switch {
		case pp.SharesLeads():
			rep.List = PortalLeads
		case pp.SharesPurchases():
			rep.List = PortalPurchases
		}
	}
	if err := portalRows(tx, rep, affiliateID, q); err != nil {
		return nil, err
	}
	if err := portalPurchaseCommissions(tx, rep, affiliateID); err != nil {
		return nil, err
	}
	return rep, nil
}

func portalDays(tx *store.Tx, rep *PortalReport, affiliateID string) error {
	first, last := store.DayNumber(rep.Range.From), store.DayNumber(rep.Range.To)
	rep.Days = make([]PortalDay, 0, last-first+1)
	for d := first; d <= last; d++ {
		rep.Days = append(rep.Days, PortalDay{Date: store.DayTime(d)})
	}
	return tx.Rollups(first, last, rep.Program.ID, func(day uint32, _, aff string, r *store.Rollup) {
		if aff != affiliateID || day < first || day > last {
			return
		}
		rep.Totals.add(r)
		d := &rep.Days[day-first]
		d.Clicks += r.Clicks
		d.Leads += r.Leads
		d.Purchases += r.Purchases
	})
}

func portalRows(tx *store.Tx, rep *PortalReport, affiliateID string, q PortalReportQuery) error {
	var err error
	switch rep.List {
	case PortalLeads:
		var ls []*store.Lead
		ls, rep.NextCursor, err = tx.Leads(store.LeadQuery{
			AffiliateID: affiliateID, ProgramID: rep.Program.ID,
			From: q.Range.From, To: q.Range.End(), Cursor: q.Cursor, Limit: q.Limit,
		})
		for _, l := range ls {
			rep.Leads = append(rep.Leads, portalLead(l))
		}
	case PortalPurchases:
		var ps []*store.Purchase
		ps, rep.NextCursor, err = tx.Purchases(store.PurchaseQuery{
			AffiliateID: affiliateID, ProgramID: rep.Program.ID,
			From: q.Range.From, To: q.Range.End(), Cursor: q.Cursor, Limit: q.Limit,
		})
		for _, p := range ps {
			if p.SelfReferral || p.AffiliateID != affiliateID {
				continue // never the affiliate's to see (the index should not hold these)
			}
			rep.Purchases = append(rep.Purchases, portalPurchase(p))
		}
	}
	return err
}

// The affiliate's money: the commission of each shared purchase on a
// program page, and the Payouts page (balances, payout history, payout
// details).

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
			if c.Kind == store.CommissionClawback {
				if c.Status != store.CommissionVoided {
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

// ReadPortalPayouts reads the affiliate's Payouts page: its balances per
// currency (from the counters), a page of the payouts that paid it from
// cursor, with its own item only, and its payout details.
func ReadPortalPayouts(tx *store.Tx, af *store.Affiliate, cursor string) (*PortalPayoutsPage, error) {
	out := &PortalPayoutsPage{Method: af.PayoutMethod, Email: af.PayoutEmail}
	err := tx.Balances(store.BalanceQuery{AffiliateID: af.ID}, func(b *store.Balance) bool {
		out.Balances = append(out.Balances, PortalBalance{Currency: b.Currency, Pending: b.Pending,
			Approved: b.Approved, Processing: b.Processing, Paid: b.Paid})
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out.Balances, func(x, y PortalBalance) int { return strings.Compare(x.Currency, y.Currency) })
	ps, next, err := tx.Payouts(af.ID, cursor, PayoutHistorySize)
	if err != nil {
		return nil, err
	}
	out.Next = next
	for _, p := range ps {
		it, err := tx.PayoutItem(p.ID, af.ID)
		if err != nil {
			return nil, err
		}
		out.Payouts = append(out.Payouts, PortalPayout{ID: p.ID, Status: p.Status, Currency: p.Currency,
			Amount: it.Amount, Commissions: it.Commissions, Method: it.Method, PayoutEmail: it.PayoutEmail,
			CreatedAt: p.CreatedAt, PaidAt: p.PaidAt, CanceledAt: p.CanceledAt})
	}
	return out, nil
}

// ReferralLinkWithSub is the referral link carrying a campaign sub-id
// (&sub=…, escaped, cleaned as tracking keeps it), placed before any
// #fragment of the landing URL.
func ReferralLinkWithSub(p *store.Program, code, sub string) string {
	link := p.ReferralLink(code)
	sub = text.SubID(sub)
	if sub == "" {
		return link
	}
	base, frag, hasFrag := strings.Cut(link, "#")
	link = base + "&sub=" + url.QueryEscape(sub)
	if hasFrag {
		link += "#" + frag
	}
	return link
}
