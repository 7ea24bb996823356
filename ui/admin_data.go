package ui

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/app/views"
)

// The merchant's data pages: Dashboard, Leads, Purchases (with one lead's
// or purchase's detail) and Exports. Lists page with the store's keyset
// cursors, so any page of a million rows costs the same; counts and totals
// come from the tallies. An export of the current filter runs in the
// background and is picked up on the Exports page.

// listPageSize is how many rows a Leads or Purchases page shows.
const listPageSize = 50

// listForm is the Leads and Purchases filter bar (GET) and the export form
// (POST), plus the paging state.
type listForm struct {
	Program   string `query:"program" form:"program"`
	Affiliate string `query:"affiliate" form:"affiliate"`
	From      string `query:"from" form:"from"`
	To        string `query:"to" form:"to"`
	Q         string `query:"q" form:"q"`
	Status    string `query:"status" form:"status"`
	Cursor    string `query:"cursor" form:"cursor"`
	Page      int    `query:"page" form:"page"`
	Kind      string `form:"kind"`
}

func (f listForm) filter() views.ListFilter {
	return views.ListFilter{
		Program: strings.TrimSpace(f.Program), Affiliate: strings.TrimSpace(f.Affiliate),
		From: strings.TrimSpace(f.From), To: strings.TrimSpace(f.To), Q: strings.TrimSpace(f.Q),
		Status: strings.TrimSpace(f.Status),
	}
}

// query is the filter as URL parameters (no paging), for links.
func (f listForm) query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"program": f.Program, "affiliate": f.Affiliate, "from": f.From, "to": f.To, "q": f.Q, "status": f.Status} {
		if s = strings.TrimSpace(s); s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// bindQuery reads a GET form from the query string only. A value of the
// wrong type (page=abc) is ignored rather than refused: it is paging state,
// not a filter.
func bindQuery(c echo.Context, f *listForm) {
	q := c.QueryParams()
	f.Program, f.Affiliate, f.From, f.To = q.Get("program"), q.Get("affiliate"), q.Get("from"), q.Get("to")
	f.Q, f.Status, f.Cursor = q.Get("q"), q.Get("status"), q.Get("cursor")
	f.Page, _ = strconv.Atoi(q.Get("page"))
	if f.Page < 1 || f.Cursor == "" {
		f.Page = 1
	}
}

// option is one entry of a filter's select.
type option struct {
	Value, Label string
	Selected     bool
}

// programOptions lists the programs for the filter select. Deleted
// programs are not offered; their rows still show their names. Affiliates,
// thousands of them, are typed in a field the server resolves instead
// (resolveAffiliate).
func (u *UI) programOptions(f listForm) (programs []option, err error) {
	ps, err := u.app.Views().Programs()
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		programs = append(programs, option{Value: p.ID, Label: p.Name, Selected: p.ID == f.Program})
	}
	slices.SortFunc(programs, func(a, b option) int { return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)) })
	return programs, nil
}

// listView is what the Leads and Purchases templates get.
type listView struct {
	Form     listForm
	Programs []option
	// AffiliateText is what the affiliate field shows: what was typed,
	// or the email of the affiliate a link's id names.
	AffiliateText string
	Statuses      []option
	// Error is a bad filter or cursor, shown above the empty table.
	Error     string
	Count     string // "1,234" or "about 12,000"
	Exact     bool
	First     int // 1-based number of the first row shown
	Last      int
	Leads     []leadRow
	Purchases []purchaseRow
	Report    views.PurchaseReport
	NextURL   string
	FirstURL  string
	Filtered  bool
}

// NoRows reports that the filters match nothing at all (not just an empty
// later page): Export CSV has nothing to write then.
func (v listView) NoRows() bool {
	return v.Error == "" && v.Form.Cursor == "" && len(v.Leads) == 0 && len(v.Purchases) == 0
}

