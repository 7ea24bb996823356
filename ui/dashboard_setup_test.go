package ui

import (
	"net/http"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
)

// A fresh install's dashboard is a getting-started checklist read from what
// is stored, not three empty charts; each step turns done as the merchant
// does it, and the list goes once everything is done.
func TestDashboardGettingStartedChecklist(t *testing.T) {
	b := newBrowser(t, func(c *config.Config) { c.Tracking.RateLimit = 1e6 })
	env := b.env
	b.signInAdmin()
	steps := func(wantDone int, wantOpen ...string) string {
		t.Helper()
		p := b.get("/dashboard")
		expectStatus(t, p, http.StatusOK)
		mustContain(t, p.Body, "Getting started", itoa(wantDone)+" of 5 done")
		for _, href := range wantOpen {
			mustContain(t, p.Body, `class="btn btn-sm" href="`+href+`"`)
		}
		return p.Body
	}

	body := steps(0, "/programs/new", "/settings#install", "/affiliates/new", "/settings/integrations")
	if strings.Contains(body, `class="day-chart"`) || strings.Contains(body, "Top affiliates") {
		t.Error("a fresh install's dashboard shows the empty charts")
	}
	// Nothing to export yet: the buttons say so instead of making an empty file.
	for _, path := range []string{"/leads", "/purchases"} {
		mustContain(t, b.get(path).Body, `disabled title="Nothing to export: no rows match these filters">Export CSV`)
	}

	prg := env.Program("Shop", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	body = steps(1, "/settings#install", "/affiliates/new")
	if strings.Contains(body, `href="/programs/new">New program`) {
		t.Error("the program step is still open after creating one")
	}
	env.Affiliate("Ann", "ann@partners.example", "ann", prg)
	steps(2, "/settings#install", "/settings/integrations")

	rec := env.Request(http.MethodPost, "/t/click", map[string]string{"ref": "ann"})
	apptest.Expect(t, rec, http.StatusCreated)
	body = steps(3, "/settings/integrations")
	if !strings.Contains(body, `class="day-chart"`) {
		t.Error("after the first click the dashboard still hides its charts")
	}
	ref := apptest.Decode[struct{ Referral string }](t, rec).Referral
	apptest.Expect(t, env.Request(http.MethodPost, "/t/lead", map[string]string{"email": "lee@example.com", "referral": ref}), http.StatusCreated)
	steps(4, "/settings/integrations")
	mustContain(t, b.get("/leads").Body, `<button class="btn" type="submit">Export CSV`)

	if err := env.App.SetIntegrationSecret("stripe", "whsec_test_secret"); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/dashboard"); strings.Contains(p.Body, "Getting started") {
		t.Error("the checklist stays after every step is done")
	}
}

// A merchant who reports sales by API never connects a provider: the first
// purchase proves the install, and the checklist goes.
func TestDashboardChecklistEndsWithFirstPurchase(t *testing.T) {
	b := newBrowser(t)
	env := b.env
	b.signInAdmin()
	prg := env.Program("Shop")
	mustContain(t, b.get("/dashboard").Body, "Getting started", "1 of 5 done")
	apptest.Expect(t, env.API(http.MethodPost, "/purchases", map[string]string{
		"order_id": "A-1", "program": prg.ID, "email": "buyer@example.com", "amount": "80.00", "currency": "USD",
	}), http.StatusCreated)
	if p := b.get("/dashboard"); strings.Contains(p.Body, "Getting started") {
		t.Error("the checklist stays after the first purchase")
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

// The portal's Export CSV is a disabled button, saying why, for a range
// without rows; with rows it is the download link.
func TestPortalExportDisabledWithoutRows(t *testing.T) {
	s := newPortalScene(t)
	s.populate(t)
	alice := s.signIn(t, "alice@partners.example")
	page := "/portal/programs/" + s.shared.ID
	for _, list := range []string{"leads", "purchases"} {
		p := alice.get(page + "?from=2025-01-01&to=2025-01-31&list=" + list)
		expectStatus(t, p, http.StatusOK)
		mustContain(t, p.Body, `disabled title="Nothing to export: no `+list+` in this period">Export CSV`)
		if strings.Contains(p.Body, list+".csv?") {
			t.Errorf("%s: an empty range still links its CSV", list)
		}
		p = alice.get(page + "?from=2026-03-01&to=2026-03-10&list=" + list)
		mustContain(t, p.Body, list+".csv?from=2026-03-01&amp;to=2026-03-10")
	}
}
