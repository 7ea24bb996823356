//go:build browser

package browser

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// stripeShop is a merchant page that sells through Stripe's no-code
// checkouts only — a Payment Link, a pricing table, a buy button — with
// SpiffyJS installed. Stripe's own scripts are not loaded (there is no
// network): the elements stay plain, which is all SpiffyJS touches. CSS
// prints each link's href and each element's client-reference-id, so the
// screenshots show what the test checks.
func stripeShop(install string, consent bool) string {
	if consent {
		install = strings.Replace(install, " async>", " async data-require-consent>", 1)
	}
	return `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>` + install + `<style>
body{font:15px sans-serif;margin:2em} a,stripe-pricing-table,stripe-buy-button{display:block;margin:.8em 0}
a::after{content:" → " attr(href);color:#555;font:13px monospace}
stripe-pricing-table::after,stripe-buy-button::after{content:"<" attr(id) "> client-reference-id=" attr(client-reference-id);font:13px monospace}
</style></head><body><h1>Pixel Icons</h1>
<a id="link" href="https://buy.stripe.com/test_6oE5kq0AbcDe?prefilled_email=bea%40example.com#pay">Buy once</a>
<a id="stale" href="https://buy.stripe.com/test_9AQ2b6?client_reference_id=01HZZZZZZZZZZZZZZZZZZZZZZZ" data-spiffy-ref="01HZZZZZZZZZZZZZZZZZZZZZZZ">Buy (a referral SpiffyJS set earlier)</a>
<a id="own" href="https://buy.stripe.com/test_3cs4hX?client_reference_id=merchant-user-42">Buy (the merchant's own id)</a>
<a id="elsewhere" href="https://shop.example.com/checkout?plan=pro">Checkout elsewhere</a>
<stripe-pricing-table id="table" pricing-table-id="prctbl_1QxYzAB7WZ01zgkW" publishable-key="pk_test_51Example"></stripe-pricing-table>
<stripe-buy-button id="button" buy-button-id="buy_btn_1QxYzCB7WZ01zgkW" publishable-key="pk_test_51Example"></stripe-buy-button>
<stripe-buy-button id="own-button" buy-button-id="buy_btn_1QxYzDB7WZ01zgkW" publishable-key="pk_test_51Example" client-reference-id="merchant-user-42"></stripe-buy-button>
</body></html>`
}

// checkoutState reads what SpiffyJS may have changed: each link's href and
// each Stripe element's client-reference-id, by element id.
func checkoutState(t *testing.T, b *Browser) map[string]string {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[map[string]string](`(function () {
		var o = {}, els = document.querySelectorAll('a[id], stripe-pricing-table, stripe-buy-button'), i, e;
		for (i = 0; i < els.length; i++) {
			e = els[i];
			o[e.id] = e.tagName === 'A' ? e.getAttribute('href') : (e.getAttribute('client-reference-id') || '');
		}
		return o;
	})()`))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	return v
}

// untouched is what SpiffyJS must leave as it is: the merchant's own
// client_reference_id values and a link that is not Stripe's.
var untouched = map[string]string{
	"own":        "https://buy.stripe.com/test_3cs4hX?client_reference_id=merchant-user-42",
	"elsewhere":  "https://shop.example.com/checkout?plan=pro",
	"own-button": "merchant-user-42",
}

// stamped is the page once SpiffyJS has attached referral ref.
func stamped(ref string) map[string]string {
	want := map[string]string{
		"link":   "https://buy.stripe.com/test_6oE5kq0AbcDe?prefilled_email=bea%40example.com&client_reference_id=" + ref + "#pay",
		"stale":  "https://buy.stripe.com/test_9AQ2b6?client_reference_id=" + ref,
		"table":  ref,
		"button": ref,
	}
	for k, v := range untouched {
		want[k] = v
	}
	return want
}

func checkState(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: #%s = %q, want %q", what, id, got[id], w)
		}
	}
}

// stripeReferralID is what Stripe accepts as a client_reference_id.
var stripeReferralID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)

