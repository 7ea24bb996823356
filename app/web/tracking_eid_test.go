package web_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
)

// TestTrackEventIDs: an event sent again with the same eid (SpiffyJS's
// retry after a lost answer or a restart) gets 200 and its first answer,
// and nothing is stored twice; a malformed eid is refused before anything
// is stored.
func TestTrackEventIDs(t *testing.T) {
	env, advance := newEnv(t)
	prg := env.Program("Shop", func(in *app.ProgramInput) {
		in.TrackLeads = apptest.Ptr(true)
		in.CookieDays = apptest.Ptr(10)
	})
	env.Affiliate("Ann", "ann@partner.example", "ann", prg)
	env.Affiliate("Bob", "bob@partner.example", "bob", prg)

	apptest.RunScenarios(t, env.Sender(), []apptest.Scenario{
		{Name: "click, eid too long", Path: "/t/click", Body: `{"ref":"ann","eid":"` + strings.Repeat("a", 65) + `"}`, Status: 400, Code: "invalid_eid"},
		{Name: "click, eid not URL-safe", Path: "/t/click", Body: `{"ref":"ann","eid":"a b/c"}`, Status: 400, Code: "invalid_eid"},
		{Name: "click, eid not a string", Path: "/t/click", Body: `{"ref":"ann","eid":42}`, Status: 400, Code: "invalid_eid"},
		{Name: "lead, eid not URL-safe", Path: "/t/lead", Body: `{"email":"jo@example.com","eid":"é"}`, Status: 400, Code: "invalid_eid"},
	})
	if clicks, leads := storeCounts(t, env); clicks != 0 || leads != 0 {
		t.Fatalf("refused events stored %d clicks, %d leads", clicks, leads)
	}

	eid := strings.Repeat("A-z_9", 12) + "abcd" // 64 characters
	first := postClick(t, env, map[string]string{"ref": "ann", "eid": eid})
	advance(time.Hour)
	// The retry is the same event; even a changed body (another code) gets
	// the first answer: the id names the event.
	for _, body := range []map[string]string{{"ref": "ann", "eid": eid}, {"ref": "bob", "eid": eid}} {
		rec := env.Request(http.MethodPost, "/t/click", body)
		apptest.Expect(t, rec, http.StatusOK)
		if got := apptest.Decode[clickResp](t, rec); got != first {
			t.Fatalf("repeated click answered %+v, want the first answer %+v", got, first)
		}
	}
	if clicks, _ := storeCounts(t, env); clicks != 1 {
		t.Fatalf("%d clicks stored after a click sent three times with one eid, want 1", clicks)
	}
	// Another eid (or none) is another click.
	postClick(t, env, map[string]string{"ref": "ann", "eid": "other-event"})
	postClick(t, env, map[string]string{"ref": "ann"})
	postClick(t, env, map[string]string{"ref": "ann"})
	if clicks, _ := storeCounts(t, env); clicks != 4 {
		t.Fatalf("%d clicks, want 4", clicks)
	}

	// Leads: the first answer again even once the referral has expired.
	lead := map[string]string{"email": "jo@example.com", "referral": first.Referral, "eid": eid}
	rec := env.Request(http.MethodPost, "/t/lead", lead)
	apptest.Expect(t, rec, http.StatusCreated)
	firstLead := apptest.Decode[leadResp](t, rec)
	advance(30 * 24 * time.Hour)
	rec = env.Request(http.MethodPost, "/t/lead", lead)
	apptest.Expect(t, rec, http.StatusOK)
	if got := apptest.Decode[leadResp](t, rec); got != firstLead || !got.Attributed {
		t.Fatalf("repeated lead answered %+v, want %+v", got, firstLead)
	}
	// Without the eid the expired referral attributes nothing.
	rec = env.Request(http.MethodPost, "/t/lead", map[string]string{"email": "kim@example.com", "referral": first.Referral})
	apptest.Expect(t, rec, http.StatusAccepted)
	if _, leads := storeCounts(t, env); leads != 1 {
		t.Fatalf("%d leads, want 1", leads)
	}
}

// TestTrackEventIDRace: copies of one event arriving together (a resend
// while the first attempt is still in flight) make one click, and every
// copy is answered with the same referral.
func TestTrackEventIDRace(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shop")
	env.Affiliate("Ann", "ann@partner.example", "ann", prg)
	const n = 16
	var wg sync.WaitGroup
	answers := make([]clickResp, n)
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := env.Request(http.MethodPost, "/t/click", `{"ref":"ann","eid":"same-event"}`)
			codes[i] = rec.Code
			if rec.Code == http.StatusCreated || rec.Code == http.StatusOK {
				answers[i] = apptest.Decode[clickResp](t, rec)
			}
		}()
	}
	wg.Wait()
	created := 0
	for i := range n {
		if codes[i] == http.StatusCreated {
			created++
		} else if codes[i] != http.StatusOK {
			t.Fatalf("copy %d answered %d", i, codes[i])
		}
		if answers[i] != answers[0] || answers[i].Referral == "" {
			t.Fatalf("copy %d answered %+v, copy 0 %+v", i, answers[i], answers[0])
		}
	}
	if clicks, _ := storeCounts(t, env); clicks != 1 || created != 1 {
		t.Fatalf("%d clicks stored, %d answered 201; want 1 and 1", clicks, created)
	}
}

