package ui

import (
	"bytes"
	"fmt"
	"net/http"
	"path"
	"strings"
	"testing"
	"time"

	nethtml "golang.org/x/net/html"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/brand"
	"github.com/spiffy/spiffy/app/event"
	"github.com/spiffy/spiffy/app/provider"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// Every page template is executed here with fixture view models of the types
// its handlers pass, so a template that names a field its view model lacks,
// or calls a helper with the wrong type, fails this test instead of a
// visitor's request. Lists get a fixture with rows (loops and conditionals
// run) and one without (the empty state). A page added without a fixture
// fails the test: add one to pageFixtures.

// pageFixture is one rendering of a page: its View and text the HTML must
// contain (HTML-escaped as the page writes it).
type pageFixture struct {
	name string
	view *View
	want []string
}

func TestEveryPageRendersItsFixtures(t *testing.T) {
	r, err := newRenderer(templateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	names := r.pageNames()
	if len(names) == 0 {
		t.Fatal("no page templates found")
	}
	fixtures := pageFixtures()
	for name, fs := range accountPageFixtures() { // accounts_test.go
		fixtures[name] = fs
	}
	for name := range fixtures {
		if _, ok := r.pages[name]; !ok {
			t.Errorf("fixtures for %q, which is not a page template", name)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if r.pages[name].Lookup("content") == nil {
				t.Fatal("no content block")
			}
			fs := fixtures[name]
			if len(fs) == 0 {
				t.Fatalf("no fixture: add the page's view model to pageFixtures in %s", "ui/templates_test.go")
			}
			for _, f := range fs {
				t.Run(f.name, func(t *testing.T) {
					html := renderFixture(t, r, name, f.view)
					for _, w := range f.want {
						if !strings.Contains(html, w) {
							t.Errorf("no %q in the page:\n%s", w, html)
						}
					}
				})
			}
		})
	}
}

// renderFixture executes a page as renderer.render does and checks what
// every page must be: a whole document, with no value html/template refused.
func renderFixture(t *testing.T, r *renderer, name string, v *View) string {
	t.Helper()
	var buf bytes.Buffer
	r.fillBrand(v)
	if err := r.pages[name].ExecuteTemplate(&buf, path.Base(name)+".html", v); err != nil {
		t.Fatalf("execute: %v", err)
	}
	html := buf.String()
	if !strings.HasPrefix(html, "<!doctype html>") || !strings.Contains(html, "</html>") {
		t.Errorf("not a whole page:\n%s", html)
	}
	for _, bad := range []string{"ZgotmplZ", "<no value>"} {
		if strings.Contains(html, bad) {
			t.Errorf("%s in the page:\n%s", bad, html)
		}
	}
	for _, bad := range inlineCode(html) {
		t.Errorf("%s: the Content-Security-Policy (script-src 'self', style-src 'self') blocks it; "+
			"put the behaviour in embedded/static/*.js (or the style in *.css) keyed by a data- attribute", bad)
	}
	return html
}

// inlineCode lists what the pages' Content-Security-Policy would block:
// <script> without src (or with one off the site), <style> blocks, on…=
// handler attributes, style= attributes and javascript: URLs.
func inlineCode(page string) []string {
	var bad []string
	z := nethtml.NewTokenizer(strings.NewReader(page))
	for {
		tt := z.Next()
		if tt == nethtml.ErrorToken {
			return bad
		}
		if tt != nethtml.StartTagToken && tt != nethtml.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		src, hasSrc := "", false
		for _, a := range tok.Attr {
			key, val := strings.ToLower(a.Key), strings.ToLower(strings.TrimSpace(a.Val))
			switch {
			case strings.HasPrefix(key, "on"):
				bad = append(bad, fmt.Sprintf("<%s %s=%q>: an inline event handler", tok.Data, a.Key, a.Val))
			case key == "style":
				bad = append(bad, fmt.Sprintf("<%s style=%q>: an inline style", tok.Data, a.Val))
			case (key == "href" || key == "src" || key == "action" || key == "formaction") && strings.HasPrefix(val, "javascript:"):
				bad = append(bad, fmt.Sprintf("<%s %s=%q>: a javascript: URL", tok.Data, a.Key, a.Val))
			}
			if key == "src" {
				src, hasSrc = a.Val, true
			}
		}
		switch tok.Data {
		case "script":
			if !hasSrc || !strings.HasPrefix(src, "/") || strings.HasPrefix(src, "//") {
				bad = append(bad, fmt.Sprintf("<script src=%q>: an inline or off-site script", src))
			}
		case "style":
			bad = append(bad, "<style>: an inline style sheet")
		}
	}
}

// The check above catches what it should: each of these once.
func TestInlineCodeIsFound(t *testing.T) {
	for _, page := range []string{
		`<script>alert(1)</script>`,
		`<script src="https://cdn.example/x.js"></script>`,
		`<form onsubmit="return confirm('x')"></form>`,
		`<input onfocus="this.select()">`,
		`<a href=" JavaScript:alert(1)">x</a>`,
		`<div style="color:red">x</div>`,
		`<style>p{}</style>`,
	} {
		if got := inlineCode(page); len(got) != 1 {
			t.Errorf("%s: found %q, want one", page, got)
		}
	}
	if got := inlineCode(`<script src="/static/ui.js?v=1" defer></script><pre>&lt;script&gt;x&lt;/script&gt; onclick=</pre><p data-confirm="Sure?">`); len(got) != 0 {
		t.Errorf("allowed markup flagged: %q", got)
	}
}

// Fixture records, shared by the pages.
var (
	fxDay  = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	fxFrom = time.Date(2026, 2, 13, 0, 0, 0, 0, time.UTC)
	fxTo   = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
)

func fxProgram() *store.Program {
	return &store.Program{
		ID: "prg_acme", Name: "Acme Partners", Description: "Earn 30% on every order you refer.",
		LandingURL: "https://shop.example.com/", CookieDays: 30, Attribution: app.AttributionLast,
		TrackLeads: true, ShareLeads: true, SharePurchasers: true, CommissionType: app.CommissionPercent,
		CommissionValue: 3000, Currency: "USD", CreatedAt: fxDay,
	}
}

func fxFlatProgram() *store.Program {
	return &store.Program{
		ID: "prg_flat", Name: "Flat Fee Club", LandingURL: "https://club.example.com/", CookieDays: 7,
		Attribution: app.AttributionLast, CommissionType: app.CommissionFlat, CommissionValue: 500,
		Currency: "EUR", AutoApprove: true, CreatedAt: fxDay,
	}
}

func fxAffiliate() *store.Affiliate {
	return &store.Affiliate{ID: "aff_paula", Name: "Paula Partner", Email: "paula@partners.example.com", Status: app.StatusActive, CreatedAt: fxDay}
}

func fxPendingAffiliate() *store.Affiliate {
	return &store.Affiliate{ID: "aff_pete", Name: "Pete Pending", Email: "pete@partners.example.com", Status: app.StatusPending, CreatedAt: fxDay}
}

func fxAdminView(nav string, data any) *View {
	return &View{
		Title: "Admin page", Nav: nav, CSRF: "csrf-admin", Data: data,
		Flashes: []Flash{{Kind: "success", Message: "Saved."}},
		Admin:   &store.Admin{ID: "adm_1", Email: "owner@shop.example.com", CreatedAt: fxDay},
		BaseURL: "https://aff.shop.example.com", Path: "/",
	}
}

func fxPortalView(nav string, data any) *View {
	return &View{
		Title: "Portal page", Nav: nav, CSRF: "csrf-portal", Data: data,
		Flashes:   []Flash{{Kind: "info", Message: "Welcome back."}},
		Affiliate: fxAffiliate(),
		BaseURL:   "https://aff.shop.example.com", Path: "/portal",
	}
}

// fxBranded gives a page an owner's brand with every part set.
func fxBranded(v *View) *View {
	v.Brand = brand.NewView(&store.Brand{Name: "Acme Inc", Accent: "#0b7285", TermsURL: "https://acme.example/terms",
		SupportEmail: "help@acme.example", LogoType: "image/png", LogoETag: "abc123"}, "shop.example.com")
	return v
}

func fxPublicView(data any) *View {
	return &View{Title: "Public page", CSRF: "csrf-public", Data: data, BaseURL: "https://aff.shop.example.com", Path: "/login"}
}

// fxInstallCode stands for app.InstallCode's snippet: the page only prints it.
const fxInstallCode = `<script src="https://aff.shop.example.com/spiffy.js" async></script>
<script>window.spiffy=window.spiffy||function(){(window.spiffy.q=window.spiffy.q||[]).push(arguments)};</script>`

func fxDeliveries() []deliveryRow {
	return []deliveryRow{
		{ID: "msg_ok", Event: event.PurchaseCreated, Status: store.MessageDelivered, EndpointURL: "https://hooks.example.com/ok",
			AffiliateName: "Paula Partner", AffiliateID: "aff_paula", Attempts: 1, Code: 200, LatencyMS: 42,
			Created: fxDay, LastAt: fxDay, Payload: "{\n  \"type\": \"purchase.created\"\n}"},
		{ID: "msg_retry", Event: event.LeadCreated, Status: store.MessagePending, EndpointURL: "https://hooks.example.com/down",
			AffiliateName: "Paula Partner", AffiliateID: "aff_paula", Attempts: 2, Code: 503, Error: "503 Service Unavailable",
			LatencyMS: 120, Created: fxDay, LastAt: fxDay, NextAt: fxDay.Add(5 * time.Minute), NextIn: "in 5 min", Payload: "{}"},
		{ID: "msg_new", Event: event.PurchaseRefunded, Status: store.MessagePending, EndpointURL: "https://hooks.example.com/ok",
			AffiliateName: "Paula Partner", AffiliateID: "aff_paula", Created: fxDay, NextAt: fxDay, NextIn: "due now", Payload: "{}"},
	}
}

func fxEndpoints() []endpointRow {
	failingSince := fxDay.Add(-2 * time.Hour)
	disabledAt := fxDay.Add(-time.Hour)
	failing := &store.WebhookEndpoint{ID: "wh_down", AffiliateID: "aff_paula", URL: "https://hooks.example.com/down",
		Secret: "whsec_down", Events: []string{event.LeadCreated}, FailingSince: &failingSince,
		LastError: "connection refused", CreatedAt: fxDay}
	disabled := &store.WebhookEndpoint{ID: "wh_off", AffiliateID: "aff_paula", URL: "https://hooks.example.com/off",
		Secret: "whsec_off", Events: event.Subscribable(), Disabled: true, DisabledAt: &disabledAt,
		DisabledBy: "merchant", DisabledReason: "Disabled by the program owner.", CreatedAt: fxDay}
	active := &store.WebhookEndpoint{ID: "wh_ok", AffiliateID: "aff_paula", URL: "https://hooks.example.com/ok",
		Secret: "whsec_ok", Events: []string{event.PurchaseCreated, event.PurchaseRefunded}, CreatedAt: fxDay}
	names := map[string]string{"aff_paula": "Paula Partner"}
	var rows []endpointRow
	for _, ep := range []*store.WebhookEndpoint{failing, disabled, active} {
		row := newEndpointRow(ep, names)
		row.Choices = eventChoices(ep.Events)
		rows = append(rows, row)
	}
	rows[2].Deliveries = fxDeliveries()
	rows[2].MoreURL = "/portal/webhooks/wh_ok"
	return rows
}

func fxDashboardDays() []views.DashboardDay {
	return []views.DashboardDay{
		{Day: fxTo.AddDate(0, 0, -2), Clicks: 120, Leads: 14, Purchases: 3},
		{Day: fxTo.AddDate(0, 0, -1), Clicks: 98, Leads: 9, Purchases: 0},
		{Day: fxTo, Clicks: 143, Leads: 21, Purchases: 5},
	}
}

func fxPortalDays() []views.PortalDay {
	var days []views.PortalDay
	for i := 0; i < 30; i++ {
		days = append(days, views.PortalDay{Date: fxFrom.AddDate(0, 0, i), Clicks: int64(i % 7), Leads: int64(i % 3), Purchases: int64(i % 5 / 4)})
	}
	return days
}

func fxPortalReport(list string) *views.PortalReport {
	return &views.PortalReport{
		PortalProgram: views.PortalProgram{Program: fxProgram(), Code: "paula", Link: "https://shop.example.com/?ref=paula", JoinedAt: fxDay},
		Range:         views.PortalRange{From: fxFrom, To: fxTo},
		Totals: views.PortalTotals{Clicks: 412, Leads: 37, Purchases: 9, Refunds: 1,
			Money: []store.RollupMoney{{Currency: "USD", Amount: 88200, Commission: 26460}}},
		Days: fxPortalDays(),
		List: list,
	}
}

// fxCommissions: a pending and an approved sale, a paid one and its clawback.
func fxCommissions() []*store.Commission {
	return []*store.Commission{
		{ID: "com_pending", PurchaseID: "pur_1", ProgramID: "prg_acme", AffiliateID: "aff_paula", Kind: app.CommissionSale, Amount: 1470,
			Currency: "USD", Status: app.CommissionPending, ApproveAt: fxDay.AddDate(0, 0, 30), CreatedAt: fxDay},
		{ID: "com_approved", PurchaseID: "pur_1", ProgramID: "prg_acme", AffiliateID: "aff_paula", Kind: app.CommissionRenewal, Amount: 1470,
			Currency: "USD", Status: app.CommissionApproved, ApproveAt: fxDay, CreatedAt: fxDay},
		{ID: "com_paid", PurchaseID: "pur_1", ProgramID: "prg_acme", AffiliateID: "aff_paula", Kind: app.CommissionSale, Amount: 1470,
			Currency: "USD", Status: app.CommissionPaid, ApproveAt: fxDay, CreatedAt: fxDay, PaidAt: fxDay.AddDate(0, 0, 6), PayoutID: "pay_1"},
		{ID: "com_claw", PurchaseID: "pur_1", ProgramID: "prg_acme", AffiliateID: "aff_paula", Kind: app.CommissionClawback, Amount: -300,
			Currency: "USD", Status: app.CommissionApproved, ApproveAt: fxDay, CreatedAt: fxDay, ClawbackOf: "com_paid"},
	}
}

func fxListView() *listView {
	return &listView{
		Form:          listForm{Page: 1},
		Programs:      []option{{Value: "prg_acme", Label: "Acme Partners"}, {Value: "prg_flat", Label: "Flat Fee Club"}},
		AffiliateText: "paula@partners.example.com",
		Count:         "0", Exact: true, FirstURL: "/leads",
	}
}

// pageFixtures maps every page template to its fixtures.
func pageFixtures() map[string][]pageFixture {
	prog, flat := fxProgram(), fxFlatProgram()
	paula, pete := fxAffiliate(), fxPendingAffiliate()
	blocked := fxAffiliate()
	blocked.Status = app.StatusBlocked
	lastUsed, revokedAt := fxDay.Add(-time.Hour), fxDay

	// Leads and Purchases.
	leads := fxListView()
	leads.Form = listForm{Program: "prg_acme", Cursor: "cur_2", Page: 2}
	leads.Programs[0].Selected = true
	leads.Count, leads.First, leads.Last, leads.Filtered = "52", 51, 52, true
	leads.FirstURL, leads.NextURL = "/leads?program=prg_acme", "/leads?cursor=cur_3&page=3&program=prg_acme"
	leads.Leads = []leadRow{
		{ID: "led_jane", Email: "jane@customer.example.com", Name: "Jane Buyer", Program: "Acme Partners", ProgramID: "prg_acme",
			Affiliate: "Paula Partner", AffiliateID: "aff_paula", Code: "paula", SubID: "newsletter", ClickID: "clk_1",
			PurchaseID: "pur_1", CreatedAt: fxDay},
		{ID: "led_erased", Program: "Acme Partners", ProgramID: "prg_acme", CreatedAt: fxDay},
	}
	leadsEmpty := fxListView()
	leadsFiltered := fxListView()
	leadsFiltered.Form.Q, leadsFiltered.Filtered = "nobody@", true
	leadsError := fxListView()
	leadsError.Form.From, leadsError.Error, leadsError.Filtered = "2026-13-01", "from must be a date like 2026-03-01", true

	purchaseStatuses := []option{{Value: app.PurchasePaid, Label: "Paid"}, {Value: app.PurchaseRefunded, Label: "Refunded", Selected: true}}
	purchases := fxListView()
	purchases.Statuses = purchaseStatuses
	purchases.Count, purchases.First, purchases.Last, purchases.FirstURL = "2", 1, 2, "/purchases"
	purchases.NextURL = "/purchases?cursor=cur_2&page=2"
	purchases.Report = views.PurchaseReport{Count: store.Count{N: 2, Exact: true}, MoneyKnown: true,
		Paid:     []views.MoneyTotal{{Currency: "USD", Amount: "$49.00", Commission: "$14.70"}},
		Refunded: []views.MoneyTotal{{Currency: "USD", Amount: "$19.00", Commission: "$5.70"}}}
	purchases.Purchases = []purchaseRow{
		{ID: "pur_1", OrderID: "ORD-1001", Email: "jane@customer.example.com", Name: "Jane Buyer", Product: "Pro plan",
			Amount: "$49.00", Commission: "$14.70", Currency: "USD", Status: app.PurchasePaid, Program: "Acme Partners",
			ProgramID: "prg_acme", Affiliate: "Paula Partner", AffiliateID: "aff_paula", Code: "paula", SubID: "newsletter",
			LeadID: "led_jane", PurchasedAt: fxDay},
		{ID: "pur_2", OrderID: "ORD-1002", Amount: "$19.00", Commission: "$5.70", Currency: "USD", Status: app.PurchaseRefunded,
			Program: "Acme Partners", ProgramID: "prg_acme", SelfReferral: true, PurchasedAt: fxDay},
	}
	purchasesEstimated := fxListView()
	purchasesEstimated.Statuses = purchaseStatuses
	purchasesEstimated.Form.Q, purchasesEstimated.Filtered = "j", true
	purchasesEstimated.Count, purchasesEstimated.Exact = "about 12,000", false
	purchasesEmpty := fxListView()
	purchasesEmpty.Statuses = purchaseStatuses
	purchasesEmpty.Report.MoneyKnown = true
	purchasesFiltered := fxListView()
	purchasesFiltered.Statuses, purchasesFiltered.Filtered = purchaseStatuses, true
	purchasesFiltered.Report.MoneyKnown = true
	purchasesError := fxListView()
	purchasesError.Statuses, purchasesError.Error = purchaseStatuses, "That page link is no longer valid; start again from the first page."

	// Dashboard.
	dash := &views.Dashboard{From: fxTo.AddDate(0, 0, -2), To: fxTo, Days: fxDashboardDays(), Clicks: 361, Leads: 44,
		Purchases: 8, Refunds: 1, Paid: []views.MoneyTotal{{Currency: "USD", Amount: "$392.00", Commission: "$117.60"}},
		LeadRate: 12.19, PurchaseRate: 18.18, ClickRate: 2.22,
		Top: []views.AffiliateStat{
			{AffiliateID: "aff_paula", Name: "Paula Partner", Clicks: 300, Leads: 40, Purchases: 7,
				Paid: []views.MoneyTotal{{Currency: "USD", Amount: "$343.00", Commission: "$102.90"}}, LeadRate: 13.3, PurchaseRate: 17.5},
			{AffiliateID: "aff_gone", Clicks: 61, Leads: 4},
		}}
	ranges := []rangeLink{
		{Label: "Last 7 days", URL: "/dashboard?from=2026-03-08&to=2026-03-14"},
		{Label: "Last 30 days", URL: "/dashboard?from=2026-02-13&to=2026-03-14", Active: true},
		{Label: "Last 90 days", URL: "/dashboard?from=2025-12-15&to=2026-03-14"},
	}
	dashboard := dashboardView{Form: app.DashboardFilter{Program: "prg_acme", From: "2026-03-12", To: "2026-03-14"},
		Programs: []option{{Value: "prg_acme", Label: "Acme Partners", Selected: true}}, Ranges: ranges, D: dash,
		Chart: dayChart(dash.Days), LeadsURL: "/leads?from=2026-03-12&program=prg_acme&to=2026-03-14",
		PurchasesURL: "/purchases?from=2026-03-12&program=prg_acme&to=2026-03-14"}
	quiet := *dash
	quiet.Top, quiet.Paid = nil, nil

	// Lead and purchase details.
	click := &store.Click{ID: "clk_1", ProgramID: "prg_acme", AffiliateID: "aff_paula", Code: "paula", SubID: "newsletter",
		VisitorID: "vis_1", URL: "https://shop.example.com/?ref=paula", Referrer: "https://news.example.com/", CreatedAt: fxDay}
	lead := &store.Lead{ID: "led_jane", ProgramID: "prg_acme", AffiliateID: "aff_paula", ReferralID: "clk_1", Code: "paula",
		SubID: "newsletter", Email: "jane@customer.example.com", Name: "Jane Buyer", URL: "https://shop.example.com/signup",
		CreatedAt: fxDay, PurchaseID: "pur_1"}
	purchase := &store.Purchase{ID: "pur_1", OrderID: "ORD-1001", ProgramID: "prg_acme", AffiliateID: "aff_paula",
		ReferralID: "clk_1", LeadID: "led_jane", Code: "paula", SubID: "newsletter", Email: "jane@customer.example.com",
		Name: "Jane Buyer", Product: "Pro plan", Amount: 4900, Currency: "USD", Commission: 1470, Status: app.PurchasePaid,
		PurchasedAt: fxDay, CreatedAt: fxDay}
	unattributed := &store.Purchase{ID: "pur_2", OrderID: "ORD-1002", ProgramID: "prg_acme", Amount: 1900, Currency: "USD",
		Status: app.PurchaseRefunded, SelfReferral: true, PurchasedAt: fxDay, CreatedAt: fxDay, RefundedAt: fxDay}

	partial := *purchase
	partial.RefundedAmount, partial.RefundedAt = 2000, fxDay

	// Payouts, a payout, commissions.
	payouts := &payoutsView{PayoutsPage: &views.PayoutsPage{
		Currencies: []views.CurrencyDue{
			{Currency: "EUR", Affiliates: 1, Payable: 1, Due: 1200, Pending: 300},
			{Currency: "USD", Affiliates: 150, Payable: 120, Due: 1234500, Pending: 5000, Processing: 700, Paid: 990000},
		},
		Balances: []views.BalanceRow{
			{Balance: store.Balance{AffiliateID: "aff_paula", Currency: "USD", Approved: 4200, Pending: 1470, Paid: 9900, Name: "Paula Partner"}},
			{Balance: store.Balance{AffiliateID: "aff_owes", Currency: "USD", Approved: -300, Name: "Owen Owes"}},
			{Balance: store.Balance{AffiliateID: "aff_gone", Currency: "USD", Pending: 100}},
		},
		Rows: 151, Page: 2, Pages: 2,
		Programs: []views.ProgramOption{{ID: "prg_acme", Name: "Acme Partners"}, {ID: "prg_flat", Name: "Flat Fee Club"}},
		Payouts: []*app.PayoutView{
			{Payout: &store.Payout{ID: "pay_open", Currency: "USD", Status: store.PayoutOpen, Total: 125000, ItemCount: 12, CreatedAt: fxDay}},
			{Payout: &store.Payout{ID: "pay_1", Currency: "EUR", ProgramID: "prg_flat", Status: store.PayoutPaid, Total: 5000, ItemCount: 1,
				CreatedAt: fxDay, PaidAt: fxDay.Add(time.Hour)}, ProgramName: "Flat Fee Club"},
		},
		HistoryNext: "cur_h2",
	}, Query: payoutsQuery{Currency: "USD", Page: 2, History: "cur_h1"}, Form: payoutForm{Currency: "USD", Minimum: "5000.00", Program: "prg_flat"},
		Errors:  FormErrors{"form": "No affiliate has at least 5000.00 USD approved and unpaid.", "minimum": "Minimum must be a decimal."},
		PrevURL: "/payouts?currency=USD", HistoryFirstURL: "/payouts?currency=USD&page=2#history",
		HistoryNextURL: "/payouts?currency=USD&history=cur_h2&page=2#history", First: 101, Last: 103}
	payoutItems := []*store.PayoutItem{
		{PayoutID: "pay_open", AffiliateID: "aff_paula", Name: "Paula Partner", Email: "paula@partners.example.com", Method: app.PayoutPayPal,
			PayoutEmail: "paula-pp@partners.example.com", Amount: 4200, Commissions: 3},
		{PayoutID: "pay_open", AffiliateID: "aff_wes", Name: "Wes Wise", Email: "wes@partners.example.com", Method: app.PayoutWise,
			PayoutEmail: "wes@wise.example.com", Amount: 1000, Commissions: 1},
		{PayoutID: "pay_open", AffiliateID: "aff_nomethod", Name: "Nina None", Email: "nina@partners.example.com", Amount: 500, Commissions: 1},
	}
	openPayout := payoutView{PayoutDetail: &views.PayoutDetail{PayoutView: &app.PayoutView{
		Payout: &store.Payout{ID: "pay_open", Currency: "USD", Minimum: 500, Status: store.PayoutOpen, Total: 5700, ItemCount: 103, CreatedAt: fxDay},
		Items:  payoutItems}, PayPal: 101, Wise: 1, NoMethod: 1, Next: "aff_nomethod"},
		NextURL: "/payouts/pay_open?after=aff_nomethod#items"}
	paidPayout := payoutView{PayoutDetail: &views.PayoutDetail{PayoutView: &app.PayoutView{
		Payout: &store.Payout{ID: "pay_1", Currency: "EUR", ProgramID: "prg_flat", Status: store.PayoutPaid, Total: 5000, ItemCount: 1,
			CreatedAt: fxDay, PaidAt: fxDay.Add(time.Hour)}, ProgramName: "Flat Fee Club", Items: payoutItems[:1]}, PayPal: 1},
		FirstURL: "/payouts/pay_1#items"}
	canceledPayout := payoutView{PayoutDetail: &views.PayoutDetail{PayoutView: &app.PayoutView{
		Payout: &store.Payout{ID: "pay_x", Currency: "USD", Status: store.PayoutCanceled, Total: 500, ItemCount: 1, CreatedAt: fxDay, CanceledAt: fxDay},
		Items:  []*store.PayoutItem{}}, After: "aff_zzz"}}
	var commissionRows []views.CommissionRow
	for _, c := range fxCommissions() {
		commissionRows = append(commissionRows, views.CommissionRow{Commission: c, ProgramName: "Acme Partners", AffiliateName: "Paula Partner", OrderID: "ORD-1001"})
	}

	// Portal webhooks.
	endpoints := fxEndpoints()
	portalWebhooks := &portalWebhooksView{Endpoints: endpoints, Form: endpointForm{URL: "http://not-https.example.com/"},
		Choices: eventChoices([]string{event.PurchaseCreated}), Errors: FormErrors{"url": "Endpoint URL must use https."},
		CanAdd: true, Max: app.MaxWebhookEndpoints, Schedule: "retried 8 times over 5 days", Timeout: "10s",
		EditID: "wh_ok", EditForm: endpointForm{URL: "https://hooks.example.com/ok2"}, EditErrors: FormErrors{"events": "Choose at least one event."}}

	return map[string][]pageFixture{
		"admin/affiliate": {
			{"pending with programs", fxAdminView("affiliates", &affiliateView{
				Affiliate:  pete,
				Form:       affiliateForm{Name: pete.Name, Email: pete.Email, Status: pete.Status},
				Errors:     FormErrors{"name": "Name is required."},
				InviteURL:  "https://aff.shop.example.com/portal/invite/tok_1",
				Programs:   []affiliateProgram{{ProgramID: "prg_acme", Name: "Acme Partners", Code: "pete", Link: "https://shop.example.com/?ref=pete"}},
				Candidates: []*store.Program{flat},
				Overview: &views.AffiliateOverview{
					Total:    views.Results{Clicks: 1234, Leads: 56, Purchases: 7, Money: []views.MoneyTotal{{Currency: "USD", Amount: "490.00", Commission: "147.00"}}},
					Programs: []views.ProgramResults{{ProgramID: "prg_acme", Name: "Acme Partners", Results: views.Results{Clicks: 1234, Leads: 56, Purchases: 7}}},
					Balances: []views.BalanceView{{Currency: "USD", Pending: "100.00", Approved: "47.00", Processing: "0.00", Paid: "0.00"}},
				},
				Enroll:       enrollForm{ProgramID: "prg_flat", Code: "bad code"},
				EnrollErrors: FormErrors{"code": "Referral code may use letters, digits, - and _."},
			}), []string{"Pete Pending", "is waiting for approval", "Approve", "Invite link for Pete Pending",
				"1,234", "490.00", "147.00 USD commission", "Commission balances", "47.00", "/commissions?affiliate=aff_pete",
				"https://shop.example.com/?ref=pete", "Flat Fee Club", "Name is required.", "Referral code may use letters"}},
			{"blocked in no program", fxAdminView("affiliates", &affiliateView{
				Affiliate: blocked, Form: affiliateForm{Name: blocked.Name, Email: blocked.Email, Status: blocked.Status},
				Overview: &views.AffiliateOverview{},
			}), []string{"Paula Partner is blocked", "No clicks, leads or purchases yet.", "No commission yet.", "Unblock", "Not in any program yet", "Add Paula Partner to a program", "Create your first program"}},
		},
		"admin/affiliate_new": {
			{"with errors", fxAdminView("affiliates", affiliateNewView{
				Form:   affiliateForm{Name: "Nina New", Email: "nina@", Status: app.StatusPending},
				Errors: FormErrors{"email": "Email is not a valid email address."},
			}), []string{"Add affiliate", `value="Nina New"`, "Email is not a valid email address.", `value="pending" selected`}},
		},
		"admin/affiliates": {
			{"rows", fxAdminView("affiliates", affiliatesView{
				Page: &views.AffiliatesPage{Rows: []views.AffiliateRow{
					{Affiliate: paula, Programs: []string{"Acme Partners"}, Results: views.Results{Clicks: 12000, Leads: 3, Purchases: 2,
						Money: []views.MoneyTotal{{Currency: "EUR", Amount: "98.00", Commission: "9.80"}}},
						Due: []views.Due{{Currency: "EUR", Total: "9.80", Pending: "4.80", Approved: "5.00"}}},
					{Affiliate: pete}}, Total: 2, All: 2, Prev: "aff_paula", Next: "aff_pete"},
				Tabs: []statusTab{{Label: "All", Count: 2, Active: true, URL: "/affiliates?q=pa"}, {Status: app.StatusPending, Label: "Pending", Count: 1, URL: "/affiliates?q=pa&status=pending"},
					{Status: app.StatusActive, Label: "Active", Count: 1}, {Status: app.StatusBlocked, Label: "Blocked"}},
				Query: affiliatesQuery{Q: "pa"}, Next: "/affiliates?q=pa",
				Pager: affiliatePager{PrevURL: "/affiliates?before=aff_paula&q=pa", NextURL: "/affiliates?after=aff_pete&q=pa"},
			}), []string{"Paula Partner", "Pete Pending", "Acme Partners", "No program yet", "Approve", "/affiliates?q=pa&amp;status=pending", "Add affiliate",
				`value="pa"`, "12,000", "98.00", "9.80", "4.80 pending", "← Previous", "/affiliates?after=aff_pete&amp;q=pa"}},
			{"no match", fxAdminView("affiliates", affiliatesView{
				Page:  &views.AffiliatesPage{Total: 2, All: 2},
				Tabs:  []statusTab{{Label: "All", Count: 2, Active: true}},
				Query: affiliatesQuery{Q: "zz"}, Error: "That page link is no longer valid; here is the first page.", Next: "/affiliates?q=zz",
			}), []string{"No affiliates match “zz”", "Show all affiliates", "That page link is no longer valid"}},
			{"empty tab", fxAdminView("affiliates", affiliatesView{
				Page:   &views.AffiliatesPage{Total: 2, All: 2},
				Tabs:   []statusTab{{Label: "All", Count: 2}, {Status: app.StatusBlocked, Label: "Blocked", Active: true}},
				Query:  affiliatesQuery{Status: app.StatusBlocked},
				Status: app.StatusBlocked, Next: "/affiliates?status=blocked",
			}), []string{"No blocked affiliates", "Show all affiliates"}},
			{"none", fxAdminView("affiliates", affiliatesView{Page: &views.AffiliatesPage{}, Next: "/affiliates"}),
				[]string{"Add your first affiliate", "Find a join link"}},
		},
		"admin/apikey_revoke": {
			{"active key", fxAdminView("settings", &store.APIKey{ID: "key_1", Name: "Checkout server", Prefix: "spf_ab12", CreatedAt: fxDay}),
				[]string{"Revoke API key “Checkout server”?", "spf_ab12", "/settings/api-keys/key_1/revoke", "Revoke key"}},
			{"revoked key", fxAdminView("settings", &store.APIKey{ID: "key_1", Name: "Checkout server", Prefix: "spf_ab12", CreatedAt: fxDay, RevokedAt: &revokedAt}),
				[]string{"already revoked on 2026-03-14 09:30 UTC", "Back to settings"}},
		},
		"admin/dashboard": {
			{"data", fxAdminView("dashboard", dashboard),
				[]string{"2026-03-12 to 2026-03-14 (UTC)", "Last 30 days", "day-chart", "392.00", "Paula Partner", "(deleted)", "See these leads"}},
			{"no activity", fxAdminView("dashboard", dashboardView{Form: dashboard.Form, Ranges: ranges, D: &quiet,
				Chart: dayChart(quiet.Days), LeadsURL: "/leads", PurchasesURL: "/purchases"}),
				[]string{"No affiliate activity in this range"}},
			{"bad range", fxAdminView("dashboard", dashboardView{Form: app.DashboardFilter{From: "2026-03-14", To: "2026-01-01"},
				Ranges: ranges, Error: "to must not be before from"}),
				[]string{"Clicks, leads and purchases per day", "to must not be before from", "Show the last 30 days"}},
		},
		"admin/exports": {
			{"rows", fxAdminView("", exportsView{Running: true, TTL: "24 hours", Exports: []exportRow{
				{ExportView: views.ExportView{ID: "exp_run", Kind: app.ExportLeads, Status: app.ExportRunning, Rows: 1200, Total: 3000,
					Percent: 40, CreatedAt: fxDay, ExpiresAt: fxDay.Add(24 * time.Hour), FileName: "leads-2026-03-14.csv"},
					FilterLabel: "program Acme Partners, from 2026-03-01"},
				{ExportView: views.ExportView{ID: "exp_done", Kind: app.ExportPurchases, Status: app.ExportDone, Rows: 400, Total: 400,
					Percent: 100, CreatedAt: fxDay, ExpiresAt: fxDay.Add(24 * time.Hour), FileName: "purchases-2026-03-14.csv"}},
				{ExportView: views.ExportView{ID: "exp_bad", Kind: app.ExportLeads, Status: app.ExportFailed, Error: "interrupted by a restart; start it again",
					CreatedAt: fxDay, ExpiresAt: fxDay.Add(24 * time.Hour), FileName: "leads-2026-03-13.csv"}},
			}}), []string{`http-equiv="refresh"`, "leads-2026-03-14.csv", "1,200 of 3,000", "/exports/exp_done/download",
				"interrupted by a restart", "everything", "Stop", "24 hours"}},
			{"empty", fxAdminView("", exportsView{TTL: "24 hours"}), []string{"No exports", "Export leads"}},
		},
		"admin/lead": {
			{"with click and purchase", fxAdminView("leads", &views.LeadDetail{Lead: lead, Click: click, Purchase: purchase,
				ProgramName: "Acme Partners", AffiliateName: "Paula Partner"}),
				[]string{"jane@customer.example.com", "Jane Buyer · signed up 2026-03-14 09:30 UTC", "ORD-1001", "$49.00", "https://news.example.com/", "vis_1"}},
			{"erased without click", fxAdminView("leads", &views.LeadDetail{Lead: &store.Lead{ID: "led_x", ProgramID: "prg_acme", CreatedAt: fxDay},
				ProgramName: "Acme Partners"}),
				[]string{"Erased lead", "signed up 2026-03-14 09:30 UTC", "Not yet", "The click this lead came through is not stored."}},
		},
		"admin/leads": {
			{"rows", fxAdminView("leads", leads), []string{"jane@customer.example.com", "erased", "Showing 51–52", "52</span> leads match",
				"Page 2", "First page", "Next page", "cursor=cur_3", `<option value="prg_acme" selected>`, "Export CSV"}},
			{"empty", fxAdminView("leads", leadsEmpty), []string{"No leads yet", "Track Leads"}},
			{"filtered empty", fxAdminView("leads", leadsFiltered), []string{"No leads match these filters", "Clear the filters"}},
			{"bad filter", fxAdminView("leads", leadsError), []string{"from must be a date like 2026-03-01", "disabled"}},
		},
		"admin/login": {
			{"signed in", fxPublicView(credentialsView{Email: "owner@shop.example.com", Next: "/leads", SignedInAs: "owner@shop.example.com",
				Errors: FormErrors{"form": "That email and password do not match an admin account."}}),
				[]string{"Merchant admin", "You are signed in as owner@shop.example.com", "Continue to the dashboard",
					`action="/logout"`, `action="/login"`, `value="/leads"`, "do not match an admin account", "Sign in to the partner portal"}},
			{"blank", fxPublicView(credentialsView{}), []string{"Sign in", `autocomplete="current-password"`}},
		},
		"admin/program_delete": {
			{"confirm", fxAdminView("programs", programDeleteView{Program: prog, Affiliates: 2}),
				[]string{"Delete “Acme Partners”?", "Its 2 affiliates", "/programs/prg_acme/delete", "Delete program"}},
		},
		"admin/program_form": {
			{"new", fxAdminView("programs", &programView{New: true, Form: newProgramForm(), Errors: FormErrors{"name": "Name is required."}}),
				[]string{"New program", "Create program", "Name is required.", `action="/programs"`, `name="hold_days" value="30"`, `name="recurring_months" value="0"`}},
			{"edit", fxAdminView("programs", &programView{ID: prog.ID, Program: prog, Form: programFormFrom(prog),
				Errors:  FormErrors{"landing_url": "Landing page URL must be an http(s) URL.", "hold_days": "Hold period must be between 0 and 365."},
				JoinURL: "https://aff.shop.example.com/join/prg_acme",
				Enrolled: &views.AffiliatesPage{Rows: []views.AffiliateRow{{Affiliate: paula,
					Enrollment: &store.Enrollment{ProgramID: prog.ID, AffiliateID: paula.ID, Code: "paula", Coupon: "PAULA10"},
					Results:    views.Results{Clicks: 5, Leads: 2, Purchases: 1}}}, Total: 1, All: 2, Next: "aff_paula"},
				EnrolledQuery: affiliatesQuery{Q: "pau"},
				Pager:         affiliatePager{NextURL: "/programs/prg_acme?after=aff_paula&q=pau#affiliates"},
				Enroll:        enrollForm{AffiliateID: "pete@partners.example.com"},
				EnrollErrors:  FormErrors{"code": "Referral code is taken."}}),
				[]string{"Acme Partners", "30-day cookie · 1 affiliate</p>", "View join page", "Save Settings", "Paula Partner",
					`value="pete@partners.example.com"`, `data-suggest="/affiliates/suggest"`, "Referral code is taken.",
					"https://shop.example.com/?ref=paula", "PAULA10", `value="pau"`, "Next →", "Landing page URL must be", "/programs/prg_acme/delete",
					"Hold period must be between 0 and 365.", "Recurring commissions"}},
			{"edit without affiliates", fxAdminView("programs", &programView{ID: flat.ID, Program: flat, Form: programFormFrom(flat),
				JoinURL: "https://aff.shop.example.com/join/prg_flat", Enrolled: &views.AffiliatesPage{}}),
				[]string{"Flat Fee Club", "0 affiliates", "No affiliates in this program yet", "Add your first affiliate", "They are approved automatically."}},
		},
		"admin/payouts": {
			{"balances, refused form, history", fxAdminView("payouts", payouts),
				[]string{"Due in USD", "$12,345.00", "to 120 affiliates", "to 1 affiliate", `<option value="USD" selected>USD — $12,345.00 due to 120 affiliates</option>`,
					`value="5000.00"`, `<option value="prg_flat" selected>Flat Fee Club</option>`, "No affiliate has at least 5000.00 USD",
					"Minimum must be a decimal.", "Showing 101–103 of 151 balances", "Paula Partner", "42.00", "-$3.00", "amount-negative", "(deleted)",
					`href="/commissions?affiliate=aff_paula"`, "Page 2 of 2", `href="/payouts?currency=USD#balances"`, `href="/payouts/pay_open"`,
					"badge-open", "All programs", "Flat Fee Club", "2026-03-14 10:30", "history=cur_h2", "Older →", "Newest", "All currencies"}},
			{"nothing yet", fxAdminView("payouts", &payoutsView{PayoutsPage: &views.PayoutsPage{Page: 1, Pages: 1}}),
				[]string{"Nothing is owed yet", "No balances yet", "No payouts yet"}},
			{"bad currency", fxAdminView("payouts", &payoutsView{PayoutsPage: &views.PayoutsPage{}, Query: payoutsQuery{Currency: "DOLLARS"},
				Error: "currency must be an ISO 4217 code such as USD"}),
				[]string{"currency must be an ISO 4217 code", "Show all balances"}},
		},
		"admin/payout": {
			{"open", fxAdminView("payouts", openPayout),
				[]string{"Payout of $57.00", "badge-open", "103 affiliates · all programs", `action="/payouts/pay_open/paid"`, "Mark paid",
					`action="/payouts/pay_open/cancel"`, "Cancel payout", `href="/payouts/pay_open/file?format=paypal"`, `href="/payouts/pay_open/file?format=wise"`,
					`href="/payouts/pay_open/file?format=generic"`, "101 affiliates paid by PayPal", "1 affiliate paid by Wise",
					"1 affiliate has no payout method: it is only in the generic CSV", "paula-pp@partners.example.com", "Wes Wise", "badge-warning",
					"after=aff_nomethod", "Next page →"}},
			{"paid", fxAdminView("payouts", paidPayout),
				[]string{"Payout of €50.00", "badge-paid", "Paid on 2026-03-14 10:30 UTC", "Flat Fee Club", `href="/programs/prg_flat"`, "First page"}},
			{"canceled, past the last item", fxAdminView("payouts", canceledPayout),
				[]string{"badge-canceled", "Canceled on 2026-03-14 09:30 UTC", "No affiliates on this page", `href="/payouts/pay_x"`}},
		},
		"admin/commissions": {
			{"rows", fxAdminView("payouts", commissionsView{CommissionList: &views.CommissionList{Rows: commissionRows, Next: "cur_2",
				Programs: []views.ProgramOption{{ID: "prg_acme", Name: "Acme Partners"}}, AffiliateName: "Paula Partner"},
				Filter: app.CommissionFilter{Affiliate: "aff_paula", Program: "prg_acme"}, Statuses: commissionStatuses, Cursor: "cur_1",
				Back: "/commissions?affiliate=aff_paula&cursor=cur_1&program=prg_acme", FirstURL: "/commissions?affiliate=aff_paula&program=prg_acme",
				NextURL: "/commissions?affiliate=aff_paula&cursor=cur_2&program=prg_acme"}),
				[]string{"ORD-1001", `href="/purchases/pur_1"`, "Paula Partner", "14.70", "approves 2026-04-13", "/commissions/com_pending/approve",
					"/commissions/com_approved/void", "clawback", "-$3.00", "paid 2026-03-20", `href="/payouts/pay_1"`,
					`value="/commissions?affiliate=aff_paula&amp;cursor=cur_1&amp;program=prg_acme"`, "Only", "affiliate <strong>Paula Partner</strong>",
					`<option value="prg_acme" selected>`, "Older →", "Newest"}},
			{"empty status", fxAdminView("payouts", commissionsView{CommissionList: &views.CommissionList{}, Filter: app.CommissionFilter{Status: "voided"},
				Statuses: commissionStatuses, Back: "/commissions?status=voided", FirstURL: "/commissions?status=voided"}),
				[]string{"No voided commissions", `class="active" aria-current="page">voided`}},
			{"bad filter", fxAdminView("payouts", commissionsView{CommissionList: &views.CommissionList{}, Filter: app.CommissionFilter{Status: "lost"},
				Statuses: commissionStatuses, Error: "status must be pending, approved, processing, paid or voided"}),
				[]string{"status must be pending, approved"}},
		},
		"admin/programs": {
			{"rows", fxAdminView("programs", programsView{Programs: []programRow{
				{Program: prog, Affiliates: 2, JoinURL: "https://aff.shop.example.com/join/prg_acme"},
				{Program: flat, JoinURL: "https://aff.shop.example.com/join/prg_flat"}}}),
				[]string{"Acme Partners", "Flat Fee Club", "Track Leads is on", "€5.00", "30 days", "New program"}},
			{"empty", fxAdminView("programs", programsView{Programs: []programRow{}}), []string{"Create your first program"}},
		},
		"admin/purchase": {
			{"paid", fxAdminView("purchases", &purchaseView{PurchaseDetail: &views.PurchaseDetail{Purchase: purchase, Click: click, Lead: lead,
				ProgramName: "Acme Partners", AffiliateName: "Paula Partner", Commissions: fxCommissions()[:1]}, Left: "49.00", LeftText: "$49.00"}),
				[]string{"ORD-1001", "$49.00 · purchased 2026-03-14 09:30 UTC", "$14.70", "jane@customer.example.com", "https://news.example.com/",
					`action="/purchases/pur_1/refund"`, `placeholder="49.00"`, "refund all that is left: $49.00", "approves 2026-04-13",
					`action="/commissions/com_pending/approve"`, `action="/commissions/com_pending/void"`, `value="/purchases/pur_1#commissions"`}},
			{"partly refunded, refused amount", fxAdminView("purchases", &purchaseView{PurchaseDetail: &views.PurchaseDetail{Purchase: &partial,
				ProgramName: "Acme Partners", AffiliateName: "Paula Partner", Commissions: fxCommissions()[2:]}, Left: "29.00", LeftText: "$29.00",
				Refund: refundForm{Amount: "30.00"}, RefundErrors: FormErrors{"amount": "Amount is more than the 29.00 left to refund."}}),
				[]string{"$20.00 refunded", `value="30.00"`, "Amount is more than the 29.00 left to refund.", "clawback", "-$3.00",
					"amount-negative", "paid 2026-03-20", `href="/payouts/pay_1"`}},
			{"refunded unattributed", fxAdminView("purchases", &purchaseView{PurchaseDetail: &views.PurchaseDetail{Purchase: unattributed, ProgramName: "Acme Partners"}}),
				[]string{"ORD-1002", "badge-refunded", "Unattributed (the affiliate's own email)", "No click led to this purchase.",
					"An unattributed purchase earns no commission.", "Fully refunded on 2026-03-14 09:30 UTC."}},
		},
		"admin/purchases": {
			{"rows", fxAdminView("purchases", purchases), []string{"ORD-1001", "ORD-1002", "Showing 1–2 of 2", "49.00", "Refunded: $19.00",
				"self", "Unattributed", "Next page", `<option value="refunded" selected>`}},
			{"estimated", fxAdminView("purchases", purchasesEstimated), []string{"Estimated", "Narrow the email filter"}},
			{"empty", fxAdminView("purchases", purchasesEmpty), []string{"No purchases yet", "POST /api/v1/purchases"}},
			{"filtered empty", fxAdminView("purchases", purchasesFiltered), []string{"No purchases match these filters", "Clear the filters"}},
			{"bad cursor", fxAdminView("purchases", purchasesError), []string{"That page link is no longer valid"}},
		},
		"admin/settings": {
			{"keys", fxAdminView("settings", &settingsView{
				Keys: []*store.APIKey{
					{ID: "key_1", Name: "Checkout server", Prefix: "spf_ab12", CreatedAt: fxDay, LastUsedAt: &lastUsed},
					{ID: "key_0", Name: "Old server", Prefix: "spf_zz99", CreatedAt: fxDay, RevokedAt: &revokedAt},
				},
				ActiveKeys: 1, NewKey: "spf_ab12_secret", Form: apiKeyForm{Name: "x"}, Errors: FormErrors{"name": "Name is taken."},
				APIBase: "https://aff.shop.example.com/api/v1", InstallCode: fxInstallCode,
			}), []string{"1 active", "Copy your new API key now", "spf_ab12_secret", "Checkout server", "2026-03-14 08:30",
				"Revoked 2026-03-14", "/settings/api-keys/key_1/revoke", "Name is taken.", "https://aff.shop.example.com/api/v1",
				`<pre id="install-code">&lt;script src=&#34;https://aff.shop.example.com/spiffy.js&#34; async&gt;`}},
			{"no keys", fxAdminView("settings", &settingsView{APIBase: "https://aff.shop.example.com/api/v1",
				InstallCode: fxInstallCode}),
				[]string{"0 active", "No API keys yet", "Create one to send purchases from your checkout."}},
		},
		"admin/integrations": {
			{"connected, from config, refused", fxAdminView("settings", &integrationsView{
				Providers: []views.IntegrationView{
					{Provider: "stripe", Title: "Stripe", EndpointURL: "https://aff.shop.example.com/integrations/stripe", SignatureHeader: "Stripe-Signature",
						SecretSource: views.SecretFromSettings, Events: []*store.ProviderEvent{
							{ID: "pev_1", Provider: "stripe", EventID: "evt_1", Type: "checkout.session.completed", Outcome: provider.OutcomeSale, PurchaseID: "pur_1", ReceivedAt: fxDay},
						}, Refused: []provider.Refusal{{At: fxDay, Reason: "invalid signature"}}},
					{Provider: "paddle", Title: "Paddle", EndpointURL: "https://aff.shop.example.com/integrations/paddle", SignatureHeader: "Paddle-Signature",
						SecretSource: views.SecretFromConfig},
					{Provider: "lemonsqueezy", Title: "Lemon Squeezy", EndpointURL: "https://aff.shop.example.com/integrations/lemonsqueezy", SignatureHeader: "X-Signature"},
				},
				Provider: "lemonsqueezy", Errors: FormErrors{"secret": "Paste the signing secret exactly."},
			}), []string{"https://aff.shop.example.com/integrations/stripe", "checkout.session.completed", "purchase recorded",
				"/purchases/pur_1", "invalid signature", "integrations.paddle.webhook_secret", "Not connected",
				`action="/settings/integrations/lemonsqueezy"`, "Paste the signing secret exactly.", "No events yet"}},
		},
		"admin/brand": {
			{"set, with errors", fxAdminView("settings", &brandSettingsView{
				Saved: brand.NewView(&store.Brand{Name: "Acme", LogoType: "image/png", LogoETag: "abc123"}, "shop.example.com"), HasLogo: true,
				DefaultName: "shop.example.com", AccentValue: "#0b7285",
				Form:   brandForm{Name: "Acme", Accent: "#0b7285", TermsURL: "http://acme.example/terms", SupportEmail: "help@acme.example"},
				Errors: FormErrors{"terms_url": "Give the full address of your terms, starting with https://."},
			}), []string{`enctype="multipart/form-data"`, `value="Acme"`, `src="/brand/logo?v=abc123"`, "Remove the logo",
				`type="color" name="accent" value="#0b7285"`, "starting with https://.", `value="help@acme.example"`, `href="/settings/brand" class="active"`}},
			{"unset", fxAdminView("settings", &brandSettingsView{Saved: brand.Default("shop.example.com"), DefaultName: "shop.example.com",
				AccentValue: "#4f46e5", Form: brandForm{NoAccent: "yes"}}),
				[]string{"No logo yet", `name="no_accent" value="yes" checked`, `placeholder="shop.example.com"`}},
		},
		"admin/setup": {
			{"with errors", fxPublicView(credentialsView{Email: "owner@shop.example.com", Errors: FormErrors{"password": "Password must be at least 8 characters."}}),
				[]string{"Welcome to Spiffy", `value="owner@shop.example.com"`, "Password must be at least 8 characters.", "Create admin"}},
		},
		"admin/webhooks": {
			{"endpoints and deliveries", fxAdminView("webhooks", adminWebhooksView{Endpoints: endpoints, Failing: 1,
				Deliveries: fxDeliveries(), Statuses: []string{store.MessagePending, store.MessageDelivered, store.MessageFailed},
				Cursor: "cur_1", NextCursor: "cur_2", Schedule: "retried 8 times over 5 days", Next: "/webhooks?cursor=cur_1"}),
				[]string{"1 endpoint is failing", "Failing since 2026-03-14 07:30", "Disabled by the program owner.", "Enable", "Disable",
					"Paula Partner", "purchase.created", "503 Service Unavailable", "in 5 min", "Newest", "cursor=cur_2", "Older →"}},
			{"empty", fxAdminView("webhooks", adminWebhooksView{Status: store.MessageFailed,
				Statuses: []string{store.MessagePending, store.MessageDelivered, store.MessageFailed}, Next: "/webhooks?status=failed"}),
				[]string{"No endpoints yet", "No deliveries failed"}},
		},
		"error": {
			{"not found", fxPublicView(map[string]any{"Status": http.StatusNotFound, "StatusText": http.StatusText(http.StatusNotFound),
				"Message": "Page not found.", "Home": "/portal"}),
				[]string{"Not Found · Spiffy", "Page not found.", `href="/portal"`, "Back to Spiffy"}},
		},
		"portal/home": {
			{"programs", fxPortalView("programs", portalHomeView{Range: views.PortalRange{From: fxFrom, To: fxTo}, Programs: []*views.PortalProgram{
				{Program: prog, Code: "paula", Link: "https://shop.example.com/?ref=paula", JoinedAt: fxDay,
					Totals: views.PortalTotals{Clicks: 412, Leads: 37, Purchases: 9, Money: []store.RollupMoney{{Currency: "USD", Amount: 88200, Commission: 26460}}}},
				{Program: flat, Code: "paula", Link: "https://club.example.com/?ref=paula", JoinedAt: fxDay},
			}}), []string{"Hi Paula Partner", "over the last 30 days", "Acme Partners", "https://shop.example.com/?ref=paula",
				"$264.60", "Statistics and referrals →", "Flat Fee Club", "data-portal-copy"}},
			{"pending", fxPortalView("programs", portalHomeView{Pending: true, Range: views.PortalRange{From: fxFrom, To: fxTo},
				Programs: []*views.PortalProgram{{Program: prog}, {Program: flat}}}),
				[]string{"Thanks for signing up.", "awaiting approval", "<strong>Acme Partners</strong>, <strong>Flat Fee Club</strong>"}},
			{"empty", fxPortalView("programs", portalHomeView{Range: views.PortalRange{From: fxFrom, To: fxTo}}),
				[]string{"You are not in any program yet"}},
		},
		"portal/invite": {
			{"with error", fxPublicView(inviteView{Token: "tok_1", Name: "Paula Partner", Email: "paula@partners.example.com",
				Errors: FormErrors{"password": "Password must be at least 8 characters."}}),
				[]string{"Welcome, Paula Partner!", "/portal/invite/tok_1", `name="username" value="paula@partners.example.com"`, "Password must be at least 8"}},
			{"no name", fxPublicView(inviteView{Token: "tok_1"}), []string{"Welcome!", "Set password and sign in"}},
		},
		"portal/invite_invalid": {
			{"expired", fxPublicView(nil), []string{"This link has expired", "Go to partner sign in"}},
		},
		"portal/join": {
			{"apply", fxPublicView(joinView{Program: prog, Form: joinForm{Name: "Nora", Email: "nora@example.com", Terms: "on"},
				Errors: FormErrors{"terms": "Accept the terms to join."}}),
				[]string{"Join Acme Partners", "Earn 30% on every order you refer.", "of every sale", "30 days", "/join/prg_acme",
					`value="Nora"`, "checked", "Accept the terms to join.", "Apply to join"}},
			{"auto approve", fxPublicView(joinView{Program: flat}), []string{"Flat Fee Club", "€5.00", "per sale", "Join and get my link"}},
			{"branded", fxBranded(fxPublicView(joinView{Program: prog})), []string{
				`<a href="https://acme.example/terms" target="_blank" rel="noopener noreferrer">terms</a>`,
				`<img class="brand-logo" src="/brand/logo?v=abc123" alt="">`, `<span class="brand-name">Acme Inc</span>`,
				`<link rel="stylesheet" href="/brand.css?v=`, `href="mailto:help@acme.example"`, "Powered by Spiffy", "· Acme Inc</title>"}},
		},
		"portal/login": {
			{"signed in", fxPublicView(credentialsView{Email: "paula@partners.example.com", Next: "/portal/webhooks", SignedInAs: "paula@partners.example.com",
				Errors: FormErrors{"form": "That email and password do not match a partner account."}}),
				[]string{"Partner sign in", "You are signed in as paula@partners.example.com", "Continue to your programs",
					`action="/portal/logout"`, `action="/portal/login"`, `value="/portal/webhooks"`, "do not match a partner account", `href="/portal/forgot"`}},
			{"blank", fxPublicView(credentialsView{}), []string{"Partner sign in", `autocomplete="current-password"`}},
		},
		"portal/payouts": {
			{"balances and history, refused details", fxPortalView("payouts", portalPayoutsView{PortalPayoutsPage: &views.PortalPayoutsPage{
				Method: "paypal", Email: "paula-pp@partners.example.com",
				Balances: []views.PortalBalance{{Currency: "EUR", Approved: -500}, {Currency: "USD", Pending: 1470, Approved: 4200, Processing: 300, Paid: 9900}},
				Payouts: []views.PortalPayout{
					{ID: "pay_open", Status: store.PayoutOpen, Currency: "USD", Amount: 300, Commissions: 1, Method: "paypal", PayoutEmail: "paula-pp@partners.example.com", CreatedAt: fxDay},
					{ID: "pay_1", Status: store.PayoutPaid, Currency: "USD", Amount: 9900, Commissions: 4, Method: "wise", PayoutEmail: "paula@wise.example.com",
						CreatedAt: fxFrom, PaidAt: fxFrom.Add(26 * time.Hour)},
					{ID: "pay_x", Status: store.PayoutCanceled, Currency: "USD", Amount: 100, Commissions: 1, CreatedAt: fxFrom, CanceledAt: fxFrom},
				},
				Next: "cur_2"}, Form: payoutDetailsForm{Method: "wise", Email: "not-an-email"},
				Errors: FormErrors{"email": "Email is not a valid email address."}, Cursor: "cur_1"}),
				[]string{"Your balance", "14.70", "42.00", "99.00", "-€5.00", "amount-negative", `name="method" value="wise" checked`,
					`value="not-an-email"`, "Email is not a valid email address.", "being paid", "2026-02-14", "Wise", "paula@wise.example.com",
					"canceled; due again", "cursor=cur_2", "← Newest", "Older →"}},
			{"nothing yet", fxPortalView("payouts", portalPayoutsView{PortalPayoutsPage: &views.PortalPayoutsPage{}}),
				[]string{"No commissions yet", "No payments yet", `name="method" value="" checked`}},
		},
		"portal/program": {
			{"leads, later page", fxPortalView("programs", portalProgramView{PortalReport: func() *views.PortalReport {
				r := fxPortalReport(views.PortalLeads)
				r.Leads = []views.PortalLead{{CreatedAt: fxDay, Email: "jane@customer.example.com", Name: "Jane Buyer", Code: "paula", SubID: "newsletter", Purchased: true},
					{CreatedAt: fxDay, Email: "joe@customer.example.com", Code: "paula"}}
				r.NextCursor = "cur_3"
				return r
			}(), Sub: "newsletter", SubLink: "https://shop.example.com/?ref=paula&sub=newsletter", Chart: newChart(fxPortalDays()), Cursor: "cur_2"}),
				[]string{"Acme Partners", "code <code>paula</code>", "https://shop.example.com/?ref=paula&amp;sub=newsletter", "$264.60", "$882.00",
					"1 refunded", "2.2%", "class=\"bar\"", "jane@customer.example.com", "leads.csv", "← Newest", "cursor=cur_3", "Older →"}},
			{"purchases", fxPortalView("programs", portalProgramView{PortalReport: func() *views.PortalReport {
				r := fxPortalReport(views.PortalPurchases)
				r.Purchases = []views.PortalPurchase{{PurchasedAt: fxDay, OrderID: "ORD-1001", Email: "jane@customer.example.com", Name: "Jane Buyer",
					Product: "Pro plan", Amount: "$49.00", Currency: "USD", Commission: "$14.70", Status: app.PurchasePaid, SubID: "newsletter",
					Earned: &views.PortalCommission{Status: app.CommissionPending, Amount: 1470, Currency: "USD", ApproveAt: fxDay.AddDate(0, 0, 30)}},
					{PurchasedAt: fxDay, OrderID: "ORD-1002", Amount: "$10.00", Currency: "USD", Commission: "$3.00", Status: app.PurchaseRefunded,
						Earned: &views.PortalCommission{Status: app.CommissionPaid, Amount: 300, Currency: "USD", PaidAt: fxTo, ClawedBack: -300}},
					{PurchasedAt: fxDay, OrderID: "ORD-1003", Amount: "$10.00", Currency: "USD", Commission: "$3.00", Status: app.PurchasePaid,
						Earned: &views.PortalCommission{Status: app.CommissionProcessing, Amount: 300, Currency: "USD"}},
					{PurchasedAt: fxDay, OrderID: "ORD-1004", Amount: "$10.00", Currency: "USD", Commission: "$0.00", Status: app.PurchasePaid}}
				r.NextCursor = "cur_2"
				return r
			}(), Chart: newChart(fxPortalDays())}),
				[]string{"ORD-1001", "Pro plan", "$14.70", "purchases.csv", "Older →", "Commission status", "on hold", "until 2026-04-13",
					"-$3.00 taken back after a refund", "being paid", `<span class="muted">—</span>`}},
			{"no leads", fxPortalView("programs", portalProgramView{PortalReport: fxPortalReport(views.PortalLeads), Chart: newChart(nil),
				Errors: FormErrors{"from": "from must be a date like 2026-03-01"}}),
				[]string{"No leads in this period", "No activity in this period yet", "from must be a date"}},
			{"no purchases on a later page", fxPortalView("programs", portalProgramView{PortalReport: fxPortalReport(views.PortalPurchases),
				Chart: newChart(fxPortalDays()), Cursor: "cur_9"}),
				[]string{"No purchases on this page", "← Newest"}},
			{"nothing shared", fxPortalView("programs", portalProgramView{PortalReport: func() *views.PortalReport {
				r := fxPortalReport("")
				r.Program = flat
				return r
			}(), Chart: newChart(fxPortalDays())}),
				[]string{"per sale", "Flat Fee Club keeps the details of leads and purchases private"}},
		},
		"portal/webhook_log": {
			{"deliveries", fxPortalView("webhooks", portalWebhookLogView{Endpoint: endpoints[0], Deliveries: fxDeliveries(),
				Cursor: "cur_1", NextCursor: "cur_2", Next: "/portal/webhooks/wh_down?cursor=cur_1"}),
				[]string{"https://hooks.example.com/down", "Failing", "purchase.created", "/portal/webhooks/messages/msg_ok/resend",
					`href="/portal/webhooks/wh_down"`, "/portal/webhooks/wh_down?cursor=cur_2", "Older →"}},
			{"empty", fxPortalView("webhooks", portalWebhookLogView{Endpoint: endpoints[1], Next: "/portal/webhooks/wh_off"}),
				[]string{"Disabled", "No deliveries", "Nothing has been sent to this endpoint yet."}},
		},
		"portal/webhooks": {
			{"endpoints", fxPortalView("webhooks", portalWebhooks),
				[]string{"https://hooks.example.com/down", "Deliveries have been failing since 2026-03-14 07:30 UTC — last error: connection refused",
					"Disabled by the program owner.", "whsec_ok", "Send test event", "All deliveries of this endpoint →",
					"https://hooks.example.com/ok2", "Choose at least one event.", "Add another endpoint", "Endpoint URL must use https.", "10s"}},
			{"none", fxPortalView("webhooks", &portalWebhooksView{Choices: eventChoices(event.Subscribable()), CanAdd: true,
				Max: app.MaxWebhookEndpoints, Schedule: "retried 8 times over 5 days", Timeout: "10s"}),
				[]string{"Add your first endpoint", "https://hooks.zapier.com/hooks/catch/"}},
			{"full", fxPortalView("webhooks", &portalWebhooksView{Endpoints: endpoints[2:], Max: app.MaxWebhookEndpoints}),
				[]string{"You have 10 endpoints, the most an account can have."}},
		},
	}
}
