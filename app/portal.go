package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/export"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/store"
)

// The affiliate portal's rules. Every read here takes the affiliate id the
// caller got from the signed-in session (never one from a URL or a form) and
// scopes its store queries by it, so one affiliate can never reach another's
// referrals whatever ids, cursors or dates a request carries. The program's
// sharing flags are read in the same transaction as the data on every call,
// so switching sharing off hides the data at once.

// Portal defaults and limits.
const (
	// PortalDefaultDays is the length of the default date range, ending today.
	PortalDefaultDays = 30
	// PortalMaxDays bounds a range so a request cannot ask for centuries of
	// per-day chart points.
	PortalMaxDays = 366
	// PortalPageSize is how many rows one page of a portal list holds.
	PortalPageSize = 25
)

// Portal list kinds: the Leads | Purchases toggle and the two CSV files.
const (
	PortalLeads     = "leads"
	PortalPurchases = "purchases"
)

// forbidden is a 403 that both matches ErrForbidden (errors.Is) and carries
// a message for the person reading the error page (errors.As *Error).
func forbidden(code, msg string) error {
	return fmt.Errorf("app: %w: %w", ErrForbidden, &Error{Kind: KindForbidden, Code: code, Message: msg})
}

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

// ParsePortalRange reads from/to (YYYY-MM-DD, UTC, both days included). A
// missing end is filled in: no dates at all is the last 30 days; only `to`
// means the 30 days ending then; only `from` runs to today (or to that day
// when it is in the future).
func ParsePortalRange(fromS, toS string, now time.Time) (PortalRange, error) {
	fromS, toS = strings.TrimSpace(fromS), strings.TrimSpace(toS)
	from, end, err := ParseDateRange(fromS, toS)
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
		return PortalRange{}, Invalid("from", "invalid_from", "dates must be between 1970-01-01 and 9999-12-31")
	}
	if r.Days() > PortalMaxDays {
		return PortalRange{}, Invalid("from", "invalid_range", "a date range can span at most %d days", PortalMaxDays)
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

// ReferralLinkWithSub is the referral link carrying a campaign sub-id
// (&sub=…, escaped), placed before any #fragment of the landing URL.
func ReferralLinkWithSub(p *store.Program, code, sub string) string {
	link := ReferralLink(p, code)
	sub = clean(sub, maxSubIDLen)
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

// CleanSubID is a sub-id as tracking would keep it (trimmed, no control
// characters, at most 100 bytes), so the builder shows what will be stored.
func CleanSubID(s string) string { return clean(s, maxSubIDLen) }

// PortalPrograms lists the live programs the affiliate is enrolled in, by
// name, each with its totals over r. Links are left out unless the
// affiliate is active.
func (a *App) PortalPrograms(affiliateID string, r PortalRange) ([]*PortalProgram, error) {
	var out []*PortalProgram
	err := a.db.View(func(tx *store.Tx) error {
		af, err := getAffiliate(tx, affiliateID)
		if err != nil {
			return err
		}
		if af.Status == StatusBlocked {
			return forbidden("affiliate_blocked", "this account has been blocked")
		}
		ens, err := tx.AffiliateEnrollments(af.ID)
		if err != nil {
			return err
		}
		byID := map[string]*PortalProgram{}
		for _, e := range ens {
			p, err := tx.Program(e.ProgramID)
			if errors.Is(err, store.ErrNotFound) || err == nil && p.DeletedAt != nil {
				continue // a deleted program leaves the portal
			}
			if err != nil {
				return err
			}
			pp := &PortalProgram{Program: p, Code: e.Code, Coupon: e.Coupon, JoinedAt: e.CreatedAt}
			if af.Status == StatusActive {
				pp.Link = ReferralLink(p, e.Code)
			}
			out = append(out, pp)
			byID[p.ID] = pp
		}
		if af.Status != StatusActive || len(out) == 0 {
			return nil
		}
		return tx.Rollups(store.DayNumber(r.From), store.DayNumber(r.To), "", func(_ uint32, prg, aff string, ru *store.Rollup) {
			if pp := byID[prg]; pp != nil && aff == af.ID {
				pp.Totals.add(ru)
			}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("app: portal programs: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return strings.ToLower(out[i].Program.Name) < strings.ToLower(out[j].Program.Name)
	})
	return out, nil
}

// portalAccess enforces what every per-program portal read needs: the
// affiliate exists and is active, the program is live and the affiliate is
// enrolled in it. A program the affiliate is not in is "not found", exactly
// like a program that does not exist, so ids cannot be probed.
func portalAccess(tx *store.Tx, affiliateID, programID string) (*PortalProgram, error) {
	af, err := getAffiliate(tx, affiliateID)
	if err != nil {
		return nil, err
	}
	switch af.Status {
	case StatusActive:
	case StatusPending:
		return nil, forbidden("affiliate_pending", "your account is awaiting the program owner's approval")
	default:
		return nil, forbidden("affiliate_blocked", "this account has been blocked")
	}
	notFound := NotFound("program_not_found", "program not found")
	if !store.ValidID(programID) {
		return nil, notFound
	}
	e, err := tx.Enrollment(programID, af.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	p, err := liveProgram(tx, programID)
	if err != nil {
		return nil, err
	}
	return &PortalProgram{Program: p, Code: e.Code, Coupon: e.Coupon, Link: ReferralLink(p, e.Code), JoinedAt: e.CreatedAt}, nil
}

// checkShared refuses a list the program does not share.
func checkShared(p *store.Program, kind string) error {
	switch kind {
	case PortalLeads:
		if !p.ShareLeads {
			return forbidden("leads_not_shared", "this program does not share leads with its affiliates")
		}
	case PortalPurchases:
		if !p.SharePurchasers {
			return forbidden("purchases_not_shared", "this program does not share purchases with its affiliates")
		}
	default:
		return NotFound("not_found", "no such list")
	}
	return nil
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

// Commission is the paid commission, one "12.00 USD" per currency.
func (t PortalTotals) Commission() []string {
	out := make([]string, 0, len(t.Money))
	for _, m := range t.Money {
		out = append(out, money.Format(m.Commission, m.Currency)+" "+m.Currency)
	}
	return out
}

// Sales is the paid purchase amount, one "49.00 USD" per currency.
func (t PortalTotals) Sales() []string {
	out := make([]string, 0, len(t.Money))
	for _, m := range t.Money {
		out = append(out, money.Format(m.Amount, m.Currency)+" "+m.Currency)
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
	Amount      string // decimal string in Currency
	Currency    string
	Commission  string // decimal string in Currency
	Status      string // paid | refunded
	SubID       string
	// Earned is where the purchase's commission stands (nil when it has
	// none): set by PortalReport (portal_commissions.go).
	Earned *PortalCommission

	id string // the purchase's id: never shown, used to find its commission
}

func portalLead(l *store.Lead) PortalLead {
	return PortalLead{CreatedAt: l.CreatedAt, Email: l.Email, Name: l.Name, Code: l.Code, SubID: l.SubID, Purchased: l.PurchaseID != ""}
}

func portalPurchase(p *store.Purchase) PortalPurchase {
	return PortalPurchase{
		PurchasedAt: p.PurchasedAt, OrderID: p.OrderID, Email: p.Email, Name: p.Name, Product: p.Product,
		Amount: money.Format(p.Amount, p.Currency), Currency: p.Currency, Commission: money.Format(p.Commission, p.Currency),
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

// PortalReport returns the affiliate's link, statistics and (where the
// program shares them) rows for one program and date range.
func (a *App) PortalReport(affiliateID, programID string, q PortalReportQuery) (*PortalReport, error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = PortalPageSize
	}
	rep := &PortalReport{Range: q.Range}
	err := a.db.View(func(tx *store.Tx) error {
		pp, err := portalAccess(tx, affiliateID, programID)
		if err != nil {
			return err
		}
		rep.PortalProgram = *pp
		if err := portalDays(tx, rep, affiliateID); err != nil {
			return err
		}
		rep.List = q.List
		if checkShared(pp.Program, rep.List) != nil {
			rep.List, q.Cursor = "", "" // a cursor of the other list means nothing here
			switch {
			case pp.Program.ShareLeads:
				rep.List = PortalLeads
			case pp.Program.SharePurchasers:
				rep.List = PortalPurchases
			}
		}
		if err := portalRows(tx, rep, affiliateID, q); err != nil {
			return err
		}
		return portalPurchaseCommissions(tx, rep, affiliateID)
	})
	if err != nil {
		if errors.Is(err, store.ErrBadCursor) {
			return nil, Invalid("cursor", "invalid_cursor", "this page link is not valid; go back to the first page")
		}
		return nil, fmt.Errorf("app: portal report: %w", err)
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

// CSV downloads.

// PortalCSV checks that the affiliate may download the program's leads or
// purchases (kind) and returns the file's name and a function that streams
// it in the portal column set. Checking comes first so that a refusal can
// still be answered with a proper status before any byte is written.
func (a *App) PortalCSV(affiliateID, programID, kind string, r PortalRange) (filename string, write func(ctx context.Context, w io.Writer) error, err error) {
	var pp *PortalProgram
	err = a.db.View(func(tx *store.Tx) error {
		var err error
		if pp, err = portalAccess(tx, affiliateID, programID); err != nil {
			return err
		}
		return checkShared(pp.Program, kind)
	})
	if err != nil {
		return "", nil, fmt.Errorf("app: portal csv: %w", err)
	}
	filename = fmt.Sprintf("%s-%s-%s-to-%s.csv", fileSlug(pp.Program.Name), kind, r.FromParam(), r.ToParam())
	switch kind {
	case PortalLeads:
		q := store.LeadQuery{AffiliateID: affiliateID, ProgramID: programID, From: r.From, To: r.End()}
		write = func(ctx context.Context, w io.Writer) error {
			_, err := a.WriteLeadsCSV(ctx, w, q, export.Portal, nil)
			return err
		}
	default:
		q := store.PurchaseQuery{AffiliateID: affiliateID, ProgramID: programID, From: r.From, To: r.End()}
		write = func(ctx context.Context, w io.Writer) error {
			_, err := a.WritePurchasesCSV(ctx, w, q, export.Portal, nil)
			return err
		}
	}
	return filename, write, nil
}

// fileSlug makes a safe file-name stem from a program name.
func fileSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		return "program"
	}
	return s
}

// Joining.

// JoinInput is a program's public sign-up form.
type JoinInput struct {
	Name     string
	Email    string
	Password string
	Terms    bool // the program's terms were accepted
}

// JoinProgram signs a new affiliate up through a program's public page: the
// affiliate is created pending (active when the program auto-approves) and
// enrolled under a generated code, in one write. An email that already has
// an account is refused with a 409 (never a second account).
func (a *App) JoinProgram(programID string, in JoinInput) (*store.Affiliate, *store.Enrollment, error) {
	if _, err := a.Program(programID); err != nil {
		return nil, nil, err
	}
	in.Name, in.Email = strings.TrimSpace(in.Name), strings.TrimSpace(in.Email)
	if err := validateText("name", in.Name, true, 100); err != nil {
		return nil, nil, err
	}
	if err := validateEmail("email", in.Email); err != nil {
		return nil, nil, err
	}
	if !in.Terms {
		return nil, nil, Invalid("terms", "terms_required", "please accept the program terms to join")
	}
	// Hash outside the write: bcrypt is slow and the writer is shared.
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, nil, err
	}
	now := a.Now()
	af := &store.Affiliate{ID: store.NewID(now), Name: in.Name, Email: in.Email, Status: StatusPending, PasswordHash: hash, CreatedAt: now}
	var e *store.Enrollment
	err = a.db.Update(func(tx *store.Tx) error {
		p, err := liveProgram(tx, programID)
		if err != nil {
			return err
		}
		if p.AutoApprove {
			af.Status = StatusActive
		}
		if err := tx.PutAffiliate(af); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return Conflict("email", "duplicate_email", "an account with this email already exists; sign in to the partner portal instead")
			}
			return err
		}
		e = &store.Enrollment{ProgramID: p.ID, AffiliateID: af.ID, CreatedAt: now}
		if err := putGeneratedCode(tx, e, af.Name); err != nil {
			return err
		}
		if af.Status == StatusActive {
			return a.queueApprovedMail(tx, af)
		}
		return a.queueApplicationMails(tx, af, p)
	})
	if err != nil {
		return nil, nil, err
	}
	return af, e, nil
}

// putGeneratedCode stores e under a free code made from the affiliate's
// name, the way Enroll does, but inside the caller's write so that a new
// affiliate never exists without its enrollment.
func putGeneratedCode(tx *store.Tx, e *store.Enrollment, name string) error {
	base := CodeBase(name)
	for i := 0; i < 50; i++ {
		e.Code = base
		if i > 0 {
			e.Code = base + strconv.Itoa(100+int(randomUint32()%9900))
		}
		if err := tx.PutEnrollment(e); !errors.Is(err, store.ErrDuplicate) {
			return err
		}
	}
	e.Code = base + strings.ToLower(randomToken(6))
	return tx.PutEnrollment(e)
}
