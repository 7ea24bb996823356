//go:build browser

package browser

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// Payouts in a real browser (contract §9): the affiliate chooses PayPal in
// the portal; the merchant creates a payout on the Payouts page, downloads
// its PayPal file (checked row by row) and marks it paid; the affiliate
// then finds the paid payout in its history. The commissions are made and
// approved through the app, so the browser only walks the pages people use.
// Each page is also checked for the basics of accessibility and for fitting
// a phone's width.

// payoutSale reports a purchase referred through code and returns its id.
func payoutSale(t *testing.T, s *Spiffy, prg *store.Program, code, order, amount string) string {
	t.Helper()
	rec := s.Request(http.MethodPost, "/t/click", map[string]string{"ref": code})
	apptest.Expect(t, rec, http.StatusCreated)
	ref := apptest.Decode[struct{ Referral string }](t, rec).Referral
	rec = s.API(http.MethodPost, "/purchases", map[string]string{"order_id": order, "program": prg.ID,
		"email": strings.ToLower(order) + "@customers.example", "amount": amount, "currency": prg.Currency, "referral": ref})
	apptest.Expect(t, rec, http.StatusCreated)
	return apptest.Decode[web.PurchaseJSON](t, rec).ID
}

// a11yBasics checks what a person with a screen reader or a keyboard needs
// of a page: a language, one h1, a label for every field, a name for every
// button and link, no duplicate ids, and headings that do not skip a level.
// (Not a full audit: a11y_test.go runs axe-core over every page.)
func a11yBasics(t *testing.T, b *Browser, page string) {
	t.Helper()
	problems := mvEval[[]string](t, b, `(() => {
  const out = [];
  if (!document.documentElement.lang) out.push('no lang on <html>');
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) out.push(h1 + ' h1 elements');
  const name = el => (el.getAttribute('aria-label') || el.innerText || el.value || el.title || '').trim();
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const labelled = el.labels && el.labels.length > 0 && Array.from(el.labels).some(l => l.innerText.trim() !== '');
    if (!labelled && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) out.push('unlabelled ' + el.outerHTML.slice(0, 80));
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    const hidden = el.closest('[aria-hidden=true]') || el.offsetParent === null && getComputedStyle(el).position !== 'fixed';
    if (!hidden && name(el) === '') out.push('nameless ' + el.outerHTML.slice(0, 80));
  }
  const ids = {};
  for (const el of document.querySelectorAll('[id]')) { if (ids[el.id]) out.push('duplicate id ' + el.id); ids[el.id] = true; }
  let last = 0;
  for (const h of document.querySelectorAll('main h1, main h2, main h3, main h4')) {
    const n = +h.tagName[1];
    if (last && n > last + 1) out.push('heading skips from h' + last + ' to ' + h.tagName.toLowerCase() + ': ' + h.innerText);
    last = n;
  }
  return out;
})()`)
	for _, p := range problems {
		t.Errorf("%s: %s", page, p)
	}
}

// phoneFits loads path at a phone's width and fails when the page is wider
// than the screen; it restores the desktop width afterwards.
func phoneFits(t *testing.T, b *Browser, s *Spiffy, path, shot string) {
	t.Helper()
	mvGo(t, b, `location.pathname === `+"`"+strings.SplitN(path, "?", 2)[0]+"`",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(s.URL+path))
	if overflow := mvEval[int](t, b, `document.documentElement.scrollWidth - window.innerWidth`); overflow > 0 {
		t.Errorf("%s is %d px wider than a phone", path, overflow)
	}
	b.Screenshot(shot)
	if err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
}

