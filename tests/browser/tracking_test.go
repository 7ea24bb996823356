//go:build browser

package browser

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// merchant is a small shop site that embeds SpiffyJS with the install code
// and has a sign-up form captured as a lead. It records what its own form
// action receives, to prove SpiffyJS did not stop the submission.
type merchant struct {
	install string
	consent bool   // tag the script with data-require-consent
	head    string // more of the head, before the install code

	mu      sync.Mutex
	signups []url.Values
}

func (m *merchant) page(body string) string {
	code := m.install
	if m.consent {
		code = strings.Replace(code, " async>", " async data-require-consent>", 1)
	}
	return `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>` + m.head + code +
		`<style>body{font:16px sans-serif;margin:2em}input,button{display:block;margin:.5em 0;font-size:16px}</style></head><body>` +
		body + `</body></html>`
}

func (m *merchant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/signup":
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		m.mu.Lock()
		m.signups = append(m.signups, r.PostForm)
		m.mu.Unlock()
		_, _ = w.Write([]byte(m.page(`<h1 id="thanks">Thanks, ` + html.EscapeString(r.PostForm.Get("name")) + `!</h1>`)))
	case r.URL.Path == "/":
		_, _ = w.Write([]byte(m.page(`<h1>Spring sale</h1>
<form data-spiffy-lead method="post" action="/signup">
  <label>Name <input id="name" name="name"></label>
  <label>Email <input id="email" type="email" name="email"></label>
  <button id="submit" type="submit">Get the newsletter</button>
</form>`)))
	default:
		http.NotFound(w, r)
	}
}

func (m *merchant) signupCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.signups)
}

// TestTrackingEndToEnd: a visitor arrives on a merchant's site through a
// referral link with a sub-id, signs up through a data-spiffy-lead form, and
// the merchant reports the purchase with the referral id SpiffyJS held.
func TestTrackingEndToEnd(t *testing.T) {
	sp := StartSpiffy(t)
	prg := sp.Program("Spring", func(in *app.ProgramInput) {
		in.TrackLeads = apptest.Ptr(true)
		in.CommissionType = apptest.Ptr("percent")
		in.CommissionValue = apptest.Ptr("30")
	})
	af := sp.Affiliate("Pat Partner", "pat@partner.example", "PatSpring", prg)

	shop := &merchant{install: web.InstallCode(sp.URL)}
	site := StartSite(t, shop)
	b := NewBrowser(t, 0)

	// Land with the code in another case than it was created in.
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(site+"/?ref=patspring&sub=spring")); err != nil {
		t.Fatalf("open landing page: %v", err)
	}
	ref, err := chromedp.Run(b.Ctx, chromedp.Poll[string](`window.spiffy && window.spiffy('referral')`,
		chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the referral: %v", err)
	}
	if !store.ValidID(ref) {
		t.Fatalf("spiffy('referral') = %q, want a referral id", ref)
	}
	cookies, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cookies, "spiffy_ref="+ref) || !strings.Contains(cookies, "spiffy_vid=") {
		t.Errorf("cookies %q: want spiffy_ref=%s and spiffy_vid", cookies, ref)
	}
	stored, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](
		`[localStorage.getItem('spiffy_ref') || '', localStorage.getItem('spiffy_ref_exp') || '', localStorage.getItem('spiffy_vid') || '']`))
	if err != nil {
		t.Fatal(err)
	}
	expMS, _ := strconv.ParseInt(stored[1], 10, 64)
	if d := time.UnixMilli(expMS).Sub(time.Now().Add(30 * 24 * time.Hour)); stored[0] != ref || d < -time.Minute || d > time.Minute || stored[2] == "" {
		t.Errorf("localStorage spiffy_ref, _exp, spiffy_vid = %q; want %s, in 30 days (the cookie window), a visitor id", stored, ref)
	}

	// A cookie lost (cleared, or capped by the browser) comes back from
	// localStorage while the referral is valid.
	restored, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](
		`document.cookie = 'spiffy_ref=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/'; spiffy('referral') + ' ' + document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(restored, ref+" ") || !strings.Contains(restored, "spiffy_ref="+ref) {
		t.Errorf("after losing the cookie: %q; want the referral back, cookie restored", restored)
	}
	b.Screenshot("landing")

	// Sign up through the captured form.
	if err := chromedp.Do(b.Ctx,
		chromedp.SendKeys(`#name`, "Bea Buyer"),
		chromedp.SendKeys(`#email`, "Bea.Buyer@Example.com"),
	); err != nil {
		t.Fatalf("fill the form: %v", err)
	}
	b.Screenshot("form-filled")
	if err := chromedp.Do(b.Ctx, chromedp.Click(`#submit`), chromedp.WaitVisible(`#thanks`)); err != nil {
		t.Fatalf("submit the form: %v", err)
	}
	b.Screenshot("thanks")
	if n := shop.signupCount(); n != 1 {
		t.Fatalf("the merchant's form action got %d posts, want 1", n)
	}
	if got := shop.signups[0].Get("email"); got != "Bea.Buyer@Example.com" {
		t.Errorf("the merchant's form action got email %q", got)
	}

	// The beacon reaches Spiffy on its own schedule.
	var lead *store.Lead
	Eventually(t, 10*time.Second, "the lead to be stored", func() bool {
		leads, _, err := sp.App.Views().LeadsPage(store.LeadQuery{ProgramID: prg.ID, Limit: 10})
		if err != nil {
			t.Fatalf("list leads: %v", err)
		}
		if len(leads) > 0 {
			lead = leads[0]
		}
		return lead != nil
	})
	if lead.AffiliateID != af.ID || lead.SubID != "spring" || lead.Code != "PatSpring" || lead.ReferralID != ref ||
		lead.Email != "Bea.Buyer@Example.com" || lead.Name != "Bea Buyer" || !strings.HasPrefix(lead.URL, site+"/") {
		t.Errorf("lead = %+v; want affiliate %s, sub-id spring, code PatSpring, referral %s, the email and name typed, the page URL",
			*lead, af.ID, ref)
	}

	// The thanks page (another page load) still knows the referral: the
	// checkout passes it to the merchant's server.
	again, err := chromedp.Run(b.Ctx, chromedp.Poll[string](`window.spiffy && !window.spiffy.q && (window.spiffy('referral') || 'none')`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if again != ref {
		t.Fatalf("spiffy('referral') on the next page = %q, want %q", again, ref)
	}

	// The merchant's server reports the purchase over the real API.
	body, _ := json.Marshal(map[string]string{
		"order_id": "ORDER-1", "program": prg.ID, "email": "bea.buyer@example.com", "name": "Bea Buyer",
		"product": "Plan", "amount": "49.00", "currency": "USD", "referral": again,
	})
	req, _ := http.NewRequest(http.MethodPost, sp.URL+"/api/v1/purchases", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+sp.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("create purchase: %v", err)
	}
	defer resp.Body.Close()
	var pur web.PurchaseJSON
	if err := json.NewDecoder(resp.Body).Decode(&pur); err != nil {
		t.Fatalf("decode purchase: %v", err)
	}
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create purchase: status %d: %+v", resp.StatusCode, pur)
	}
	if pur.Affiliate == nil || *pur.Affiliate != af.ID || pur.Commission != "14.70" || pur.SubID != "spring" ||
		pur.ReferralCode != "PatSpring" || pur.SelfReferral {
		t.Errorf("purchase = %+v; want affiliate %s, commission 14.70 (30%% of 49.00), sub-id spring", pur, af.ID)
	}
	l, err := sp.App.Lead(lead.ID)
	if err != nil {
		t.Fatal(err)
	}
	if l.PurchaseID != pur.ID {
		t.Errorf("lead's purchase = %q, want %q (purchased)", l.PurchaseID, pur.ID)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("the pages threw: %v", ex)
	}
}

