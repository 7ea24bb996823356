//go:build browser

package browser

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/demo"
	"github.com/spiffy/spiffy/app/mail/mailtest"
	"github.com/spiffy/spiffy/store"
)

// Phone width (issue 16): every page of the admin and the portal, over the
// demo's data plus an affiliate, a lead and a purchase with very long
// emails, fits a 390 px wide phone: nothing makes the page scroll
// sideways (tables scroll inside their own box). The test lists every
// offender with the elements that stick out, and fails when a GET route
// of the route tables was not visited, so a new page is checked too.

// longEmail is an address as long as real ones get, with no place to
// break but its dots and dashes.
const longEmail = "maximilian.alexander.oberhauser-wittgenstein.partnerships@subsidiary.international-enterprises.example.com"

// demoAccount is a seeded Spiffy with the ids the page tours need.
type demoAccount struct {
	s                    *Spiffy
	res                  *demo.Result
	smtp                 *mailtest.Server
	prg                  *store.Program // shares leads and purchasers
	aff                  *store.Affiliate
	longAff              *store.Affiliate
	lead, purchase       string // ids, with the long email
	payout, apiKey, hook string
}

// seedDemoAccount starts Spiffy with the demo's data and a few records
// with very long emails.
func seedDemoAccount(t *testing.T) *demoAccount {
	t.Helper()
	smtp := mailtest.Start(t)
	s := StartSpiffy(t, smtp.Configure, apptest.LoopbackWebhooks)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := s.App.Start(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := demo.Seed(ctx, s.App, s.DB, demo.Options{Leads: 400, Clicks: 3000, Purchases: 150, Affiliates: 12}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	d := &demoAccount{s: s, res: res, smtp: smtp}
	rd := s.App.Views()
	affs, err := rd.Affiliates()
	if err != nil {
		t.Fatal(err)
	}
	for _, af := range affs {
		if af.Email == res.AffiliateEmail {
			d.aff = af
		}
	}
	if d.aff == nil {
		t.Fatalf("the demo's printed affiliate %q is not stored", res.AffiliateEmail)
	}
	aff := d.aff
	enr, err := rd.EnrollmentsOfAffiliate(aff.ID)
	if err != nil || len(enr) == 0 {
		t.Fatalf("enrollments of %s: %v", aff.Email, err)
	}
	progs, err := rd.Programs()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range enr {
		for _, p := range progs {
			if p.ID == e.ProgramID && (d.prg == nil || p.ShareLeads && p.SharePurchasers) {
				d.prg = p
			}
		}
	}
	// The long emails: an affiliate, the lead it refers, that lead's purchase.
	d.longAff = s.Affiliate("Maximilian Alexander Oberhauser-Wittgenstein", longEmail, "maximilian", d.prg)
	if _, err := s.App.UpdateProgram(d.prg.ID, app.ProgramInput{TrackLeads: apptest.Ptr(true)}); err != nil {
		t.Fatal(err)
	}
	rec := s.Request(http.MethodPost, "/t/click", map[string]string{"ref": "maximilian"})
	apptest.Expect(t, rec, http.StatusCreated)
	ref := apptest.Decode[struct{ Referral string }](t, rec).Referral
	rec = s.Request(http.MethodPost, "/t/lead", map[string]string{"email": "customer." + longEmail, "name": "Anastasia Konstantinopoulou-Papadimitriou", "referral": ref})
	apptest.Expect(t, rec, http.StatusCreated)
	d.lead = apptest.Decode[struct{ Lead string }](t, rec).Lead
	rec = s.API(http.MethodPost, "/purchases", map[string]string{"order_id": "ORDER-2026-0000000000000001", "program": d.prg.ID,
		"email": "customer." + longEmail, "amount": "123456.78", "currency": "USD", "product": "Enterprise plan, yearly, 250 seats"})
	apptest.Expect(t, rec, http.StatusCreated)
	d.purchase = apptest.Decode[struct{ ID string }](t, rec).ID

	pos, _, err := s.App.Payouts(app.Merchant, "", 1)
	if err != nil || len(pos) == 0 {
		t.Fatalf("the demo has no payout: %v", err)
	}
	d.payout = pos[0].ID
	keys, err := rd.APIKeys()
	if err != nil || len(keys) == 0 {
		t.Fatalf("api keys: %v", err)
	}
	d.apiKey = keys[0].ID
	receiver := StartSite(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	ep, err := s.App.CreateWebhookEndpoint(ctx, d.aff.ID, app.WebhookEndpointInput{URL: apptest.Ptr(receiver + "/hooks/" + strings.Repeat("spiffy-", 12))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.SendTestWebhook(app.AffiliateScope(d.aff.ID), ep.ID); err != nil {
		t.Fatal(err)
	}
	d.hook = ep.ID
	s.WaitWebhooks()
	return d
}

// signIn posts a sign-in form in the browser and waits for home.
func (d *demoAccount) signIn(t *testing.T, b *Browser, loginPath, email, password, home string) {
	t.Helper()
	mvGo(t, b, fmt.Sprintf("location.pathname === %q", loginPath), chromedp.Navigate(d.s.URL+loginPath))
	mvGo(t, b, fmt.Sprintf("location.pathname === %q", home),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
}

// overflowJS (at 390 px, the phone's width) lists what makes the page wider than the viewport: elements
// whose right edge is past it, outside any box that scrolls on its own.
const overflowJS = `(() => {
  const vw = 390, out = [];
  if (document.documentElement.scrollWidth <= vw) return out;
  const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > vw + 1 && r.width > 0 && !scrolls(el)) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined ? '.' + String(el.className).trim().split(/\s+/).join('.') : '') +
        ' (right ' + Math.round(r.right) + 'px): ' + (el.textContent || '').trim().slice(0, 60));
    }
  }
  return out.slice(0, 6);
})()`

func TestPhoneWidthEveryAdminAndPortalPage(t *testing.T) {
	d := seedDemoAccount(t)
	s := d.s
	// Links with tokens: an invite, reset links on both sides.
	_, invite, err := s.App.CreateAffiliate(app.AffiliateInput{Name: apptest.Ptr("Ivy Invited"), Email: apptest.Ptr("ivy@partners.example")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ kind, email string }{{app.SessionAdmin, d.res.AdminEmail}, {app.SessionAffiliate, d.aff.Email}} {
		if err := s.App.RequestPasswordReset(r.kind, r.email, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	local := func(u string) string { return strings.TrimPrefix(u, s.URL) }
	adminReset := local(d.smtp.WaitFor(d.res.AdminEmail, "Reset your password").Link("/reset/"))
	portalReset := local(d.smtp.WaitFor(d.aff.Email, "Reset your password").Link("/portal/reset/"))

	b := NewBrowser(t, 300*time.Second)
	if err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	visited := map[string]bool{}
	var offenders []string
	check := func(route, path, want string) {
		t.Helper()
		if want == "" {
			want = strings.SplitN(path, "?", 2)[0]
		}
		mvGo(t, b, fmt.Sprintf("location.pathname === %q", want), chromedp.Navigate(s.URL+path))
		visited[route] = true
		sw := mvEval[int](t, b, `document.documentElement.scrollWidth`)
		// The phone's width, not window.innerWidth: a mobile browser widens
		// its layout viewport to content that overflows.
		const vw = 390
		if sw > vw {
			els := mvEval[[]string](t, b, overflowJS)
			t.Logf("too wide: %s", path)
			offenders = append(offenders, fmt.Sprintf("%s: scrollWidth %d > %d\n      %s", path, sw, vw, strings.Join(els, "\n      ")))
		}
	}

	// Signed out.
	for _, p := range []struct{ route, path string }{
		{"admin.login", "/login"}, {"admin.forgot", "/forgot"}, {"admin.reset", adminReset},
		{"portal.login", "/portal/login"}, {"portal.forgot", "/portal/forgot"}, {"portal.reset", portalReset},
		{"portal.invite", local(invite)}, {"portal.join", "/join/" + d.prg.ID},
		{"portal.unsubscribe", local(s.App.UnsubscribeURL(d.aff.ID))},
	} {
		check(p.route, p.path, "")
	}
	visited["admin.setup"] = true // closed once an admin exists: it redirects to sign-in, checked above

	d.signIn(t, b, "/login", d.res.AdminEmail, d.res.AdminPassword, "/dashboard")
	for _, p := range []struct{ route, path, want string }{
		{"admin.home", "/", "/dashboard"},
		{"admin.dashboard", "/dashboard", ""},
		{"admin.programs", "/programs", ""},
		{"admin.programs.new", "/programs/new", ""},
		{"admin.program", "/programs/" + d.prg.ID, ""},
		{"admin.program.delete.confirm", "/programs/" + d.prg.ID + "/delete", ""},
		{"admin.affiliates", "/affiliates", ""},
		{"admin.affiliates.new", "/affiliates/new", ""},
		{"admin.affiliate", "/affiliates/" + d.longAff.ID, ""},
		{"admin.leads", "/leads", ""},
		{"admin.lead", "/leads/" + d.lead, ""},
		{"admin.purchases", "/purchases", ""},
		{"admin.purchase", "/purchases/" + d.purchase, ""},
		{"admin.exports", "/exports", ""},
		{"admin.commissions", "/commissions", ""},
		{"admin.payouts", "/payouts", ""},
		{"admin.payout", "/payouts/" + d.payout, ""},
		{"admin.webhooks", "/webhooks", ""},
		{"admin.settings", "/settings", ""},
		{"admin.apikey.revoke.confirm", "/settings/api-keys/" + d.apiKey + "/revoke", ""},
		{"admin.integrations", "/settings/integrations", ""},
		{"admin.settings.brand", "/settings/brand", ""},
		{"admin.settings.email", "/settings/email", ""},
		{"admin.settings.admins", "/settings/admins", ""},
		{"", "/programs/no-such-program", ""},
	} {
		check(p.route, p.path, p.want)
	}

	// The filter cards fold on a phone, unless the page was asked for with filters.
	for path, wantOpen := range map[string]bool{"/leads": false, "/purchases?status=paid": true, "/dashboard": false} {
		mvGo(t, b, fmt.Sprintf("location.pathname === %q", strings.SplitN(path, "?", 2)[0]), chromedp.Navigate(s.URL+path))
		if open := mvEval[bool](t, b, `document.querySelector('details[data-filters-fold]').open`); open != wantOpen {
			t.Errorf("%s on a phone: filters open %v, want %v", path, open, wantOpen)
		}
	}

	d.signIn(t, b, "/portal/login", d.aff.Email, d.res.AffiliatePassword, "/portal")
	for _, p := range []struct{ route, path, want string }{
		{"portal.home", "/portal", ""},
		{"portal.home.slash", "/portal/", "/portal"},
		{"portal.program", "/portal/programs/" + d.prg.ID, ""},
		{"portal.program", "/portal/programs/" + d.prg.ID + "?list=purchases", ""},
		{"portal.payouts", "/portal/payouts", ""},
		{"portal.webhooks", "/portal/webhooks", ""},
		{"portal.webhook", "/portal/webhooks/" + d.hook, ""},
	} {
		check(p.route, p.path, p.want)
	}
	// The long-email affiliate's own portal.
	// Sign out by the form (its button is folded in the phone's menu).
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.querySelector('form.signout').submit(), true`)); err != nil {
		t.Fatal(err)
	}
	mvGo(t, b, `location.pathname === "/portal/login"`)
	d.signIn(t, b, "/portal/login", longEmail, "password123", "/portal")
	check("portal.home", "/portal", "")
	check("portal.program", "/portal/programs/"+d.prg.ID, "")

	if missed := unvisitedPages(t, s.Server.Echo, visited); len(missed) > 0 {
		t.Errorf("GET routes not visited (add them here, or to notPages if they answer no page):\n  %s", strings.Join(missed, "\n  "))
	}
	if len(offenders) > 0 {
		t.Errorf("pages wider than a 390 px phone:\n  %s", strings.Join(offenders, "\n  "))
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}

// The README's screenshots (dashboard, a program's portal page, the
// payouts page) are taken here from the demo's data, so they show the
// product as it is. They are written only when $SPIFFY_SCREENSHOTS names a
// directory (docs/screenshots to refresh the README's; .ci/run passes its
// artifacts); the pages are checked either way.
func TestReadmeScreenshots(t *testing.T) {
	d := seedDemoAccount(t)
	b := NewBrowser(t, 120*time.Second)
	if err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("SPIFFY_SCREENSHOTS")
	shoot := func(name, path, ready string) {
		t.Helper()
		mvGo(t, b, ready, chromedp.Navigate(d.s.URL+path))
		png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
		if err != nil || len(png) < 10_000 {
			t.Fatalf("screenshot %s: %d bytes, %v", name, len(png), err)
		}
		if dir == "" {
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d.signIn(t, b, "/login", d.res.AdminEmail, d.res.AdminPassword, "/dashboard")
	shoot("dashboard", "/dashboard", `!!document.querySelector('.day-chart') && !document.querySelector('.getting-started')`)
	shoot("payouts", "/payouts", `document.body.innerText.includes('Payout history')`)
	d.signIn(t, b, "/portal/login", d.aff.Email, d.res.AffiliatePassword, "/portal")
	shoot("portal-program", "/portal/programs/"+d.prg.ID, `!!document.querySelector('.stat-accent')`)
}
