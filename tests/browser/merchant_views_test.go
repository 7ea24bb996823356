//go:build browser

package browser

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spiffy/spiffy/app/demo"
)

// The merchant's Dashboard, Leads and Exports pages in a real browser, over
// the demo account: the chart is drawn (without any script), the Leads page
// filters and pages, and an export started from it finishes on the Exports
// page with a download link. Screenshots of each page are saved.

// mvGo runs steps (a navigation, usually) and waits until a loaded page
// meets cond, a JavaScript expression.
func mvGo(t *testing.T, b *Browser, cond string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.Ctx, steps...); err != nil {
		t.Fatalf("going to %s: %v", cond, err)
	}
	js := `document.readyState === 'complete' && (` + cond + `)`
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			loc, _ := chromedp.Run(b.Ctx, chromedp.Location())
			t.Fatalf("waiting for %s (at %s): %v", cond, loc, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mvEval[T any](t *testing.T, b *Browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func TestMerchantDashboardLeadsAndExports(t *testing.T) {
	s := StartSpiffy(t)
	res, err := demo.Seed(context.Background(), s.App, s.DB, demo.Options{Leads: 3000, Clicks: 12000, Purchases: 400, Affiliates: 25}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBrowser(t, 120*time.Second)

	// Sign in: the admin lands on the Dashboard.
	mvGo(t, b, `location.pathname === "/login"`, chromedp.Navigate(s.URL+"/dashboard"))
	mvGo(t, b, `location.pathname === "/dashboard" && !!document.querySelector("svg.day-chart")`,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), res.AdminEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), res.AdminPassword),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))

	// Thirty days by default: three panels of thirty bar slots, drawn on
	// the server, and visible bars where the demo has activity.
	if n := mvEval[int](t, b, `document.querySelectorAll("svg.day-chart .chart-hit").length`); n != 90 {
		t.Errorf("chart has %d day slots, want 90", n)
	}
	if n := mvEval[int](t, b, `document.querySelectorAll("svg.day-chart .chart-bar").length`); n < 60 {
		t.Errorf("chart draws only %d bars", n)
	}
	if w := mvEval[float64](t, b, `document.querySelector("svg.day-chart").getBoundingClientRect().width`); w < 600 {
		t.Errorf("chart is %.0f px wide", w)
	}
	if n := mvEval[int](t, b, `document.querySelectorAll("table.top-affiliates tbody tr").length`); n == 0 {
		t.Error("no top affiliates")
	}
	b.Screenshot("dashboard-30-days")
	mvGo(t, b, `location.search.includes("from=") && document.querySelectorAll("svg.day-chart .chart-hit").length === 270`,
		chromedp.Click(chromedp.CSS(`nav.tabs a:last-child`)))
	b.Screenshot("dashboard-90-days")

	// Leads: newest first, 50 a page, a count, and filters that narrow it.
	mvGo(t, b, `location.pathname === "/leads"`, chromedp.Navigate(s.URL+"/leads"))
	rows := mvEval[int](t, b, `document.querySelectorAll("table.data-table tbody tr").length`)
	count := mvEval[string](t, b, `document.querySelector("[data-count]").innerText`)
	if rows != 50 || count != "3,000" {
		t.Errorf("leads page: %d rows, count %q; want 50 of 3,000", rows, count)
	}
	b.Screenshot("leads")
	mvGo(t, b, `location.search.includes("page=2")`, chromedp.Click(chromedp.CSS(`a[rel="next"]`)))
	if rows := mvEval[int](t, b, `document.querySelectorAll("table.data-table tbody tr").length`); rows != 50 {
		t.Errorf("second page has %d rows", rows)
	}
	first := mvEval[string](t, b, `document.querySelector("table.data-table tbody td.cell-main a").innerText`)
	prefix := strings.ToLower(first[:2])
	mvGo(t, b, `location.search.includes("q=")`,
		chromedp.Navigate(s.URL+"/leads"),
		chromedp.WaitVisible(chromedp.CSS(`#f-q`)),
		chromedp.SendKeys(chromedp.CSS(`#f-q`), prefix),
		chromedp.Click(chromedp.CSS(`.filter-actions button[type="submit"]`)))
	emails := mvEval[[]string](t, b, `Array.from(document.querySelectorAll("table.data-table tbody td.cell-main a")).map(a => a.innerText)`)
	if len(emails) == 0 {
		t.Fatalf("no leads start with %q", prefix)
	}
	for _, e := range emails {
		if !strings.HasPrefix(strings.ToLower(e), prefix) {
			t.Errorf("filtered by %q but shows %q", prefix, e)
		}
	}
	b.Screenshot("leads-filtered")

	// A lead's page shows its click; a purchased lead links to its purchase.
	mvGo(t, b, `location.pathname.startsWith("/leads/") && !!document.querySelector("#click")`,
		chromedp.Click(chromedp.CSS(`table.data-table tbody td.cell-main a`)))
	b.Screenshot("lead")
	mvGo(t, b, `location.pathname === "/purchases" && !!document.querySelector(".totals")`, chromedp.Navigate(s.URL+"/purchases"))
	if n := mvEval[int](t, b, `document.querySelectorAll("table.data-table tbody tr").length`); n != 50 {
		t.Errorf("purchases page has %d rows", n)
	}
	b.Screenshot("purchases")
	mvGo(t, b, `location.pathname.startsWith("/purchases/")`, chromedp.Click(chromedp.CSS(`table.data-table tbody td.cell-main a`)))
	b.Screenshot("purchase")
	mvGo(t, b, `location.search.includes("q=")`, chromedp.Navigate(s.URL+"/leads?q="+prefix))

	// Export the filtered leads; the Exports page follows it to the end.
	mvGo(t, b, `location.pathname === "/exports" && !!document.querySelector('a[href$="/download"]')`,
		chromedp.Click(chromedp.CSS(`form[action="/exports"] button`)))
	text := mvEval[string](t, b, `document.querySelector("table.data-table tbody tr").innerText`)
	if !strings.Contains(text, fmt.Sprintf("email “%s”", prefix)) || !strings.Contains(text, fmt.Sprintf("%d rows", len(emails))) && len(emails) < 50 {
		t.Errorf("export row %q", text)
	}
	b.Screenshot("exports")

	// A phone-width Leads page does not scroll sideways.
	if err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(s.URL+"/leads")); err != nil {
		t.Fatal(err)
	}
	mvGo(t, b, `location.pathname === "/leads"`)
	if overflow := mvEval[int](t, b, `document.documentElement.scrollWidth - window.innerWidth`); overflow > 1 {
		t.Errorf("phone-width leads page overflows by %d px", overflow)
	}
	b.Screenshot("leads-phone")
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
