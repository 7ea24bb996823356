package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/store"
)

func TestTrackClick(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shop", func(in *app.ProgramInput) { in.CookieDays = apptest.Ptr(10) })
	af := env.Affiliate("Ann", "ann@partner.example", "AnnCode", prg)

	blockedPrg := env.Program("Other")
	blocked := env.Affiliate("Bob", "bob@partner.example", "bobcode", blockedPrg)
	if _, err := env.App.UpdateAffiliate(blocked.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusBlocked)}); err != nil {
		t.Fatal(err)
	}
	pending := env.Affiliate("Pia", "pia@partner.example", "piacode", blockedPrg)
	if _, err := env.App.UpdateAffiliate(pending.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusPending)}); err != nil {
		t.Fatal(err)
	}
	gone := env.Program("Gone")
	env.Affiliate("Gus", "gus@partner.example", "guscode", gone)
	if err := env.App.DeleteProgram(gone.ID); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		body   string
		ct     string
		status int
		code   string
	}{
		{"exact case", `{"ref":"AnnCode","sub":"spring"}`, "application/json", 201, ""},
		{"other case", `{"ref":"anncode"}`, "application/json", 201, ""},
		{"upper case and spaces", `{"ref":"  ANNCODE "}`, "application/json", 201, ""},
		{"beacon text/plain", `{"ref":"AnnCode"}`, "text/plain;charset=UTF-8", 201, ""},
		{"no content type", `{"ref":"AnnCode"}`, "", 201, ""},
		{"unknown fields ignored", `{"ref":"AnnCode","extra":{"a":[1,2]}}`, "application/json", 201, ""},
		{"unknown code", `{"ref":"nobody"}`, "application/json", 404, "unknown_referral_code"},
		{"no code", `{"sub":"x"}`, "application/json", 404, "unknown_referral_code"},
		{"empty code", `{"ref":""}`, "application/json", 404, "unknown_referral_code"},
		{"absurd code", `{"ref":"` + strings.Repeat("a", 200) + `"}`, "application/json", 404, "unknown_referral_code"},
		{"blocked affiliate", `{"ref":"bobcode"}`, "application/json", 404, "unknown_referral_code"},
		{"pending affiliate", `{"ref":"piacode"}`, "application/json", 404, "unknown_referral_code"},
		{"deleted program", `{"ref":"guscode"}`, "application/json", 404, "unknown_referral_code"},
		{"not JSON", `ref=AnnCode`, "text/plain", 400, "invalid_json"},
		{"empty body", ``, "application/json", 400, "invalid_json"},
		{"JSON array", `["AnnCode"]`, "application/json", 400, "invalid_json"},
		{"wrong type", `{"ref":42}`, "application/json", 400, "invalid_ref"},
		{"form body", `ref=AnnCode`, "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clicksBefore, _ := storeCounts(t, env)
			req := httptest.NewRequest(http.MethodPost, "/t/click", strings.NewReader(tt.body))
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			rec := httptest.NewRecorder()
			env.Server.Echo.ServeHTTP(rec, req)
			clicksAfter, _ := storeCounts(t, env)
			if tt.status != 201 {
				wantError(t, rec, tt.status, tt.code)
				if clicksAfter != clicksBefore {
					t.Fatalf("a refused click was stored")
				}
				return
			}
			apptest.Expect(t, rec, 201)
			got := apptest.Decode[clickResp](t, rec)
			want := t0.Add(10 * 24 * time.Hour).Format(time.RFC3339)
			if !store.ValidID(got.Referral) || got.Program != prg.ID || got.ExpiresAt != want {
				t.Fatalf("click = %+v; want a referral id, program %s, expires_at %s", got, prg.ID, want)
			}
			if clicksAfter != clicksBefore+1 {
				t.Fatalf("clicks %d -> %d, want one more", clicksBefore, clicksAfter)
			}
			var c *store.Click
			if err := env.DB.View(func(tx *store.Tx) (err error) { c, err = tx.Click(got.Referral); return }); err != nil {
				t.Fatalf("stored click: %v", err)
			}
			if c.AffiliateID != af.ID || c.Code != "AnnCode" || c.IP != "192.0.2.1" || !c.CreatedAt.Equal(t0) {
				t.Fatalf("stored click %+v", c)
			}
		})
	}
}