// TestStripeCheckoutReferral: a visitor arriving through a referral link
// on a shop that sells through Stripe Payment Links, a pricing table and a
// buy button finds the referral attached to each, also to ones the page
// adds later, and a newer referral replaces it; the merchant's own
// client_reference_id values are left alone.
func TestStripeCheckoutReferral(t *testing.T) {
	sp := StartSpiffy(t)
	prg := sp.Program("Icons")
	sp.Affiliate("Pat Partner", "pat@partner.example", "PatStripe", prg)
	sp.Affiliate("Quinn Partner", "quinn@partner.example", "QuinnStripe", prg)
	site := StartSite(t, HTML(stripeShop(web.InstallCode(sp.URL), false)))
	b := NewBrowser(t, 0)

	// Before any referral, nothing is changed.
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(site+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`!!window.spiffy && !window.spiffy.q`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for SpiffyJS: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // SpiffyJS stamps asynchronously; give it the chance to do wrong
	before := checkoutState(t, b)
	checkState(t, "without a referral", before, untouched)
	if before["link"] != "https://buy.stripe.com/test_6oE5kq0AbcDe?prefilled_email=bea%40example.com#pay" || before["table"] != "" || before["button"] != "" {
		t.Errorf("without a referral the page changed: %v", before)
	}

	if err := chromedp.Do(b.Ctx, chromedp.Navigate(site+"/?ref=patstripe")); err != nil {
		t.Fatal(err)
	}
	ref, err := chromedp.Run(b.Ctx, chromedp.Poll[string](`window.spiffy && window.spiffy('referral')`, chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the referral: %v", err)
	}
	if !store.ValidID(ref) || !stripeReferralID.MatchString(ref) {
		t.Fatalf("referral %q is not a Spiffy id fit for Stripe's client_reference_id", ref)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`document.getElementById('button').getAttribute('client-reference-id') === '`+ref+`'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for the referral on the page: %v (page: %v)", err, checkoutState(t, b))
	}
	checkState(t, "after ?ref=patstripe", checkoutState(t, b), stamped(ref))
	b.Screenshot("referral-attached")

	// Elements the page adds later (a single-page app's next view) get it
	// too, and a link re-rendered without it gets it back.
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`(function () {
		var a = document.createElement('a');
		a.id = 'late-link'; a.href = 'https://buy.stripe.com/test_late'; a.textContent = 'Buy (added later)';
		document.body.appendChild(a);
		var tbl = document.createElement('stripe-pricing-table');
		tbl.id = 'late-table'; tbl.setAttribute('pricing-table-id', 'prctbl_late');
		document.body.appendChild(tbl);
		document.getElementById('link').setAttribute('href', 'https://buy.stripe.com/test_6oE5kq0AbcDe');
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`document.getElementById('late-table').getAttribute('client-reference-id') === '`+ref+`'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for the referral on added elements: %v (page: %v)", err, checkoutState(t, b))
	}
	late := stamped(ref)
	late["link"] = "https://buy.stripe.com/test_6oE5kq0AbcDe?client_reference_id=" + ref
	late["late-link"] = "https://buy.stripe.com/test_late?client_reference_id=" + ref
	late["late-table"] = ref
	checkState(t, "after adding elements", checkoutState(t, b), late)
	b.Screenshot("added-later")

	// A click on another affiliate's link (last click wins) replaces it.
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(site+"/?ref=QuinnStripe")); err != nil {
		t.Fatal(err)
	}
	ref2, err := chromedp.Run(b.Ctx, chromedp.Poll[string](`window.spiffy && !window.spiffy.q && spiffy('referral') !== '`+ref+`' && spiffy('referral')`,
		chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the new referral: %v", err)
	}
	if !store.ValidID(ref2) {
		t.Fatalf("new referral %q", ref2)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`document.getElementById('table').getAttribute('client-reference-id') === '`+ref2+`'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for the new referral on the page: %v (page: %v)", err, checkoutState(t, b))
	}
	checkState(t, "after ?ref=QuinnStripe", checkoutState(t, b), stamped(ref2))
	b.Screenshot("new-referral")
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("the page threw: %v", ex)
	}
}

// TestStripeCheckoutConsent: with data-require-consent nothing is attached
// until spiffy('consent', true); spiffy('consent', false) takes it off.
func TestStripeCheckoutConsent(t *testing.T) {
	sp := StartSpiffy(t)
	prg := sp.Program("Icons")
	sp.Affiliate("Cory", "cory@partner.example", "corystripe", prg)
	site := StartSite(t, HTML(stripeShop(web.InstallCode(sp.URL), true)))
	b := NewBrowser(t, 0)

	if err := chromedp.Do(b.Ctx, chromedp.Navigate(site+"/?ref=corystripe")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`!!window.spiffy && !window.spiffy.q`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for SpiffyJS: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	original := checkoutState(t, b)
	checkState(t, "before consent", original, untouched)
	if original["table"] != "" || original["button"] != "" || strings.Contains(original["link"], "client_reference_id") ||
		!strings.Contains(original["stale"], "01HZZZZZZZZZZZZZZZZZZZZZZZ") {
		t.Errorf("before consent the page changed: %v", original)
	}

	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`spiffy('consent', true), true`)); err != nil {
		t.Fatal(err)
	}
	ref, err := chromedp.Run(b.Ctx, chromedp.Poll[string](`spiffy('referral')`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the referral after consent: %v", err)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`document.getElementById('table').getAttribute('client-reference-id') === '`+ref+`'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for the referral on the page after consent: %v (page: %v)", err, checkoutState(t, b))
	}
	checkState(t, "after consent", checkoutState(t, b), stamped(ref))
	b.Screenshot("after-consent")

	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`spiffy('consent', false), true`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`!document.getElementById('table').hasAttribute('client-reference-id')`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for the referral to come off: %v (page: %v)", err, checkoutState(t, b))
	}
	withdrawn := map[string]string{
		"link":   "https://buy.stripe.com/test_6oE5kq0AbcDe?prefilled_email=bea%40example.com#pay",
		"stale":  "https://buy.stripe.com/test_9AQ2b6",
		"table":  "",
		"button": "",
	}
	for k, v := range untouched {
		withdrawn[k] = v
	}
	checkState(t, "after withdrawing consent", checkoutState(t, b), withdrawn)
	b.Screenshot("consent-withdrawn")
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("the page threw: %v", ex)
	}
}
