//go:build browser

package browser

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spiffy/spiffy/app/demo"
)

// TestAffiliatePickerSuggestsAndFilters: on Leads, typing part of an
// affiliate's name fills the field's suggestions from the server (the
// embedded script, no inline code); picking one and filtering lists only
// that affiliate's leads. The Affiliates page searches the same way.
func TestAffiliatePickerSuggestsAndFilters(t *testing.T) {
	s := StartSpiffy(t)
	res, err := demo.Seed(context.Background(), s.App, s.DB, demo.Options{Leads: 600, Clicks: 2000, Purchases: 80, Affiliates: 12}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	affs, err := s.App.Views().Affiliates()
	if err != nil || len(affs) == 0 {
		t.Fatalf("demo affiliates: %d, %v", len(affs), err)
	}
	af := affs[len(affs)-1]
	b := NewBrowser(t, 90*time.Second)
	mvGo(t, b, `location.pathname === "/login"`, chromedp.Navigate(s.URL+"/leads"))
	mvGo(t, b, `location.pathname === "/leads"`,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), res.AdminEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), res.AdminPassword),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))

	typed := strings.ToLower(af.Name[:3])
	mvGo(t, b, `Array.from(document.querySelectorAll("#f-affiliate-list option")).some(o => o.value === `+jsString(af.Email)+`)`,
		chromedp.SendKeys(chromedp.CSS(`#f-affiliate`), typed))
	b.Screenshot("leads-affiliate-suggestions")

	// Pick the suggestion (its value is the email) and filter.
	mvGo(t, b, `location.search.includes("affiliate=") && document.querySelector("#f-affiliate").value === `+jsString(af.Email),
		chromedp.SetValue(chromedp.CSS(`#f-affiliate`), af.Email),
		chromedp.Submit(chromedp.CSS(`#f-affiliate`)))
	names := mvEval[[]string](t, b, `Array.from(document.querySelectorAll('td[data-label="Affiliate"] a')).map(a => a.innerText)`)
	if len(names) == 0 {
		t.Fatalf("no leads of %s", af.Name)
	}
	for _, n := range names {
		if n != af.Name {
			t.Fatalf("filtered leads show %q, want only %q", n, af.Name)
		}
	}

	// The Affiliates page: search by the start of the email.
	mvGo(t, b, `location.pathname === "/affiliates" && location.search.includes("q=")`,
		chromedp.Navigate(s.URL+"/affiliates"),
		chromedp.WaitVisible(chromedp.CSS(`#a-q`)),
		chromedp.SendKeys(chromedp.CSS(`#a-q`), af.Email[:strings.Index(af.Email, "@")]+"\n"))
	rows := mvEval[[]string](t, b, `Array.from(document.querySelectorAll("table.affiliates-table td.cell-main a")).map(a => a.innerText)`)
	if len(rows) != 1 || rows[0] != af.Name {
		t.Errorf("search by email shows %v, want [%s]", rows, af.Name)
	}
	b.Screenshot("affiliates-search")
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("script exceptions: %v", ex)
	}
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