func TestTrackClickRecordsRequest(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shop")
	env.Affiliate("Ann", "ann@partner.example", "ann", prg)
	rec := env.Request(http.MethodPost, "/t/click",
		`{"ref":"ann","sub":" spring\n","url":"https://shop.example.com/?ref=ann","referrer":"https://blog.example/","vid":"v1234567890abc"}`,
		"User-Agent", "TestBrowser/1.0")
	apptest.Expect(t, rec, 201)
	got := apptest.Decode[clickResp](t, rec)
	var c *store.Click
	if err := env.DB.View(func(tx *store.Tx) (err error) { c, err = tx.Click(got.Referral); return }); err != nil {
		t.Fatal(err)
	}
	want := store.Click{ID: got.Referral, ProgramID: prg.ID, AffiliateID: c.AffiliateID, Code: "ann", SubID: "spring",
		VisitorID: "v1234567890abc", URL: "https://shop.example.com/?ref=ann", Referrer: "https://blog.example/",
		IP: "192.0.2.1", UserAgent: "TestBrowser/1.0", CreatedAt: c.CreatedAt}
	if *c != want {
		t.Fatalf("click\n got %+v\nwant %+v", *c, want)
	}

	// A visitor id that could not have come from SpiffyJS is dropped, not stored in keys.
	got = postClick(t, env, map[string]string{"ref": "ann", "vid": "bad id\x00with/stuff"})
	if err := env.DB.View(func(tx *store.Tx) (err error) { c, err = tx.Click(got.Referral); return }); err != nil {
		t.Fatal(err)
	}
	if c.VisitorID != "" {
		t.Fatalf("visitor id %q kept, want dropped", c.VisitorID)
	}
}

func TestTrackClickAttributionRule(t *testing.T) {
	env, advance := newEnv(t)
	last := env.Program("Last", func(in *app.ProgramInput) { in.CookieDays = apptest.Ptr(7) })
	first := env.Program("First", func(in *app.ProgramInput) {
		in.CookieDays = apptest.Ptr(7)
		in.Attribution = apptest.Ptr(app.AttributionFirst)
	})
	env.Affiliate("Ann", "ann@partner.example", "ann", last, first) // codes ann, ann-XXXX
	annFirst := "ann-" + first.ID[len(first.ID)-4:]
	bob := env.Affiliate("Bob", "bob@partner.example", "bob", last, first)
	bobFirst := "bob-" + first.ID[len(first.ID)-4:]

	// last_click: the new referral, every time.
	a := postClick(t, env, map[string]string{"ref": "ann"})
	advance(time.Hour)
	b := postClick(t, env, map[string]string{"ref": "bob", "prev": a.Referral})
	if b.Referral == a.Referral || b.ExpiresAt != t0.Add(time.Hour+7*24*time.Hour).Format(time.RFC3339) {
		t.Fatalf("last_click kept %+v after %+v; want the new referral", b, a)
	}

	// first_click: the held referral while it is valid in the same program.
	held := postClick(t, env, map[string]string{"ref": annFirst})
	advance(24 * time.Hour)
	got := postClick(t, env, map[string]string{"ref": bobFirst, "prev": held.Referral})
	if got.Referral != held.Referral || got.ExpiresAt != held.ExpiresAt || got.Program != first.ID {
		t.Fatalf("first_click answered %+v, want the held %+v", got, held)
	}

	// ... but not another program's referral, nor garbage.
	for _, prev := range []string{a.Referral, "garbage", store.NewID(t0)} {
		got = postClick(t, env, map[string]string{"ref": bobFirst, "prev": prev})
		if got.Referral == prev || got.Referral == held.Referral {
			t.Fatalf("first_click with prev %q kept %q", prev, got.Referral)
		}
	}

	// ... and not once it has expired.
	advance(7 * 24 * time.Hour)
	got = postClick(t, env, map[string]string{"ref": bobFirst, "prev": held.Referral})
	if got.Referral == held.Referral {
		t.Fatalf("first_click kept an expired referral")
	}

	// ... nor when its affiliate has since been blocked.
	held = postClick(t, env, map[string]string{"ref": bobFirst})
	if _, err := env.App.UpdateAffiliate(bob.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusBlocked)}); err != nil {
		t.Fatal(err)
	}
	got = postClick(t, env, map[string]string{"ref": annFirst, "prev": held.Referral})
	if got.Referral == held.Referral {
		t.Fatalf("first_click kept a blocked affiliate's referral")
	}
}