// TestEventRepliesSurviveReindex: eid keys are not derived from records,
// so a reindex must keep them.
func TestEventRepliesSurviveReindex(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shop")
	env.Affiliate("Ann", "ann@partner.example", "ann", prg)
	first := postClick(t, env, map[string]string{"ref": "ann", "eid": "evt1"})
	if err := env.DB.Reindex(nil); err != nil {
		t.Fatal(err)
	}
	rec := env.Request(http.MethodPost, "/t/click", map[string]string{"ref": "ann", "eid": "evt1"})
	apptest.Expect(t, rec, http.StatusOK)
	if got := apptest.Decode[clickResp](t, rec); got != first {
		t.Fatalf("after reindex: %+v, want %+v", got, first)
	}
}

// TestTrackingCookieDomain: with tracking.cookie_domain, /t/click sets
// spiffy_ref until the referral expires and spiffy_vid for a year, for
// that domain, Lax, Secure over https; without it, no Set-Cookie at all.
func TestTrackingCookieDomain(t *testing.T) {
	post := func(env *apptest.Env, body string, headers ...string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/t/click", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		for i := 0; i+1 < len(headers); i += 2 {
			if headers[i] == "RemoteAddr" {
				req.RemoteAddr = headers[i+1]
				continue
			}
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		env.Server.Echo.ServeHTTP(rec, req)
		return rec
	}
	setup := func(domain string) *apptest.Env {
		env, _ := newEnv(t, func(c *config.Config) {
			c.Tracking.CookieDomain = domain
			c.TrustedProxies = []*net.IPNet{{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)}}
		})
		prg := env.Program("Shop", func(in *app.ProgramInput) { in.CookieDays = apptest.Ptr(60) })
		env.Affiliate("Ann", "ann@partner.example", "ann", prg)
		return env
	}

	env := setup("")
	rec := post(env, `{"ref":"ann","vid":"visitor123"}`, "Origin", "https://shop.example")
	apptest.Expect(t, rec, 201)
	if sc := rec.Header().Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("Set-Cookie without tracking.cookie_domain: %q", sc)
	}

	env = setup(".shop.example")
	rec = post(env, `{"ref":"ann","vid":"visitor123","eid":"e1"}`, "Origin", "https://www.shop.example")
	apptest.Expect(t, rec, 201)
	ref := apptest.Decode[clickResp](t, rec).Referral
	const sixty = 60 * 24 * 3600
	wantRef := "spiffy_ref=" + ref + "; Path=/; Domain=shop.example; Max-Age=5184000; Expires=" +
		t0.Add(sixty*time.Second).Format(http.TimeFormat) + "; SameSite=Lax"
	wantVid := "spiffy_vid=visitor123; Path=/; Domain=shop.example; Max-Age=31536000; Expires=" +
		t0.Add(365*24*time.Hour).Format(http.TimeFormat) + "; SameSite=Lax"
	if sc := rec.Header().Values("Set-Cookie"); len(sc) != 2 || sc[0] != wantRef || sc[1] != wantVid {
		t.Fatalf("Set-Cookie\n got %q\nwant %q", sc, []string{wantRef, wantVid})
	}
	// The cookies parse as Go's client would read them.
	cookies := rec.Result().Cookies()
	if len(cookies) != 2 || cookies[0].Domain != "shop.example" || cookies[0].MaxAge != sixty || cookies[0].HttpOnly ||
		cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].Secure {
		t.Fatalf("cookies %+v", cookies)
	}

	// A repeat sets them again (the retry is when they matter); https
	// (here through a proxy on loopback, listed in trusted_proxies) makes
	// them Secure; a malformed visitor id gets no spiffy_vid.
	rec = post(env, `{"ref":"ann","vid":"x","eid":"e1"}`, "Origin", "https://www.shop.example", "X-Forwarded-Proto", "https")
	if sc := rec.Header().Values("Set-Cookie"); len(sc) != 2 || strings.Contains(sc[0], "Secure") {
		t.Fatalf("X-Forwarded-Proto from a public peer must not count: Set-Cookie %q", sc)
	}
	rec = post(env, `{"ref":"ann","vid":"bad vid!","eid":"e1"}`, "Origin", "https://www.shop.example", "X-Forwarded-Proto", "https", "RemoteAddr", "127.0.0.1:40000")
	apptest.Expect(t, rec, 200)
	if sc := rec.Header().Values("Set-Cookie"); len(sc) != 1 || !strings.HasPrefix(sc[0], "spiffy_ref="+ref+"; ") || !strings.HasSuffix(sc[0], "; SameSite=Lax; Secure") {
		t.Fatalf("repeat over https: Set-Cookie %q", sc)
	}
	// An unknown code sets nothing.
	rec = post(env, `{"ref":"nobody","vid":"visitor123"}`, "Origin", "https://shop.example")
	wantError(t, rec, 404, "unknown_referral_code")
	if sc := rec.Header().Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("Set-Cookie on a 404: %q", sc)
	}
}

