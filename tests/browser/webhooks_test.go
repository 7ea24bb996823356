//go:build browser

package browser

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
)

// Webhooks in a real browser: an affiliate adds an endpoint at
// /portal/webhooks, copies the signing secret from the screen, sends a test
// event that the receiver verifies with that secret, and sees the delivery;
// the merchant sees the endpoint on the admin Webhooks page. Both pages are
// checked at phone width for sideways scrolling.
func TestWebhooksPortalAndAdmin(t *testing.T) {
	s := StartSpiffy(t, func(c *config.Config) { c.Webhooks.AllowPrivateTargets = true })
	prg := s.Program("Shoes", func(in *app.ProgramInput) { in.SharePurchasers = apptest.Ptr(true) })
	s.Affiliate("Wanda Webhook", "wanda@partners.example", "wanda", prg)

	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	receiver := StartSite(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	hookURL := receiver + "/catch/12345"

	b := NewBrowser(t, 0)
	portalGo(t, b, portalPath("/portal/login"), chromedp.Navigate(s.URL+"/portal/webhooks"))
	portalGo(t, b, portalPath("/portal/webhooks"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "wanda@partners.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "password123"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	b.Screenshot("empty")
	portalGo(t, b, `!!document.querySelector('.wh-secret-text')`,
		chromedp.SendKeys(chromedp.CSS(`#add input[name="url"]`), hookURL),
		chromedp.Click(chromedp.CSS(`#add button[type="submit"]`)))
	secret, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`document.querySelector('.wh-secret-text').innerText.trim()`))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret on screen %q: %v", secret, err)
	}
	b.Screenshot("added")

	// "Send test event" shows the delivery in place: no reload (a mark set
	// on the window survives), the receiver's status code on the card.
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`window.noReload = true`)); err != nil {
		t.Fatal(err)
	}
	portalGo(t, b, `document.querySelector('.wh-test-result').textContent.startsWith('Delivered: 204 in ')`,
		chromedp.Click(chromedp.CSS(`form[action$="/test"] button`)))
	if kept, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`window.noReload === true && !document.body.innerText.includes('Test event sent')`)); !kept {
		t.Errorf("sending the test event reloaded the page")
	}
	Eventually(t, 10*time.Second, "the test event", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if err := wh.Verify(bodies[0], got[0].Header); err != nil {
		t.Fatalf("the secret on screen does not verify the delivery: %v", err)
	}
	mu.Unlock()
	portalGo(t, b, `document.querySelector('.wh-log .badge-delivered') !== null`, chromedp.Reload())
	row, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`document.querySelector('.wh-log tbody tr').innerText`))
	if err != nil || !strings.Contains(row, "test") || !strings.Contains(row, "204") || !strings.Contains(row, "delivered") {
		t.Fatalf("delivery row %q: %v", row, err)
	}
	b.Screenshot("delivered")
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Fatalf("page errors: %v", ex)
	}

	// Phone width: no sideways scrolling.
	portalGo(t, b, portalPath("/portal/webhooks"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(s.URL+"/portal/webhooks"))
	if wide, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); wide {
		t.Errorf("the portal webhooks page scrolls sideways on a phone")
	}
	b.Screenshot("phone")

	// The merchant's Webhooks page.
	if _, err := s.App.CreateAdmin("owner@shop.example", "correct-horse-battery"); err != nil {
		t.Fatal(err)
	}
	a := NewBrowser(t, 0)
	portalGo(t, a, portalPath("/login"), chromedp.Navigate(s.URL+"/webhooks"))
	portalGo(t, a, portalPath("/webhooks"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "owner@shop.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct-horse-battery"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	text, _ := chromedp.Run(a.Ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if !strings.Contains(text, "Wanda Webhook") || !strings.Contains(text, hookURL) {
		t.Fatalf("admin page misses the endpoint: %.500s", text)
	}
	a.Screenshot("admin")
	portalGo(t, a, portalPath("/webhooks"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(s.URL+"/webhooks"))
	if wide, _ := chromedp.Run(a.Ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); wide {
		t.Errorf("the admin webhooks page scrolls sideways on a phone")
	}
	a.Screenshot("admin-phone")
}