func TestTrackLead(t *testing.T) {
	env, advance := newEnv(t)
	prg := env.Program("Shop", func(in *app.ProgramInput) {
		in.TrackLeads = apptest.Ptr(true)
		in.CookieDays = apptest.Ptr(30)
	})
	noLeads := env.Program("NoLeads")
	other := env.Program("Other", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	ann := env.Affiliate("Ann", "Ann@Partner.example", "ann", prg)
	bob := env.Affiliate("Bob", "bob@partner.example", "bob", prg)
	env.Affiliate("Cy", "cy@partner.example", "cy", noLeads, other)
	blk := env.Affiliate("Blk", "blk@partner.example", "blk", prg)

	annRef := postClick(t, env, map[string]string{"ref": "ann", "sub": "spring"}).Referral
	bobRef := postClick(t, env, map[string]string{"ref": "bob"}).Referral
	noLeadsRef := postClick(t, env, map[string]string{"ref": "cy"}).Referral
	blkRef := postClick(t, env, map[string]string{"ref": "blk"}).Referral
	if _, err := env.App.UpdateAffiliate(blk.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusBlocked)}); err != nil {
		t.Fatal(err)
	}
	advance(time.Hour)

	var firstLead string
	tests := []struct {
		name   string
		body   map[string]string
		ct     string
		status int
		code   string // error code, for 4xx
		check  func(t *testing.T, got leadResp)
	}{
		{name: "bad email first, even without referral", body: map[string]string{"email": "not-an-email"}, status: 400, code: "invalid_email"},
		{name: "bad email with referral", body: map[string]string{"email": "a@b", "referral": annRef}, status: 400, code: "invalid_email"},
		{name: "missing email", body: map[string]string{"referral": annRef}, status: 400, code: "invalid_email"},
		{name: "display-name email", body: map[string]string{"email": "Jo <jo@example.com>", "referral": annRef}, status: 400, code: "invalid_email"},
		{name: "no referral", body: map[string]string{"email": "jo@example.com"}, status: 202},
		{name: "unknown referral", body: map[string]string{"email": "jo@example.com", "referral": store.NewID(t0)}, status: 202},
		{name: "garbage referral", body: map[string]string{"email": "jo@example.com", "referral": "../../x"}, status: 202},
		{name: "track leads off", body: map[string]string{"email": "jo@example.com", "referral": noLeadsRef}, status: 202},
		{name: "affiliate's own email", body: map[string]string{"email": " ann@partner.EXAMPLE ", "referral": annRef}, status: 202},
		{name: "blocked affiliate", body: map[string]string{"email": "jo@example.com", "referral": blkRef}, status: 202},
		{name: "other program named", body: map[string]string{"email": "jo@example.com", "referral": annRef, "program": other.ID}, status: 202},
		{name: "new lead", body: map[string]string{"email": "Jo@Example.com", "name": "Jo", "referral": annRef, "program": prg.ID, "url": "https://shop.example.com/signup"},
			status: 201, check: func(t *testing.T, got leadResp) {
				if !got.Attributed || !store.ValidID(got.Lead) {
					t.Fatalf("got %+v", got)
				}
				firstLead = got.Lead
				l, err := env.App.Lead(got.Lead)
				if err != nil {
					t.Fatal(err)
				}
				if l.AffiliateID != ann.ID || l.SubID != "spring" || l.Code != "ann" || l.ReferralID != annRef ||
					l.Email != "Jo@Example.com" || l.Name != "Jo" || l.URL != "https://shop.example.com/signup" || l.IP != "192.0.2.1" {
					t.Fatalf("stored lead %+v", l)
				}
			}},
		{name: "same email again, beacon", body: map[string]string{"email": " jo@EXAMPLE.com", "referral": annRef}, ct: "text/plain;charset=UTF-8",
			status: 200, check: func(t *testing.T, got leadResp) {
				if got.Lead != firstLead || !got.Attributed {
					t.Fatalf("got %+v, want the first lead %s", got, firstLead)
				}
			}},
		{name: "same email through another affiliate", body: map[string]string{"email": "jo@example.com", "referral": bobRef},
			status: 200, check: func(t *testing.T, got leadResp) {
				l, err := env.App.Lead(got.Lead)
				if err != nil {
					t.Fatal(err)
				}
				if got.Lead != firstLead || l.AffiliateID != ann.ID {
					t.Fatalf("got %+v (affiliate %s), want the first lead, still Ann's", got, l.AffiliateID)
				}
			}},
		{name: "another email through bob", body: map[string]string{"email": "kim@example.com", "referral": bobRef}, status: 201,
			check: func(t *testing.T, got leadResp) {
				l, err := env.App.Lead(got.Lead)
				if err != nil || l.AffiliateID != bob.ID {
					t.Fatalf("lead %+v %v, want Bob's", l, err)
				}
			}},
		{name: "truncated JSON", body: nil, status: 400, code: "invalid_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, leadsBefore := storeCounts(t, env)
			var rec *httptest.ResponseRecorder
			switch {
			case tt.body == nil:
				rec = env.Request(http.MethodPost, "/t/lead", `{"email":`)
			case tt.ct != "":
				rec = env.Request(http.MethodPost, "/t/lead", toJSON(t, tt.body), "Content-Type", tt.ct)
			default:
				rec = env.Request(http.MethodPost, "/t/lead", tt.body)
			}
			_, leadsAfter := storeCounts(t, env)
			if tt.status >= 400 {
				wantError(t, rec, tt.status, tt.code)
			} else {
				apptest.Expect(t, rec, tt.status)
			}
			got := leadResp{}
			if tt.status < 400 {
				got = apptest.Decode[leadResp](t, rec)
			}
			if tt.status == 202 && (got.Attributed || got.Lead != "" || rec.Body.String() != `{"attributed":false}`) {
				t.Fatalf("202 body %s", rec.Body.String())
			}
			wantLeads := leadsBefore
			if tt.status == 201 {
				wantLeads++
			}
			if leadsAfter != wantLeads {
				t.Fatalf("leads %d -> %d, want %d", leadsBefore, leadsAfter, wantLeads)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}

	// Past the cookie window the referral no longer attributes.
	advance(30 * 24 * time.Hour)
	rec := env.Request(http.MethodPost, "/t/lead", map[string]string{"email": "late@example.com", "referral": annRef})
	apptest.Expect(t, rec, 202)
}

func TestTrackingBodyLimit(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shop", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	env.Affiliate("Ann", "ann@partner.example", "ann", prg)

	pad := func(n int) string {
		// A valid click body of exactly n bytes.
		base := `{"ref":"ann","url":""}`
		return `{"ref":"ann","url":"` + strings.Repeat("x", n-len(base)) + `"}`
	}
	tests := []struct {
		name          string
		body          string
		hideLength    bool
		status        int
		code          string
		path          string
		contentLength int64
	}{
		{name: "exactly 8192", body: pad(8192), status: 201, path: "/t/click"},
		{name: "8193 with length", body: pad(8193), status: 413, code: "payload_too_large", path: "/t/click"},
		{name: "8193 chunked", body: pad(8193), hideLength: true, status: 413, code: "payload_too_large", path: "/t/click"},
		{name: "huge chunked", body: pad(1 << 20), hideLength: true, status: 413, code: "payload_too_large", path: "/t/click"},
		{name: "lead too large", body: `{"email":"a@example.com","name":"` + strings.Repeat("n", 9000) + `"}`, status: 413, code: "payload_too_large", path: "/t/lead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.body) != 8192 && tt.status == 201 {
				t.Fatalf("bad fixture: %d bytes", len(tt.body))
			}
			before, leadsBefore := storeCounts(t, env)
			var r interface {
				Read([]byte) (int, error)
			} = strings.NewReader(tt.body)
			if tt.hideLength {
				r = struct{ *strings.Reader }{strings.NewReader(tt.body)}
			}
			req := httptest.NewRequest(http.MethodPost, tt.path, r)
			if tt.hideLength {
				req.ContentLength = -1
			}
			req.Header.Set("Content-Type", "text/plain")
			rec := httptest.NewRecorder()
			env.Server.Echo.ServeHTTP(rec, req)
			after, leadsAfter := storeCounts(t, env)
			if tt.status != 201 {
				wantError(t, rec, tt.status, tt.code)
				if after != before || leadsAfter != leadsBefore {
					t.Fatal("a refused body was stored")
				}
				return
			}
			apptest.Expect(t, rec, tt.status)
		})
	}
}