type leadRow struct {
	ID, Email, Name, Program, ProgramID, Affiliate, AffiliateID, Code, SubID, ClickID, PurchaseID string
	CreatedAt                                                                                     time.Time
}

type purchaseRow struct {
	ID, OrderID, Email, Name, Product, Amount, Commission, Currency, Status string
	Program, ProgramID, Affiliate, AffiliateID, Code, SubID, LeadID         string
	PurchasedAt                                                             time.Time
	SelfReferral                                                            bool
}

// listError turns a bad filter into a message on the page (400) and lets
// anything else through to the error handler.
func listError(err error) (string, error) {
	var ae *app.Error
	switch {
	case errors.As(err, &ae) && ae.Kind != app.KindUnavailable:
		return ae.Message, nil
	case errors.Is(err, app.ErrBadCursor):
		return "That page link is no longer valid; start again from the first page.", nil
	}
	return "", err
}

// newListView starts a Leads or Purchases page. The affiliate field takes
// what was typed (an email, a referral code, an id from a link) and the
// filter goes on with the id it resolves to; one that matches no affiliate
// is said on the page (problem) instead of listing rows.
func (u *UI) newListView(c echo.Context, f listForm) (v *listView, problem string, err error) {
	v = &listView{Form: f, AffiliateText: strings.TrimSpace(f.Affiliate)}
	if v.AffiliateText != "" {
		af, msg, err := u.findAffiliate(v.AffiliateText)
		if err != nil {
			return nil, "", err
		}
		if af == nil {
			problem = msg
		} else {
			v.Form.Affiliate = af.ID
			if v.AffiliateText == af.ID {
				v.AffiliateText = af.Email
			}
		}
	}
	f = v.Form
	v.Filtered = len(f.query()) > 0
	if v.Programs, err = u.programOptions(f); err != nil {
		return nil, "", err
	}
	base := c.Request().URL.Path
	if q := f.query(); len(q) > 0 {
		v.FirstURL = base + "?" + q.Encode()
	} else {
		v.FirstURL = base
	}
	return v, problem, nil
}

// page sets the row numbers and the next page's link.
func (v *listView) page(c echo.Context, rows int, next string) {
	v.First = (v.Form.Page-1)*listPageSize + 1
	v.Last = v.First + rows - 1
	if next != "" {
		q := v.Form.query()
		q.Set("cursor", next)
		q.Set("page", strconv.Itoa(v.Form.Page+1))
		v.NextURL = c.Request().URL.Path + "?" + q.Encode()
	}
}

func countText(c app.Count) string {
	if c.Exact {
		return thousands(c.N)
	}
	return "about " + thousands(roundish(c.N))
}

// roundish keeps two significant digits of an estimate.
func roundish(n int64) int64 {
	p := int64(1)
	for n/p >= 100 {
		p *= 10
	}
	return n / p * p
}

// thousands formats 1234567 as "1,234,567".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func (u *UI) leadsPage(c echo.Context) error {
	var f listForm
	bindQuery(c, &f)
	f.Status = ""
	v, problem, err := u.newListView(c, f)
	if err != nil {
		return err
	}
	f = v.Form
	status := http.StatusOK
	err = func() error {
		if problem != "" {
			return app.Invalid("affiliate", "unknown_affiliate", "%s", problem)
		}
		list, err := u.app.LeadList(f.filter(), f.Cursor, listPageSize)
		if err != nil {
			return err
		}
		v.Count, v.Exact = countText(list.Count), list.Count.Exact
		for _, l := range list.Rows {
			v.Leads = append(v.Leads, leadRow{
				ID: l.ID, Email: l.Email, Name: l.Name, ProgramID: l.ProgramID, Program: l.ProgramName,
				AffiliateID: l.AffiliateID, Affiliate: l.AffiliateName, Code: l.Code, SubID: l.SubID,
				ClickID: l.ReferralID, PurchaseID: l.PurchaseID, CreatedAt: l.CreatedAt,
			})
		}
		v.page(c, len(list.Rows), list.Next)
		return nil
	}()
	if err != nil {
		if v.Error, err = listError(err); err != nil {
			return err
		}
		status = http.StatusBadRequest
	}
	return u.adminPage(c, status, "admin/leads", "Leads", "leads", v)
}