func TestPayoutMerchantPaysAffiliateSeesIt(t *testing.T) {
	s := StartSpiffy(t)
	prg := s.Program("Acme Sneakers", func(in *app.ProgramInput) {
		in.CommissionValue, in.SharePurchasers = apptest.Ptr("30"), apptest.Ptr(true)
	})
	paula := s.Affiliate("Paula Partner", "paula@partners.example", "paula", prg)
	wes := s.Affiliate("Wes Wise", "wes@partners.example", "wes", prg)
	s.Affiliate("Rita Small", "rita@partners.example", "rita", prg)
	if _, err := s.App.SetPayoutDetails(wes.ID, "wise", "wes@wise.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.CreateAdmin("owner@shop.example", "correct-horse"); err != nil {
		t.Fatal(err)
	}
	// Paula earns 30.00 + 15.00, Wes 60.00, Rita 3.00 (below the minimum);
	// all approved now, as the merchant would from the Commissions page.
	for _, sale := range []struct{ code, order, amount string }{
		{"paula", "ORD-1", "100.00"}, {"paula", "ORD-2", "50.00"}, {"wes", "ORD-3", "200.00"}, {"rita", "ORD-4", "10.00"},
	} {
		payoutSale(t, s, prg, sale.code, sale.order, sale.amount)
	}
	pending, _, err := s.App.Commissions(app.CommissionFilter{Status: app.CommissionPending}, "", 100)
	if err != nil || len(pending) != 4 {
		t.Fatalf("%d pending commissions: %v", len(pending), err)
	}
	for _, c := range pending {
		if _, err := s.App.ApproveCommission(c.ID); err != nil {
			t.Fatal(err)
		}
	}

	b := NewBrowser(t, 150*time.Second)
	downloads := b.AllowDownloads()

	// The affiliate signs in, opens Payouts from the menu and chooses PayPal.
	mvGo(t, b, `location.pathname === "/portal/login"`, chromedp.Navigate(s.URL+"/portal"))
	mvGo(t, b, `location.pathname === "/portal"`,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "paula@partners.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "password123"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
	mvGo(t, b, `location.pathname === "/portal/payouts"`, chromedp.Click(chromedp.CSS(`nav.mainnav a[href="/portal/payouts"]`)))
	if got := mvEval[string](t, b, `document.querySelector("table.portal-balances tbody").innerText`); !strings.Contains(got, "45.00") {
		t.Fatalf("balances %q: want 45.00 approved", got)
	}
	a11yBasics(t, b, "/portal/payouts")
	mvGo(t, b, `location.pathname === "/portal/payouts" && document.querySelector(".flash-success") !== null`,
		chromedp.Click(chromedp.CSS(`input[name="method"][value="paypal"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "paula-pp@partners.example"),
		chromedp.Click(chromedp.CSS(`form.payout-details button[type="submit"]`)))
	if msg := mvEval[string](t, b, `document.querySelector(".flash-success").innerText`); !strings.Contains(msg, "paid by PayPal") {
		t.Fatalf("after saving: %q", msg)
	}
	if af, _ := s.App.Affiliate(paula.ID); af.PayoutMethod != "paypal" || af.PayoutEmail != "paula-pp@partners.example" {
		t.Fatalf("stored %q %q", af.PayoutMethod, af.PayoutEmail)
	}
	b.Screenshot("portal-payout-details")

	// The merchant (its own cookie, in the same browser) opens Payouts.
	mvGo(t, b, `location.pathname === "/login"`, chromedp.Navigate(s.URL+"/dashboard"))
	mvGo(t, b, `location.pathname === "/dashboard"`,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "owner@shop.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct-horse"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
	mvGo(t, b, `location.pathname === "/payouts"`, chromedp.Click(chromedp.CSS(`nav.mainnav a[href="/payouts"]`)))
	rows := mvEval[[]string](t, b, `Array.from(document.querySelectorAll("table.balances-table tbody tr")).map(tr => tr.cells[0].innerText + " " + tr.cells[2].innerText)`)
	if strings.Join(rows, "|") != "Wes Wise $60.00|Paula Partner $45.00|Rita Small $3.00" {
		t.Fatalf("balances, largest due first: %q", rows)
	}
	a11yBasics(t, b, "/payouts")
	b.Screenshot("payouts")

	// Create a payout of at least 5.00 USD: Paula and Wes, not Rita.
	mvGo(t, b, `location.pathname.startsWith("/payouts/") && document.querySelector("h1 .badge-open") !== null`,
		chromedp.SendKeys(chromedp.CSS(`input[name="minimum"]`), "5.00"),
		chromedp.Click(chromedp.CSS(`form.payout-form button[type="submit"]`)))
	payoutID := strings.TrimPrefix(mvEval[string](t, b, `location.pathname`), "/payouts/")
	if h1 := mvEval[string](t, b, `document.querySelector("h1").innerText`); !strings.Contains(h1, "$105.00") {
		t.Fatalf("payout heading %q", h1)
	}
	items := mvEval[[]string](t, b, `Array.from(document.querySelectorAll("#items tbody tr")).map(tr => tr.innerText.replace(/\s+/g, " ").trim())`)
	if len(items) != 2 || !strings.Contains(items[0]+items[1], "paula-pp@partners.example $45.00") || strings.Contains(strings.Join(items, ""), "Rita") {
		t.Fatalf("payout items %q", items)
	}
	a11yBasics(t, b, "/payouts/{id}")
	b.Screenshot("payout-open")

	// The PayPal file: only the PayPal item, in PayPal's columns.
	file := b.DownloadCSV(downloads, `a[href$="format=paypal"]`)
	if len(file) != 1 {
		t.Fatalf("paypal file has %d rows, want 1 (no header, Paula only): %q", len(file), file)
	}
	row := file[0] // recipient, amount, currency, customer_id, note, wallet
	if len(row) != 6 || row[0] != "paula-pp@partners.example" || row[1] != "45.00" || row[2] != "USD" || row[3] != paula.ID ||
		!strings.Contains(row[4], payoutID) || row[5] != "PAYPAL" {
		t.Fatalf("paypal row %q", row)
	}

	// Mark paid: the page says so and offers no more buttons.
	mvGo(t, b, `document.querySelector("h1 .badge-paid") !== null`, chromedp.Click(chromedp.CSS(`form[action$="/paid"] button`)))
	if n := mvEval[int](t, b, `document.querySelectorAll('form[action$="/paid"], form[action$="/cancel"]').length`); n != 0 {
		t.Fatalf("a paid payout still shows %d action forms", n)
	}
	b.Screenshot("payout-paid")

	// The Commissions page, from the Payouts page: Paula's are paid.
	mvGo(t, b, `location.pathname === "/commissions"`, chromedp.Navigate(s.URL+"/commissions?status=paid&affiliate="+paula.ID))
	if n := mvEval[int](t, b, `document.querySelectorAll("table.data-table tbody tr").length`); n != 2 {
		t.Fatalf("%d paid commissions of Paula, want 2", n)
	}
	a11yBasics(t, b, "/commissions")
	phoneFits(t, b, s, "/payouts", "phone-payouts")
	phoneFits(t, b, s, "/payouts/"+payoutID, "phone-payout")

	// The affiliate sees the paid payout in its history.
	mvGo(t, b, `location.pathname === "/portal/payouts"`, chromedp.Navigate(s.URL+"/portal/payouts"))
	history := mvEval[[]string](t, b, `Array.from(document.querySelectorAll("table.portal-payouts tbody tr")).map(tr => tr.innerText.replace(/\s+/g, " ").trim())`)
	today := time.Now().UTC().Format(time.DateOnly)
	if len(history) != 1 || !strings.Contains(history[0], "paid $45.00 2 PayPal paula-pp@partners.example "+today) {
		t.Fatalf("payout history %q", history)
	}
	if page := mvEval[string](t, b, `document.querySelector("main").innerText`); strings.Contains(page, "Wes") || strings.Contains(page, "105.00") {
		t.Fatal("the portal shows another affiliate's share or the payout's total")
	}
	b.Screenshot("portal-payout-paid")
	phoneFits(t, b, s, "/portal/payouts", "phone-portal-payouts")

	// On the program page, each shared purchase shows its commission: paid.
	mvGo(t, b, `location.pathname === "/portal/programs/`+prg.ID+`"`, chromedp.Navigate(s.URL+"/portal/programs/"+prg.ID+"?list=purchases"))
	states := mvEval[[]string](t, b, `Array.from(document.querySelectorAll("table.portal-table tbody tr")).map(tr => tr.cells[8].innerText.trim())`)
	if len(states) != 2 || !strings.HasPrefix(states[0], "paid") || !strings.HasPrefix(states[1], "paid") {
		t.Fatalf("commission states %q", states)
	}

	if ex := b.Exceptions(); len(ex) > 0 {
		t.Fatalf("script errors: %v", ex)
	}
}