func TestTrackingRateLimit(t *testing.T) {
	// 0.01 requests per second: a burst of 1, refilled after 100 s, so the
	// second request is refused however slow the machine is.
	env, _ := newEnv(t, func(c *config.Config) { c.Tracking.RateLimit = 0.01 })
	prg := env.Program("Shop")
	env.Affiliate("Ann", "ann@partner.example", "ann", prg)

	send := func(ip, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.RemoteAddr = ip + ":5555"
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Origin", "https://shop.example.com")
		rec := httptest.NewRecorder()
		env.Server.Echo.ServeHTTP(rec, req)
		return rec
	}
	apptest.Expect(t, send("203.0.113.1", "/t/click", `{"ref":"ann"}`), 201)
	clicks, _ := storeCounts(t, env)
	for _, path := range []string{"/t/click", "/t/lead"} {
		rec := send("203.0.113.1", path, `{"ref":"ann"}`)
		wantError(t, rec, 429, "rate_limited")
		if rec.Header().Get("Retry-After") == "" || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("429 headers %v: want Retry-After and CORS", rec.Header())
		}
	}
	if after, _ := storeCounts(t, env); after != clicks {
		t.Fatal("a throttled click was stored")
	}
	// Another address has its own bucket; a 404 costs a token too.
	wantError(t, send("203.0.113.2", "/t/click", `{"ref":"nobody"}`), 404, "unknown_referral_code")
	wantError(t, send("203.0.113.2", "/t/click", `{"ref":"ann"}`), 429, "rate_limited")
	apptest.Expect(t, send("2001:db8::1", "/t/click", `{"ref":"ann"}`), 201)
	// Preflights and the script are not limited.
	for i := 0; i < 3; i++ {
		req := httptest.NewRequest(http.MethodOptions, "/t/click", nil)
		req.RemoteAddr = "203.0.113.1:5555"
		req.Header.Set("Origin", "https://shop.example.com")
		rec := httptest.NewRecorder()
		env.Server.Echo.ServeHTTP(rec, req)
		apptest.Expect(t, rec, 204)
		apptest.Expect(t, env.Request(http.MethodGet, "/spiffy.js", nil), 200)
	}
}