// TestTrackingCredentialedCORS: with tracking.cookie_domain the tracking
// routes answer credentialed CORS (the exact origin, never "*") to the
// allowed origins only: tracking.allowed_origins when set, else the cookie
// domain and hosts under it. Everybody else is answered as before.
func TestTrackingCredentialedCORS(t *testing.T) {
	tests := []struct {
		name        string
		allowed     []string
		method      string
		origin      string
		status      int
		wantOrigin  string
		credentials bool
	}{
		{"under the domain: post", nil, http.MethodPost, "https://www.shop.example", 201, "https://www.shop.example", true},
		{"the domain itself, with port: post", nil, http.MethodPost, "http://shop.example:8080", 201, "http://shop.example:8080", true},
		{"under the domain: preflight", nil, http.MethodOptions, "https://shop.example", 204, "https://shop.example", true},
		{"other site: not credentialed", nil, http.MethodPost, "https://blog.example", 201, "*", false},
		{"suffix trick: not credentialed", nil, http.MethodPost, "https://evilshop.example", 201, "*", false},
		{"no origin", nil, http.MethodPost, "", 201, "*", false},
		{"listed: post", []string{"https://shop.example"}, http.MethodPost, "https://shop.example", 201, "https://shop.example", true},
		{"listed: preflight", []string{"https://shop.example"}, http.MethodOptions, "https://shop.example", 204, "https://shop.example", true},
		{"not listed though under the domain", []string{"https://shop.example"}, http.MethodPost, "https://www.shop.example", 403, "", false},
		{"not listed: preflight", []string{"https://shop.example"}, http.MethodOptions, "https://evil.example", 403, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t, func(c *config.Config) {
				c.Tracking.AllowedOrigins = tt.allowed
				c.Tracking.CookieDomain = "shop.example"
			})
			prg := env.Program("Shop")
			env.Affiliate("Ann", "ann@partner.example", "ann", prg)
			body := ""
			if tt.method == http.MethodPost {
				body = `{"ref":"ann"}`
			}
			req := httptest.NewRequest(tt.method, "/t/click", strings.NewReader(body))
			req.Header.Set("Content-Type", "text/plain")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			rec := httptest.NewRecorder()
			env.Server.Echo.ServeHTTP(rec, req)
			if tt.status == 403 {
				wantError(t, rec, 403, "origin_not_allowed")
			} else {
				apptest.Expect(t, rec, tt.status)
			}
			h := rec.Header()
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tt.wantOrigin)
			}
			if got := h.Get("Access-Control-Allow-Credentials") == "true"; got != tt.credentials {
				t.Fatalf("Access-Control-Allow-Credentials %q, want credentials %v", h.Get("Access-Control-Allow-Credentials"), tt.credentials)
			}
			if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Fatalf("Vary %q lacks Origin: the answer depends on it", h.Values("Vary"))
			}
			clicks, _ := storeCounts(t, env)
			if want := map[bool]int64{true: 1, false: 0}[tt.status == 201]; clicks != want {
				t.Fatalf("%d clicks stored, want %d", clicks, want)
			}
		})
	}
}

// TestScriptCarriesCookieDomain: /spiffy.js is rendered with the cookie
// domain, and its ETag changes with it so caches do not keep the old one.
func TestScriptCarriesCookieDomain(t *testing.T) {
	get := func(domain string) *httptest.ResponseRecorder {
		env, _ := newEnv(t, func(c *config.Config) {
			c.Tracking.CookieDomain = domain
			c.TrustedProxies = []*net.IPNet{{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)}}
		})
		rec := env.Request(http.MethodGet, "/spiffy.js", nil)
		apptest.Expect(t, rec, 200)
		return rec
	}
	plain, dotted, bare := get(""), get(".shop.example"), get("shop.example")
	if !strings.Contains(plain.Body.String(), "srvDomain = ''") || strings.Contains(plain.Body.String(), "cookie_domain*/") {
		t.Fatal("spiffy.js without a cookie domain lacks srvDomain = '' (or keeps the mark)")
	}
	if !strings.Contains(dotted.Body.String(), "srvDomain = 'shop.example'") {
		t.Fatal("spiffy.js lacks the configured cookie domain")
	}
	if plain.Header().Get("ETag") == dotted.Header().Get("ETag") || dotted.Header().Get("ETag") != bare.Header().Get("ETag") {
		t.Fatalf("ETags %q, %q, %q: want a change with the domain, none with its leading dot",
			plain.Header().Get("ETag"), dotted.Header().Get("ETag"), bare.Header().Get("ETag"))
	}
}