// TestTrackingConsent: with data-require-consent nothing is stored or sent
// until spiffy('consent', true), which then tracks the current page's
// referral; spiffy('consent', false) clears it again.
func TestTrackingConsent(t *testing.T) {
	sp := StartSpiffy(t)
	prg := sp.Program("Consent")
	sp.Affiliate("Cory", "cory@partner.example", "cory", prg)
	site := StartSite(t, &merchant{install: web.InstallCode(sp.URL), consent: true})
	b := NewBrowser(t, 0)

	clicks := func() int64 {
		var n int64
		err := sp.DB.View(func(tx *store.Tx) error {
			return tx.Rollups(0, 1<<31, prg.ID, func(_ uint32, _, _ string, r *store.Rollup) { n += r.Clicks })
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	if err := chromedp.Do(b.Ctx, chromedp.Navigate(site+"/?via=cory")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`!!window.spiffy && !window.spiffy.q`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for SpiffyJS: %v", err)
	}
	state := func() (ref, cookies, ls string) {
		t.Helper()
		v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](
			`[String(spiffy('referral')), document.cookie, Object.keys(localStorage).join(',')]`))
		if err != nil || len(v) != 3 {
			t.Fatalf("read state: %v %v", v, err)
		}
		return v[0], v[1], v[2]
	}
	if ref, cookies, ls := state(); ref != "null" || cookies != "" || ls != "" {
		t.Fatalf("before consent: referral %s, cookies %q, storage %q; want nothing", ref, cookies, ls)
	}
	if n := clicks(); n != 0 {
		t.Fatalf("before consent: %d clicks stored, want 0", n)
	}
	b.Screenshot("before-consent")

	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`spiffy('consent', true), true`)); err != nil {
		t.Fatal(err)
	}
	ref, err := chromedp.Run(b.Ctx, chromedp.Poll[string](`spiffy('referral')`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the referral after consent: %v", err)
	}
	if _, cookies, _ := state(); !strings.Contains(cookies, "spiffy_ref="+ref) {
		t.Errorf("after consent: cookies %q, want spiffy_ref=%s", cookies, ref)
	}
	if n := clicks(); n != 1 {
		t.Errorf("after consent: %d clicks stored, want 1", n)
	}

	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`spiffy('consent', false), true`)); err != nil {
		t.Fatal(err)
	}
	if ref, cookies, ls := state(); ref != "null" || strings.Contains(cookies, "spiffy_") || ls != "" {
		t.Errorf("after withdrawing consent: referral %s, cookies %q, storage %q; want all cleared", ref, cookies, ls)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("the page threw: %v", ex)
	}
}
