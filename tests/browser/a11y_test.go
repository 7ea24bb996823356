//go:build browser

package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/brand"
	"github.com/spiffy/spiffy/app/demo"
	"github.com/spiffy/spiffy/app/mail/mailtest"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// Accessibility (issue 15): axe-core, the engine behind most accessibility
// checkers, audits every page of the admin and the portal over seeded data
// (so lists, badges and tabs are on screen, not empty states). The test
// fails on any violation axe rates serious or critical, and on the lesser
// rules the issue named (empty table headers, skipped heading levels). It
// also fails when a GET route of the admin or portal tables is neither
// audited nor listed below as a file download, so a new page is audited
// from the day it is added. Some pages are audited in a second state too
// (a form with errors, a pending affiliate, a phone's width with the menu
// opened from the keyboard), and a canary with planted faults proves axe
// still reports what it should.
//
// axe-core comes from npm, never from the repository: .ci/run installs it
// and passes its path as $SPIFFY_AXE. Without it the test fails.

// a11yAlsoFail are rules below "serious" that the issue reported and that
// must stay fixed.
var a11yAlsoFail = map[string]bool{"empty-table-header": true, "heading-order": true}

// axeSource reads axe.min.js from $SPIFFY_AXE.
func axeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("SPIFFY_AXE")
	if path == "" {
		t.Fatal("SPIFFY_AXE is not set: install axe-core from npm " +
			"(npm install --no-save --prefix DIR axe-core@4.14) and set SPIFFY_AXE=DIR/node_modules/axe-core/axe.min.js; .ci/run does both")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("SPIFFY_AXE=%s: %v (install axe-core from npm; .ci/run does)", path, err)
	}
	if !strings.Contains(string(src[:min(len(src), 2000)]), "axe") {
		t.Fatalf("SPIFFY_AXE=%s does not look like axe-core's axe.min.js", path)
	}
	return string(src)
}

// axeViolation is one rule that failed on a page, with the elements that
// failed it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []string `json:"target"`
		HTML    string   `json:"html"`
		Summary string   `json:"summary"`
	} `json:"nodes"`
}

// axeRun is evaluated after axe's source: it audits the whole document.
// Targets are flattened to strings (a selector inside a frame is a list).
const axeRun = `axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations.map(v => ({
  id: v.id, impact: v.impact || '', help: v.help,
  nodes: v.nodes.map(n => ({target: n.target.map(String), html: n.html.slice(0, 240), summary: (n.failureSummary || '').slice(0, 400)})),
}))))`

// a11yAuditor audits pages in one browser and keeps what it visited.
type a11yAuditor struct {
	t       *testing.T
	b       *Browser
	s       *Spiffy
	axe     string
	visited map[string]bool // route names
	pages   int
}

// audit navigates to path, waits until the page at want (a pathname; path's
// own when empty) has loaded, and runs axe on it. route is the route name
// the visit covers ("" for a page that is no route, like the error page).
func (a *a11yAuditor) audit(route, path, want string) {
	a.t.Helper()
	if want == "" {
		want = strings.SplitN(path, "?", 2)[0]
	}
	mvGo(a.t, a.b, fmt.Sprintf("location.pathname === %q", want), chromedp.Navigate(a.s.URL+path))
	a.check(route, path)
}

// check runs axe on the page as it is now.
func (a *a11yAuditor) check(route, label string) {
	a.t.Helper()
	if route != "" {
		a.visited[route] = true
	}
	a.pages++
	vs := a.run(label)
	for _, v := range vs {
		fail := v.Impact == "serious" || v.Impact == "critical" || a11yAlsoFail[v.ID]
		var b strings.Builder
		fmt.Fprintf(&b, "%s: axe %s (%s): %s, %d element(s)", label, v.ID, v.Impact, v.Help, len(v.Nodes))
		for i, n := range v.Nodes {
			if i == 8 {
				fmt.Fprintf(&b, "\n    … %d more", len(v.Nodes)-i)
				break
			}
			fmt.Fprintf(&b, "\n    %s\n      %s\n      %s", strings.Join(n.Target, " "), n.HTML,
				strings.ReplaceAll(n.Summary, "\n", " "))
		}
		if fail {
			a.t.Error(b.String())
		} else {
			a.t.Log(b.String())
		}
	}
}

