//go:build browser

package browser

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// Tracking that survives (issue 16): a restart of the appliance, Safari's
// cap on script-set cookies, and ad blockers' lists of tracking hosts.

// clickCount is how many clicks the store holds for a program.
func clickCount(t *testing.T, sp *Spiffy, programID string) int64 {
	t.Helper()
	var n int64
	err := sp.DB.View(func(tx *store.Tx) error {
		return tx.Rollups(0, 1<<31, programID, func(_ uint32, _, _ string, r *store.Rollup) { n += r.Clicks })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// open navigates and waits for SpiffyJS to have replaced its queue stub.
func (b *Browser) open(u string) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(u)); err != nil {
		b.t.Fatalf("open %s: %v", u, err)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`!!window.spiffy && !window.spiffy.q`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		b.t.Fatalf("waiting for SpiffyJS on %s: %v", u, err)
	}
}

// TestTrackingRetriesAfterRestart: the appliance is down (an upgrade) when
// a visitor lands through a referral link; SpiffyJS keeps the click, and on
// the visitor's next page view, with Spiffy back, sends it again: exactly
// one click is stored and the referral is kept. Likewise for a lead sent
// by a form's beacon while Spiffy is down.
func TestTrackingRetriesAfterRestart(t *testing.T) {
	sp := StartSpiffy(t)
	prg := sp.Program("Restart", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	sp.Affiliate("Rita", "rita@partner.example", "rita", prg)
	site := StartSite(t, &merchant{install: web.InstallCode(sp.URL)})
	b := NewBrowser(t, 0)

	// A returning visitor's browser holds spiffy.js in its cache
	// (max-age=3600), so the page runs it while Spiffy is down.
	b.open(site + "/")
	sp.Stop(t)
	b.open(site + "/?ref=rita")
	queued, err := chromedp.Run(b.Ctx, chromedp.Poll[string](`localStorage.getItem('spiffy_q')`,
		chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the undelivered click to be kept: %v", err)
	}
	if !strings.Contains(queued, `"/t/click"`) || !strings.Contains(queued, `"eid":"`) || !strings.Contains(queued, `"ref":"rita"`) {
		t.Fatalf("queue %s: want the click with its eid", queued)
	}
	if ref, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`String(spiffy('referral'))`)); err != nil || ref != "null" {
		t.Fatalf("referral while Spiffy is down: %q, %v", ref, err)
	}
	b.Screenshot("spiffy-down")
	if n := clickCount(t, sp, prg.ID); n != 0 {
		t.Fatalf("%d clicks stored while Spiffy was down", n)
	}

	sp.Start(t)
	b.open(site + "/?page=2")
	ref, err := chromedp.Run(b.Ctx, chromedp.Poll[string](`spiffy('referral')`, chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the resent click's referral: %v", err)
	}
	state, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`[document.cookie, String(localStorage.getItem('spiffy_q'))]`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(state[0], "spiffy_ref="+ref) || state[1] != "null" {
		t.Fatalf("after the resend: cookies %q, queue %s; want spiffy_ref=%s and an empty queue", state[0], state[1], ref)
	}
	var c *store.Click
	if err := sp.DB.View(func(tx *store.Tx) (err error) { c, err = tx.Click(ref); return }); err != nil {
		t.Fatalf("the kept referral is not a stored click: %v", err)
	}
	if c.Code != "rita" || !strings.Contains(c.URL, "ref=rita") {
		t.Fatalf("click %+v: want the landing page's", c)
	}
	// Another page view sends nothing again.
	b.open(site + "/?page=3")
	time.Sleep(300 * time.Millisecond)
	if n := clickCount(t, sp, prg.ID); n != 1 {
		t.Fatalf("%d clicks stored, want exactly 1", n)
	}
	b.Screenshot("spiffy-back")

	// A sign-up while Spiffy is down: the beacon is lost, the lead kept.
	sp.Stop(t)
	b.open(site + "/")
	if err := chromedp.Do(b.Ctx,
		chromedp.SendKeys(`#name`, "Lee Later"),
		chromedp.SendKeys(`#email`, "lee@example.com"),
		chromedp.Click(`#submit`), chromedp.WaitVisible(`#thanks`)); err != nil {
		t.Fatalf("sign up: %v", err)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`(localStorage.getItem('spiffy_q') || '').indexOf('"/t/lead"') >= 0`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("waiting for the undelivered lead to be kept: %v", err)
	}
	sp.Start(t)
	b.open(site + "/?page=4")
	var leads []*store.Lead
	Eventually(t, 15*time.Second, "the resent lead to be stored", func() bool {
		var err error
		if leads, _, err = sp.App.Views().LeadsPage(store.LeadQuery{ProgramID: prg.ID, Limit: 10}); err != nil {
			t.Fatal(err)
		}
		return len(leads) > 0
	})
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`localStorage.getItem('spiffy_q') === null`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the queue is not emptied after the resend: %v", err)
	}
	b.open(site + "/?page=5")
	time.Sleep(300 * time.Millisecond)
	if leads, _, _ = sp.App.Views().LeadsPage(store.LeadQuery{ProgramID: prg.ID, Limit: 10}); len(leads) != 1 ||
		leads[0].Email != "lee@example.com" || leads[0].ReferralID != ref {
		t.Fatalf("leads %+v: want exactly Lee's, through referral %s", leads, ref)
	}
	if n := clickCount(t, sp, prg.ID); n != 1 {
		t.Fatalf("%d clicks stored, want exactly 1", n)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("the pages threw: %v", ex)
	}
}

// cookieRecorder records every write to document.cookie, to tell cookies
// the server set from cookies the script set.
const cookieRecorder = `<script>(function(){var p=Object.getOwnPropertyDescriptor(Document.prototype,'cookie');window.cookieWrites=[];` +
	`Object.defineProperty(document,'cookie',{configurable:true,get:function(){return p.get.call(document)},` +
	`set:function(v){window.cookieWrites.push(String(v));p.set.call(document,v)}})})();</script>`

// TestTrackingServerSetCookie: the shop at shop.test embeds SpiffyJS from
// partners.shop.test with tracking.cookie_domain .shop.test. The click's
// answer sets spiffy_ref for .shop.test with the program's 60-day window
// (a script-set cookie would be capped at 7 days in Safari), the script
// writes no cookie itself, and a later page reads the referral from the
// cookie alone.
func TestTrackingServerSetCookie(t *testing.T) {
	sp := StartSpiffy(t, func(c *config.Config) { c.Tracking.CookieDomain = ".shop.test" })
	prg := sp.Program("Cookies", func(in *app.ProgramInput) { in.CookieDays = apptest.Ptr(60) })
	sp.Affiliate("Sam", "sam@partner.example", "sam", prg)
	_, spiffyPort, _ := net.SplitHostPort(strings.TrimPrefix(sp.URL, "http://"))
	partners := "http://partners.shop.test:" + spiffyPort
	site := StartSite(t, &merchant{install: web.InstallCode(partners), head: cookieRecorder})
	shop := "http://shop.test:" + site[strings.LastIndexByte(site, ':')+1:]
	b := NewBrowser(t, 0, chromedp.Flag("host-resolver-rules", "MAP shop.test 127.0.0.1, MAP partners.shop.test 127.0.0.1"))

	b.open(shop + "/?ref=sam")
	ref, err := chromedp.Run(b.Ctx, chromedp.Poll[string](`spiffy('referral')`, chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the referral: %v", err)
	}
	clickedAt := time.Now()
	b.Screenshot("landed")

	var cookies []*network.Cookie
	if err := chromedp.Do(b.Ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) (err error) {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{shop + "/"}})
		if err == nil {
			cookies = res.Cookies
		}
		return err
	})); err != nil {
		t.Fatalf("read the cookie jar: %v", err)
	}
	byName := map[string]*network.Cookie{}
	for _, c := range cookies {
		byName[c.Name] = c
	}
	rc, vc := byName["spiffy_ref"], byName["spiffy_vid"]
	if rc == nil || vc == nil {
		t.Fatalf("cookies for %s: %+v; want spiffy_ref and spiffy_vid", shop, cookies)
	}
	expires := time.Unix(int64(rc.Expires), 0)
	if want := clickedAt.Add(60 * 24 * time.Hour); rc.Value != ref || rc.Domain != ".shop.test" || rc.Path != "/" || rc.HTTPOnly ||
		rc.SameSite != network.CookieSameSiteLax || expires.Sub(want).Abs() > 2*time.Minute {
		t.Fatalf("spiffy_ref = %+v (expires %s); want %s for .shop.test, Lax, expiring %s (the 60-day window, far past 7 days)",
			*rc, expires, ref, want)
	}
	if vc.Domain != ".shop.test" || time.Unix(int64(vc.Expires), 0).Before(clickedAt.Add(300*24*time.Hour)) {
		t.Fatalf("spiffy_vid = %+v; want .shop.test for a year", *vc)
	}
	writes, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`window.cookieWrites`))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range writes {
		if strings.HasPrefix(w, "spiffy_ref=") || strings.HasPrefix(w, "spiffy_vid=") {
			t.Fatalf("the script wrote %q: the cookies must be the server's", w)
		}
	}

	// A later page, with localStorage gone, reads the referral from the cookie.
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`localStorage.clear(), true`)); err != nil {
		t.Fatal(err)
	}
	b.open(shop + "/?page=2")
	again, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`String(spiffy('referral'))`))
	if err != nil || again != ref {
		t.Fatalf("spiffy('referral') on the next page = %q (%v), want %s", again, err, ref)
	}
	if n := clickCount(t, sp, prg.ID); n != 1 {
		t.Fatalf("%d clicks, want 1", n)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("the pages threw: %v", ex)
	}
}