func TestTrackingCORS(t *testing.T) {
	const shop = "https://shop.example.com"
	tests := []struct {
		name       string
		allowed    []string
		method     string
		origin     string
		status     int
		wantOrigin string // Access-Control-Allow-Origin
	}{
		{"any origin: preflight", nil, http.MethodOptions, "https://anyone.example", 204, "*"},
		{"any origin: post", nil, http.MethodPost, "https://anyone.example", 201, "*"},
		{"any origin: no origin", nil, http.MethodPost, "", 201, "*"},
		{"listed: preflight", []string{shop, "https://www.shop.example.com"}, http.MethodOptions, shop, 204, shop},
		{"listed: post", []string{shop}, http.MethodPost, shop, 201, shop},
		{"listed, other case: post", []string{shop}, http.MethodPost, "https://SHOP.example.com", 201, "https://SHOP.example.com"},
		{"listed: no origin (a server)", []string{shop}, http.MethodPost, "", 201, ""},
		{"not listed: preflight", []string{shop}, http.MethodOptions, "https://evil.example", 403, ""},
		{"not listed: post", []string{shop}, http.MethodPost, "https://evil.example", 403, ""},
		{"not listed: null origin", []string{shop}, http.MethodPost, "null", 403, ""},
		{"not listed: other port", []string{shop}, http.MethodPost, shop + ":8443", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t, func(c *config.Config) { c.Tracking.AllowedOrigins = tt.allowed })
			prg := env.Program("Shop")
			env.Affiliate("Ann", "ann@partner.example", "ann", prg)
			var body *strings.Reader
			if tt.method == http.MethodPost {
				body = strings.NewReader(`{"ref":"ann"}`)
			} else {
				body = strings.NewReader("")
			}
			req := httptest.NewRequest(tt.method, "/t/click", body)
			req.Header.Set("Content-Type", "text/plain")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "content-type")
			}
			rec := httptest.NewRecorder()
			env.Server.Echo.ServeHTTP(rec, req)
			if tt.status == 403 {
				wantError(t, rec, 403, "origin_not_allowed")
			} else {
				apptest.Expect(t, rec, tt.status)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tt.wantOrigin)
			}
			if tt.status == 204 {
				if m := rec.Header().Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") {
					t.Fatalf("Allow-Methods %q", m)
				}
				if h := rec.Header().Get("Access-Control-Allow-Headers"); !strings.EqualFold(h, "Content-Type") {
					t.Fatalf("Allow-Headers %q", h)
				}
			}
			if rec.Header().Get("Access-Control-Allow-Credentials") != "" {
				t.Fatal("credentials must not be allowed")
			}
			clicks, _ := storeCounts(t, env)
			want := int64(0)
			if tt.method == http.MethodPost && tt.status == 201 {
				want = 1
			}
			if clicks != want {
				t.Fatalf("%d clicks stored, want %d", clicks, want)
			}
		})
	}
}