func (u *UI) purchasesPage(c echo.Context) error {
	var f listForm
	bindQuery(c, &f)
	v, problem, err := u.newListView(c, f)
	if err != nil {
		return err
	}
	f = v.Form
	for _, s := range []string{app.PurchasePaid, app.PurchaseRefunded} {
		v.Statuses = append(v.Statuses, option{Value: s, Label: strings.ToUpper(s[:1]) + s[1:], Selected: s == f.Status})
	}
	status := http.StatusOK
	err = func() error {
		if problem != "" {
			return app.Invalid("affiliate", "unknown_affiliate", "%s", problem)
		}
		list, err := u.app.PurchaseList(f.filter(), f.Cursor, listPageSize)
		if err != nil {
			return err
		}
		v.Report = list.Report
		v.Count, v.Exact = countText(v.Report.Count), v.Report.Count.Exact
		for _, p := range list.Rows {
			v.Purchases = append(v.Purchases, purchaseRow{
				ID: p.ID, OrderID: p.OrderID, Email: p.Email, Name: p.Name, Product: p.Product,
				Amount: money.Display(p.Amount, p.Currency), Commission: money.Display(p.Commission, p.Currency),
				Currency: p.Currency, Status: p.Status, ProgramID: p.ProgramID, Program: p.ProgramName,
				AffiliateID: p.AffiliateID, Affiliate: p.AffiliateName, Code: p.Code, SubID: p.SubID,
				LeadID: p.LeadID, PurchasedAt: p.PurchasedAt, SelfReferral: p.SelfReferral,
			})
		}
		v.page(c, len(list.Rows), list.Next)
		return nil
	}()
	if err != nil {
		if v.Error, err = listError(err); err != nil {
			return err
		}
		status = http.StatusBadRequest
	}
	return u.adminPage(c, status, "admin/purchases", "Purchases", "purchases", v)
}

func (u *UI) leadPage(c echo.Context) error {
	d, err := u.app.LeadDetail(c.Param("id"))
	if err != nil {
		return err
	}
	return u.adminPage(c, http.StatusOK, "admin/lead", "Lead "+d.Lead.Email, "leads", d)
}

// purchaseView is a purchase's page: the purchase with its commissions,
// and the refund form as typed when it was refused.
type purchaseView struct {
	*views.PurchaseDetail
	Refund       refundForm
	RefundErrors FormErrors
	// Left is what is left to refund, as a decimal string (the field's
	// placeholder), and LeftText the same as people read money.
	Left, LeftText string
}

// refundForm refunds a purchase: an amount, or everything left when blank.
type refundForm struct {
	Amount string `form:"amount"`
}

func newPurchaseView(d *views.PurchaseDetail) *purchaseView {
	p := d.Purchase
	left := p.Amount - p.RefundedAmount
	return &purchaseView{PurchaseDetail: d, Left: money.Format(left, p.Currency), LeftText: money.Display(left, p.Currency)}
}

func (u *UI) purchasePage(c echo.Context) error {
	d, err := u.app.PurchaseDetail(c.Param("id"))
	if err != nil {
		return err
	}
	return u.adminPage(c, http.StatusOK, "admin/purchase", "Purchase "+d.Purchase.OrderID, "purchases", newPurchaseView(d))
}