// TestTrackingFirstPartyPath: the shop forwards /_spiffy/* to Spiffy with
// a reverse proxy (as its nginx or Caddy would) and tags the script with
// data-api="/_spiffy", so no request goes to a tracking host. The proxy
// connects from 127.0.0.2, listed in trusted_proxies: the click records the
// visitor's address from X-Forwarded-For, not the proxy's.
func TestTrackingFirstPartyPath(t *testing.T) {
	proxyIP := net.ParseIP("127.0.0.2")
	sp := StartSpiffy(t, func(c *config.Config) {
		c.TrustedProxies = []*net.IPNet{{IP: proxyIP, Mask: net.CIDRMask(32, 32)}}
	})
	prg := sp.Program("Proxied")
	sp.Affiliate("Dana", "dana@partner.example", "dana", prg)

	target, _ := url.Parse(sp.URL)
	var forwardedClicks atomic.Int32
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = target.Scheme, target.Host
			r.Out.URL.Path, r.Out.URL.RawPath = strings.TrimPrefix(r.In.URL.Path, "/_spiffy"), ""
			r.Out.Host = ""
			r.SetXForwarded()
			if r.Out.URL.Path == "/t/click" {
				forwardedClicks.Add(1)
			}
		},
		Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: proxyIP}}).DialContext},
	}
	install := strings.Replace(web.InstallCode(sp.URL), " async>", ` data-api="/_spiffy" async>`, 1)
	mux := http.NewServeMux()
	mux.Handle("/_spiffy/", proxy)
	mux.Handle("/", &merchant{install: install})
	site := StartSite(t, mux)
	b := NewBrowser(t, 0)

	b.open(site + "/?ref=dana")
	ref, err := chromedp.Run(b.Ctx, chromedp.Poll[string](`spiffy('referral')`, chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the referral: %v", err)
	}
	if n := forwardedClicks.Load(); n != 1 {
		t.Fatalf("the shop's proxy forwarded %d clicks, want 1", n)
	}
	var c *store.Click
	if err := sp.DB.View(func(tx *store.Tx) (err error) { c, err = tx.Click(ref); return }); err != nil {
		t.Fatalf("the kept referral is not a stored click: %v", err)
	}
	if c.IP != "127.0.0.1" {
		t.Fatalf("click IP %q, want the visitor's 127.0.0.1 (the proxy is 127.0.0.2)", c.IP)
	}
	b.Screenshot("proxied")
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("the page threw: %v", ex)
	}
}