// TestTrackClickSeesAccountChanges: the tracking path caches what a code
// resolves to; every change of the program, the affiliate or the code must
// show on the very next click.
func TestTrackClickSeesAccountChanges(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shop", func(in *app.ProgramInput) { in.CookieDays = apptest.Ptr(10) })
	af := env.Affiliate("Ann", "ann@partner.example", "ann", prg)
	click := func() *httptest.ResponseRecorder {
		return env.Request(http.MethodPost, "/t/click", `{"ref":"ANN"}`)
	}
	expires := func(days int) string { return t0.Add(time.Duration(days) * 24 * time.Hour).Format(time.RFC3339) }

	steps := []struct {
		name    string
		change  func() error
		status  int
		expires string
	}{
		{"first click", func() error { return nil }, 201, expires(10)},
		{"cached click", func() error { return nil }, 201, expires(10)},
		{"cookie window changed", func() error {
			_, err := env.App.UpdateProgram(prg.ID, app.ProgramInput{CookieDays: apptest.Ptr(3)})
			return err
		}, 201, expires(3)},
		{"affiliate blocked", func() error {
			_, err := env.App.UpdateAffiliate(af.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusBlocked)})
			return err
		}, 404, ""},
		{"affiliate active again", func() error {
			_, err := env.App.UpdateAffiliate(af.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusActive)})
			return err
		}, 201, expires(3)},
		{"code changed", func() error {
			_, _, err := env.App.Enroll(prg.ID, af.ID, "ann2")
			return err
		}, 404, ""},
		{"code back", func() error {
			_, _, err := env.App.Enroll(prg.ID, af.ID, "ann")
			return err
		}, 201, expires(3)},
		{"program deleted", func() error { return env.App.DeleteProgram(prg.ID) }, 404, ""},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		rec := click()
		if s.status != 201 {
			wantError(t, rec, s.status, "unknown_referral_code")
			continue
		}
		apptest.Expect(t, rec, 201)
		if got := apptest.Decode[clickResp](t, rec); got.ExpiresAt != s.expires {
			t.Fatalf("%s: expires_at %s, want %s", s.name, got.ExpiresAt, s.expires)
		}
	}
}