func (u *UI) purchaseRefund(c echo.Context) error {
	var f refundForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	p, err := u.app.RefundPurchase(c.Param("id"), f.Amount)
	if err != nil {
		fe, err := formErrors(err)
		if err != nil {
			return err
		}
		d, err := u.app.PurchaseDetail(c.Param("id"))
		if err != nil {
			return err
		}
		v := newPurchaseView(d)
		v.Refund, v.RefundErrors = f, friendlyErrors(fe)
		return u.adminPage(c, http.StatusUnprocessableEntity, "admin/purchase", "Purchase "+d.Purchase.OrderID, "purchases", v)
	}
	msg := "Purchase " + p.OrderID + " is refunded; its commission no longer counts."
	if p.Status != app.PurchaseRefunded {
		msg = fmt.Sprintf("Refunded %s of purchase %s; %s is left. Its commission is lowered by the refunded share.",
			money.Display(p.RefundedAmount, p.Currency), p.OrderID, money.Display(p.Amount-p.RefundedAmount, p.Currency))
	}
	u.admin.flash(c, "success", msg)
	return redirectTo(c, routePurchase, p.ID)
}

// Dashboard.

// dashboardView is what the dashboard template gets.
type dashboardView struct {
	Form     app.DashboardFilter
	Programs []option
	Ranges   []rangeLink
	D        *views.Dashboard
	Chart    template.HTML
	Error    string
	// Export links for the range shown.
	LeadsURL, PurchasesURL string
	// Steps is the getting-started checklist, empty once it is no help
	// (views.GettingStarted.Show); Fresh hides the charts until a first
	// click gives them something to plot.
	Steps []setupStep
	Fresh bool
}

// setupStep is one item of the getting-started checklist: what to do,
// where to do it, and whether the install shows it done.
type setupStep struct {
	Title, Text, URL, Action string
	Done                     bool
}

// setupSteps turns the install's state into the checklist, in the order a
// merchant goes through it.
func setupSteps(g views.GettingStarted) []setupStep {
	if !g.Show() {
		return nil
	}
	return []setupStep{
		{"Create a program", "Its commission, cookie window and landing page.", "/programs/new", "New program", g.Program},
		{"Install the code on your site", "Paste the script tag from Settings; this turns done with the first click on a referral link.", "/settings#install", "Get the code", g.FirstClick},
		{"Enroll an affiliate", "Add one yourself, or share a program's join page.", "/affiliates/new", "Add affiliate", g.Enrolled},
		{"Record a first lead", "Turn on Track Leads in a program and mark your sign-up form with data-spiffy-lead.", "/settings#install", "See how", g.FirstLead},
		{"Connect a payment provider", "Paste Stripe's, Paddle's or Lemon Squeezy's signing secret so sales arrive by themselves.", "/settings/integrations", "Integrations", g.Provider},
	}
}

// rangeLink is a quick range ("Last 7 days") for the dashboard.
type rangeLink struct {
	Label, URL string
	Active     bool
}

func (u *UI) dashboardPage(c echo.Context) error {
	f := app.DashboardFilter{
		Program: strings.TrimSpace(c.QueryParam("program")),
		From:    strings.TrimSpace(c.QueryParam("from")),
		To:      strings.TrimSpace(c.QueryParam("to")),
	}
	v := dashboardView{Form: f}
	programs, err := u.programOptions(listForm{Program: f.Program})
	if err != nil {
		return err
	}
	v.Programs = programs
	today := u.app.Now().UTC().Truncate(24 * time.Hour)
	for _, n := range []int{7, 30, 90} {
		from := today.AddDate(0, 0, -(n - 1)).Format(time.DateOnly)
		to := today.Format(time.DateOnly)
		q := url.Values{"from": {from}, "to": {to}}
		if f.Program != "" {
			q.Set("program", f.Program)
		}
		active := f.From == from && f.To == to || f.From == "" && f.To == "" && n == app.DashboardDefaultDays
		v.Ranges = append(v.Ranges, rangeLink{Label: fmt.Sprintf("Last %d days", n), URL: "/dashboard?" + q.Encode(), Active: active})
	}
	status := http.StatusOK
	d, err := u.app.Dashboard(f)
	if err != nil {
		if v.Error, err = listError(err); err != nil {
			return err
		}
		status = http.StatusBadRequest
	} else {
		v.D = d
		v.Chart = dayChart(d.Days)
		v.Steps, v.Fresh = setupSteps(d.Setup), !d.Setup.FirstClick
		v.Form.From, v.Form.To = d.From.Format(time.DateOnly), d.To.Format(time.DateOnly)
		q := url.Values{"from": {v.Form.From}, "to": {v.Form.To}}
		if f.Program != "" {
			q.Set("program", f.Program)
		}
		v.LeadsURL, v.PurchasesURL = "/leads?"+q.Encode(), "/purchases?"+q.Encode()
	}
	return u.adminPage(c, status, "admin/dashboard", "Dashboard", "dashboard", v)
}