// run injects axe-core into the page and returns its violations.
func (a *a11yAuditor) run(label string) []axeViolation {
	a.t.Helper()
	version, err := chromedp.Run(a.b.Ctx, chromedp.Evaluate[string](a.axe+"\n;axe.version"))
	if err != nil {
		a.t.Fatalf("%s: inject axe-core: %v", label, err)
	}
	if !strings.HasPrefix(version, "4.") {
		a.t.Fatalf("%s: axe-core %s, want 4.x", label, version)
	}
	raw, err := chromedp.Run(a.b.Ctx, chromedp.Evaluate[string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		a.t.Fatalf("%s: axe.run: %v", label, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		a.t.Fatalf("%s: axe result: %v", label, err)
	}
	return vs
}

// canary proves the audit can fail: it adds light grey text and an empty
// table header to the page and expects axe to report both.
func (a *a11yAuditor) canary() {
	a.t.Helper()
	if _, err := chromedp.Run(a.b.Ctx, chromedp.Evaluate[bool](`(() => {
  const m = document.querySelector('main') || document.body;
  m.insertAdjacentHTML('beforeend', '<p style="color:#b0b0b0;background:#fff">Canary text</p>' +
    '<table><thead><tr><th>Name</th><th></th></tr></thead><tbody><tr><td>x</td><td>y</td></tr></tbody></table>');
  return true;
})()`)); err != nil {
		a.t.Fatal(err)
	}
	found := map[string]bool{}
	for _, v := range a.run("canary") {
		found[v.ID] = true
	}
	if !found["color-contrast"] || !found["empty-table-header"] {
		a.t.Errorf("axe missed the canary's faults: it reported %v", found)
	}
}

// phone audits path at a phone's width, then opens the folded menu from
// the keyboard (Tab to the toggle, Space) and audits it open; the desktop
// width is restored afterwards.
func (a *a11yAuditor) phone(path string) {
	a.t.Helper()
	mvGo(a.t, a.b, fmt.Sprintf("location.pathname === %q", path),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(a.s.URL+path))
	a.check("", path+" (phone)")
	if err := chromedp.Do(a.b.Ctx, chromedp.Focus(chromedp.CSS(".brand")), chromedp.KeyEvent("\t")); err != nil {
		a.t.Fatalf("%s (phone): tab to the menu: %v", path, err)
	}
	if id := mvEval[string](a.t, a.b, `document.activeElement.id`); id != "nav-toggle" {
		a.t.Errorf("%s (phone): Tab after the logo focuses #%s, not the menu toggle", path, id)
	} else if err := chromedp.Do(a.b.Ctx, chromedp.KeyEvent(" ")); err != nil {
		a.t.Fatalf("%s (phone): open the menu: %v", path, err)
	}
	if !mvEval[bool](a.t, a.b, `getComputedStyle(document.querySelector('.mainnav')).display !== 'none'`) {
		a.t.Errorf("%s (phone): the menu does not open from the keyboard", path)
	}
	a.check("", path+" (phone, menu open)")
	if err := chromedp.Do(a.b.Ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		a.t.Fatal(err)
	}
}

// signIn posts a sign-in form in the browser and waits for home.
func (a *a11yAuditor) signIn(loginPath, email, password, home string) {
	a.t.Helper()
	mvGo(a.t, a.b, fmt.Sprintf("location.pathname === %q", loginPath), chromedp.Navigate(a.s.URL+loginPath))
	mvGo(a.t, a.b, fmt.Sprintf("location.pathname === %q", home),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
}

func TestA11yEveryAdminAndPortalPage(t *testing.T) {
	src := axeSource(t)
	smtp := mailtest.Start(t)
	s := StartSpiffy(t, smtp.Configure, apptest.LoopbackWebhooks)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := s.App.Start(ctx); err != nil {
		t.Fatal(err)
	}
	b := NewBrowser(t, 400*time.Second)
	// Axe is injected into pages whatever their Content-Security-Policy.
	if err := chromedp.Do(b.Ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	a := &a11yAuditor{t: t, b: b, s: s, axe: src, visited: map[string]bool{}}
	started := time.Now()

	// First start: no admin yet, so /setup is open.
	a.audit("admin.setup", "/setup", "")

	// A realistic account: programs, affiliates, clicks, leads, purchases,
	// commissions and payouts (paid and open), an API key.
	res, err := demo.Seed(ctx, s.App, s.DB, demo.Options{Leads: 40, Clicks: 300, Purchases: 40, Affiliates: 8}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rd := s.App.Views()
	programs, err := rd.Programs()
	if err != nil || len(programs) == 0 {
		t.Fatalf("programs: %d, %v", len(programs), err)
	}
	sharing := map[string]*store.Program{}
	for _, p := range programs {
		if p.ShareLeads && p.SharePurchasers {
			sharing[p.ID] = p
		}
	}
	// The portal's affiliate: active, with a payout, in a program that
	// shares leads and purchasers (so its page shows both lists).
	affs, err := rd.Affiliates()
	if err != nil {
		t.Fatal(err)
	}
	var aff *store.Affiliate
	var prg *store.Program
	for _, af := range affs {
		if af.Status != app.StatusActive || prg != nil {
			continue
		}
		pos, _, err := s.App.Payouts(app.AffiliateScope(af.ID), "", 1)
		if err != nil {
			t.Fatal(err)
		}
		enr, err := rd.EnrollmentsOfAffiliate(af.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range enr {
			if sharing[e.ProgramID] != nil && len(pos) > 0 {
				aff, prg = af, sharing[e.ProgramID]
				break
			}
		}
	}
	if aff == nil {
		t.Fatal("the demo has no active affiliate with a payout in a program that shares leads and purchasers")
	}
	leads, _, err := rd.LeadsPage(store.LeadQuery{Limit: 1})
	if err != nil || len(leads) == 0 {
		t.Fatalf("leads: %v", err)
	}
	purchases, _, err := rd.PurchasesPage(store.PurchaseQuery{Limit: 1})
	if err != nil || len(purchases) == 0 {
		t.Fatalf("purchases: %v", err)
	}
	payouts, _, err := s.App.Payouts(app.Merchant, "", 1)
	if err != nil || len(payouts) == 0 {
		t.Fatalf("payouts: %v", err)
	}
	keys, err := rd.APIKeys()
	if err != nil || len(keys) == 0 {
		t.Fatalf("api keys: %v", err)
	}
	admins, err := rd.Admins()
	if err != nil || len(admins) == 0 {
		t.Fatalf("admins: %v", err)
	}

	// Webhooks: an endpoint with a delivered test event, and a disabled one.
	receiver := StartSite(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	ep, err := s.App.CreateWebhookEndpoint(ctx, aff.ID, app.WebhookEndpointInput{URL: apptest.Ptr(receiver + "/hooks/spiffy")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.SendTestWebhook(app.AffiliateScope(aff.ID), ep.ID); err != nil {
		t.Fatal(err)
	}
	off, err := s.App.CreateWebhookEndpoint(ctx, aff.ID, app.WebhookEndpointInput{URL: apptest.Ptr(receiver + "/hooks/old")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.UpdateWebhookEndpoint(ctx, app.AffiliateScope(aff.ID), off.ID, app.WebhookEndpointInput{Disabled: apptest.Ptr(true)}); err != nil {
		t.Fatal(err)
	}
	s.WaitWebhooks()

	// An export on the Exports page, a pending applicant, an invited
	// affiliate, an invited admin, and reset links mailed to both sides.
	if _, err := s.App.StartExport(app.Merchant, app.ExportLeads, views.ListFilter{Program: prg.ID}); err != nil {
		t.Fatal(err)
	}
	s.App.WaitExports()
	if _, _, err := s.App.JoinProgram(prg.ID, app.JoinInput{Name: "Penny Pending", Email: "penny@partners.example", Password: "penny-password", Terms: true}); err != nil {
		t.Fatal(err)
	}
	_, invite, err := s.App.CreateAffiliate(app.AffiliateInput{Name: apptest.Ptr("Ivy Invited"), Email: apptest.Ptr("ivy@partners.example")})
	if err != nil || invite == "" {
		t.Fatalf("invite affiliate: %q, %v", invite, err)
	}
	_, adminInvite, err := s.App.InviteAdmin(admins[0].ID, "second@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ kind, email string }{{app.SessionAdmin, res.AdminEmail}, {app.SessionAffiliate, aff.Email}} {
		if err := s.App.RequestPasswordReset(r.kind, r.email, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	adminReset := smtp.WaitFor(res.AdminEmail, "Reset your password").Link("/reset/")
	portalReset := smtp.WaitFor(aff.Email, "Reset your password").Link("/portal/reset/")
	local := func(u string) string {
		t.Helper()
		if !strings.HasPrefix(u, s.URL+"/") {
			t.Fatalf("link %q is not on %s", u, s.URL)
		}
		return strings.TrimPrefix(u, s.URL)
	}
	// A light accent, so that the brand's derived colours are audited where
	// contrast is hardest to keep.
	if err := s.App.SetBrand(brand.Input{Name: "Acme Partners", Accent: "#f59f00", TermsURL: "https://shop.example/terms", SupportEmail: "help@shop.example"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded in %s", time.Since(started).Round(time.Millisecond))

	// Signed out.
	a.audit("admin.login", "/login", "")
	mvGo(t, b, `!!document.querySelector('.field-error, .flash-error, [role=alert]')`,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), res.AdminEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "not-the-password"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
	a.check("", "/login (after a wrong password)")
	a.audit("admin.forgot", "/forgot", "")
	a.audit("admin.reset", local(adminReset), "")
	a.audit("admin.reset", local(adminInvite), "")
	a.audit("", "/reset/not-a-valid-token", "")
	a.audit("portal.login", "/portal/login", "")
	a.audit("portal.forgot", "/portal/forgot", "")
	a.audit("portal.reset", local(portalReset), "")
	a.audit("portal.invite", local(invite), "")
	a.audit("", "/portal/invite/not-a-valid-token", "")
	a.audit("portal.join", "/join/"+prg.ID, "")
	mvGo(t, b, `!!document.querySelector('.field-error')`, // the terms left unchecked
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Jo Joiner"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "jo@partners.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "jo-password"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
	a.check("", "/join (terms not accepted)")
	a.audit("portal.unsubscribe", local(s.App.UnsubscribeURL(aff.ID)), "")

	// The merchant's admin.
	a.signIn("/login", res.AdminEmail, res.AdminPassword, "/dashboard")
	admin := []struct{ route, path, want string }{
		{"admin.home", "/", "/dashboard"},
		{"admin.dashboard", "/dashboard", ""},
		{"admin.programs", "/programs", ""},
		{"admin.programs.new", "/programs/new", ""},
		{"admin.program", "/programs/" + prg.ID, ""},
		{"admin.program.delete.confirm", "/programs/" + prg.ID + "/delete", ""},
		{"admin.affiliates", "/affiliates", ""},
		{"admin.affiliates.new", "/affiliates/new", ""},
		{"admin.affiliate", "/affiliates/" + aff.ID, ""},
		{"admin.leads", "/leads", ""},
		{"admin.lead", "/leads/" + leads[0].ID, ""},
		{"admin.purchases", "/purchases", ""},
		{"admin.purchase", "/purchases/" + purchases[0].ID, ""},
		{"admin.exports", "/exports", ""},
		{"admin.commissions", "/commissions", ""},
		{"admin.payouts", "/payouts", ""},
		{"admin.payout", "/payouts/" + payouts[0].ID, ""},
		{"admin.webhooks", "/webhooks", ""},
		{"admin.settings", "/settings", ""},
		{"admin.apikey.revoke.confirm", "/settings/api-keys/" + keys[0].ID + "/revoke", ""},
		{"admin.integrations", "/settings/integrations", ""},
		{"admin.settings.email", "/settings/email", ""},
		{"admin.settings.admins", "/settings/admins", ""},
		{"admin.settings.brand", "/settings/brand", ""},
		{"", "/programs/no-such-program", ""}, // the error page
	}
	for _, p := range admin {
		a.audit(p.route, p.path, p.want)
	}

	// At a phone's width the menu folds behind a toggle, which must be
	// reachable and usable from the keyboard.
	a.phone("/dashboard")

	// The affiliate's portal.
	a.signIn("/portal/login", aff.Email, res.AffiliatePassword, "/portal")
	portal := []struct{ route, path, want string }{
		{"portal.home", "/portal", ""},
		{"portal.home.slash", "/portal/", "/portal"},
		{"portal.program", "/portal/programs/" + prg.ID, ""},
		{"portal.program", "/portal/programs/" + prg.ID + "?list=purchases", ""},
		{"portal.payouts", "/portal/payouts", ""},
		{"portal.webhooks", "/portal/webhooks", ""},
		{"portal.webhook", "/portal/webhooks/" + ep.ID, ""},
		{"", "/portal/programs/no-such-program", ""}, // the error page
	}
	for _, p := range portal {
		a.audit(p.route, p.path, p.want)
	}
	a.phone("/portal")

	// A pending applicant's portal says it awaits approval.
	mvGo(t, b, `location.pathname === "/portal/login"`,
		chromedp.Navigate(s.URL+"/portal"), chromedp.Click(chromedp.CSS(`form.signout button`)))
	a.signIn("/portal/login", "penny@partners.example", "penny-password", "/portal")
	a.check("portal.home", "/portal (pending)")

	a.canary()

	// Every page of the route tables was audited.
	if missed := unvisitedPages(t, s.Server.Echo, a.visited); len(missed) > 0 {
		t.Errorf("GET routes not audited (add them to this test, or to notPages if they answer no page):\n  %s", strings.Join(missed, "\n  "))
	}
	t.Logf("audited %d page views in %s", a.pages, time.Since(started).Round(time.Millisecond))
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