// TestTrackConcurrent: requests racing each other through the batching
// writer still make one lead per email, and every click is stored.
func TestTrackConcurrent(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shop", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	env.Affiliate("Ann", "ann@partner.example", "ann", prg)
	env.Affiliate("Bob", "bob@partner.example", "bob", prg)
	const n = 40
	refs := make([]string, n)
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			code := []string{"ann", "BOB"}[i%2]
			req := httptest.NewRequest(http.MethodPost, "/t/click", strings.NewReader(`{"ref":"`+code+`"}`))
			rec := httptest.NewRecorder()
			env.Server.Echo.ServeHTTP(rec, req)
			statuses[i] = rec.Code
			var got clickResp
			if rec.Code == 201 && json.Unmarshal(rec.Body.Bytes(), &got) == nil {
				refs[i] = got.Referral // Decode would call t.Fatal off the test goroutine
			}
		}(i)
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 201 || !store.ValidID(refs[i]) {
			t.Fatalf("click %d: status %d, referral %q", i, s, refs[i])
		}
	}
	if clicks, _ := storeCounts(t, env); clicks != n {
		t.Fatalf("%d clicks stored, want %d", clicks, n)
	}

	leadIDs := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := `{"email":"Same@Example.com","referral":"` + refs[i] + `"}`
			req := httptest.NewRequest(http.MethodPost, "/t/lead", strings.NewReader(body))
			req.Header.Set("Content-Type", "text/plain")
			rec := httptest.NewRecorder()
			env.Server.Echo.ServeHTTP(rec, req)
			statuses[i] = rec.Code
			var got leadResp
			if json.Unmarshal(rec.Body.Bytes(), &got) == nil {
				leadIDs[i] = got.Lead
			}
		}(i)
	}
	wg.Wait()
	created := 0
	for i, s := range statuses {
		switch {
		case s == 201:
			created++
		case s != 200:
			t.Fatalf("lead %d: status %d", i, s)
		}
		if leadIDs[i] != leadIDs[0] || !store.ValidID(leadIDs[i]) {
			t.Fatalf("lead %d answered %s, lead 0 %s: want one lead", i, leadIDs[i], leadIDs[0])
		}
	}
	if _, leads := storeCounts(t, env); created != 1 || leads != 1 {
		t.Fatalf("%d answers 201, %d leads stored; want exactly one", created, leads)
	}
}

// TestTrackLeadSeesAccountChanges: leads read programs and affiliates
// through the same cache as clicks; every change must show on the next lead.
func TestTrackLeadSeesAccountChanges(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shop", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	af := env.Affiliate("Ann", "ann@partner.example", "ann", prg)
	ref := postClick(t, env, map[string]string{"ref": "ann"}).Referral
	n := 0
	lead := func() *httptest.ResponseRecorder {
		n++
		return env.Request(http.MethodPost, "/t/lead", map[string]string{"email": "jo" + strconv.Itoa(n) + "@example.com", "referral": ref})
	}
	steps := []struct {
		name   string
		change func() error
		status int
	}{
		{"first lead", func() error { return nil }, 201},
		{"cached lead", func() error { return nil }, 201},
		{"track leads off", func() error {
			_, err := env.App.UpdateProgram(prg.ID, app.ProgramInput{TrackLeads: apptest.Ptr(false)})
			return err
		}, 202},
		{"track leads on", func() error {
			_, err := env.App.UpdateProgram(prg.ID, app.ProgramInput{TrackLeads: apptest.Ptr(true)})
			return err
		}, 201},
		{"affiliate blocked", func() error {
			_, err := env.App.UpdateAffiliate(af.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusBlocked)})
			return err
		}, 202},
		{"affiliate active again", func() error {
			_, err := env.App.UpdateAffiliate(af.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusActive)})
			return err
		}, 201},
		{"program deleted", func() error { return env.App.DeleteProgram(prg.ID) }, 202},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if rec := lead(); rec.Code != s.status {
			t.Fatalf("%s: status %d, want %d: %s", s.name, rec.Code, s.status, rec.Body)
		}
	}
}