// Exports.

type exportsView struct {
	Exports []exportRow
	Running bool
	TTL     string
}

// exportRow is an export with its filter in words.
type exportRow struct {
	views.ExportView
	FilterLabel string
}

// filterLabel describes a filter with names: "program Shop, from 2026-03-01".
func filterLabel(x views.ExportView) string {
	f := x.Filter
	var parts []string
	if f.Program != "" {
		parts = append(parts, "program "+or(x.ProgramName, f.Program))
	}
	if f.Affiliate != "" {
		parts = append(parts, "affiliate "+or(x.AffiliateName, f.Affiliate))
	}
	if f.From != "" {
		parts = append(parts, "from "+f.From)
	}
	if f.To != "" {
		parts = append(parts, "to "+f.To)
	}
	if f.Q != "" {
		parts = append(parts, "email “"+f.Q+"”")
	}
	if f.Status != "" {
		parts = append(parts, f.Status)
	}
	return strings.Join(parts, ", ")
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// durationText says a TTL in words: "24 hours", "30 minutes", "90s".
func durationText(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return countWord(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return countWord(int64(d/time.Minute), "minute")
	}
	return d.String()
}

// countWord is "1 hour", "2 hours".
func countWord(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return thousands(n) + " " + word + "s"
}

// percentText formats a percentage with one decimal: "33.3%".
func percentText(p float64) string { return strconv.FormatFloat(p, 'f', 1, 64) + "%" }

func (u *UI) exportsPage(c echo.Context) error {
	xs, err := u.app.Exports(app.Merchant)
	if err != nil {
		return err
	}
	v := exportsView{TTL: durationText(u.app.Config().Exports.TTL)}
	for _, x := range xs {
		v.Exports = append(v.Exports, exportRow{ExportView: x, FilterLabel: filterLabel(x)})
		if x.Status == app.ExportRunning {
			v.Running = true
		}
	}
	return u.adminPage(c, http.StatusOK, "admin/exports", "Exports", "", v)
}

func (u *UI) exportStart(c echo.Context) error {
	var f listForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	if f.Kind == app.ExportLeads {
		f.Status = ""
	}
	x, err := u.app.StartExport(app.Merchant, f.Kind, f.filter())
	if err != nil {
		return err
	}
	u.admin.flash(c, "success", fmt.Sprintf("Export of %s %s started; it will be listed here until it expires.", thousands(x.Total), x.Kind))
	return redirectTo(c, routeExports)
}

func (u *UI) exportDownload(c echo.Context) error {
	f, v, err := u.app.OpenExport(app.Merchant, c.Param("id"))
	if err != nil {
		return err
	}
	defer f.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+v.FileName+`"`)
	h.Set("Cache-Control", "no-store")
	http.ServeContent(c.Response(), c.Request(), v.FileName, v.CreatedAt, f)
	return nil
}

func (u *UI) exportDelete(c echo.Context) error {
	if err := u.app.DeleteExport(app.Merchant, c.Param("id")); err != nil {
		return err
	}
	u.admin.flash(c, "success", "Export deleted.")
	return redirectTo(c, routeExports)
}
