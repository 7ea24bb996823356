package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/web"
)

func TestAPIKeyAuth(t *testing.T) {
	env := apptest.New(t)
	cases := []struct {
		name   string
		header string
		status int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"not bearer", "Basic abc", http.StatusUnauthorized},
		{"unknown key", "Bearer spf_unknown", http.StatusUnauthorized},
		{"garbage", "Bearer \x7f", http.StatusUnauthorized},
		{"valid", "Bearer " + env.APIKey, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.header != "" {
				h = []string{"Authorization", tc.header}
			}
			rec := env.Request(http.MethodGet, "/api/v1/programs", nil, h...)
			apptest.Expect(t, rec, tc.status)
			if tc.status == http.StatusUnauthorized {
				body := apptest.Decode[web.ErrorBody](t, rec)
				if body.Error != "unauthorized" || body.Message == "" {
					t.Fatalf("body %+v", body)
				}
			}
		})
	}
	// A revoked key stops working at once.
	k, secret, err := env.App.CreateAPIKey("temp")
	if err != nil {
		t.Fatal(err)
	}
	apptest.Expect(t, env.Request(http.MethodGet, "/api/v1/programs", nil, "Authorization", "Bearer "+secret), http.StatusOK)
	if err := env.App.RevokeAPIKey(k.ID); err != nil {
		t.Fatal(err)
	}
	apptest.Expect(t, env.Request(http.MethodGet, "/api/v1/programs", nil, "Authorization", "Bearer "+secret), http.StatusUnauthorized)
}

func TestProgramsAPI(t *testing.T) {
	env := apptest.New(t)
	rec := env.API(http.MethodPost, "/programs", map[string]any{
		"name": "Pro Plan", "landing_url": "https://shop.example.com/pricing", "cookie_days": 60,
		"attribution": "first_click", "track_leads": true, "share_leads": true,
		"commission_type": "flat", "commission_value": "5", "currency": "eur",
	})
	apptest.Expect(t, rec, http.StatusCreated)
	p := apptest.Decode[web.ProgramJSON](t, rec)
	want := web.ProgramJSON{ID: p.ID, Name: "Pro Plan", LandingURL: "https://shop.example.com/pricing", CookieDays: 60,
		Attribution: "first_click", TrackLeads: true, ShareLeads: true, CommissionType: "flat", CommissionValue: "5.00",
		Currency: "EUR", HoldDays: 30, CreatedAt: p.CreatedAt}
	if p != want {
		t.Fatalf("created\n%+v\nwant\n%+v", p, want)
	}

	// Defaults.
	rec = env.API(http.MethodPost, "/programs", map[string]any{"name": "Basic", "landing_url": "https://shop.example.com/"})
	apptest.Expect(t, rec, http.StatusCreated)
	d := apptest.Decode[web.ProgramJSON](t, rec)
	if d.CookieDays != 30 || d.Attribution != "last_click" || d.TrackLeads || d.ShareLeads || d.SharePurchasers || d.AutoApprove ||
		d.CommissionType != "percent" || d.Currency != "USD" {
		t.Fatalf("defaults: %+v", d)
	}

	// PATCH changes only what is given.
	rec = env.API(http.MethodPatch, "/programs/"+p.ID, map[string]any{"share_purchasers": true, "track_leads": false})
	apptest.Expect(t, rec, http.StatusOK)
	got := apptest.Decode[web.ProgramJSON](t, rec)
	if !got.SharePurchasers || got.TrackLeads || !got.ShareLeads || got.CookieDays != 60 || got.Name != "Pro Plan" {
		t.Fatalf("patched: %+v", got)
	}
	rec = env.API(http.MethodPatch, "/programs/"+p.ID, map[string]any{"commission_type": "percent", "commission_value": "12.5"})
	apptest.Expect(t, rec, http.StatusOK)
	if got := apptest.Decode[web.ProgramJSON](t, rec); got.CommissionValue != "12.5" || got.CommissionType != "percent" {
		t.Fatalf("commission: %+v", got)
	}

	// GET one, list newest first with pagination.
	apptest.Expect(t, env.API(http.MethodGet, "/programs/"+p.ID, nil), http.StatusOK)
	rec = env.API(http.MethodGet, "/programs?limit=1", nil)
	apptest.Expect(t, rec, http.StatusOK)
	page := apptest.Decode[web.Page[web.ProgramJSON]](t, rec)
	if len(page.Data) != 1 || page.Data[0].ID != d.ID || page.NextCursor == nil {
		t.Fatalf("page 1: %+v", page)
	}
	rec = env.API(http.MethodGet, "/programs?limit=1&cursor="+*page.NextCursor, nil)
	page = apptest.Decode[web.Page[web.ProgramJSON]](t, rec)
	if len(page.Data) != 1 || page.Data[0].ID != p.ID || page.NextCursor != nil {
		t.Fatalf("page 2: %+v", page)
	}

	// DELETE hides it.
	apptest.Expect(t, env.API(http.MethodDelete, "/programs/"+d.ID, nil), http.StatusOK)
	apptest.Expect(t, env.API(http.MethodGet, "/programs/"+d.ID, nil), http.StatusNotFound)
	apptest.Expect(t, env.API(http.MethodDelete, "/programs/"+d.ID, nil), http.StatusNotFound)
	page = apptest.Decode[web.Page[web.ProgramJSON]](t, env.API(http.MethodGet, "/programs", nil))
	if len(page.Data) != 1 {
		t.Fatalf("deleted program still listed: %+v", page)
	}
}

func TestProgramsAPIBadInput(t *testing.T) {
	env := apptest.New(t)
	p := env.Program("Keep")
	apptest.RunScenarios(t, env.APISender(), []apptest.Scenario{
		{Name: "empty name", Method: "POST", Path: "/programs", Body: map[string]any{"name": " ", "landing_url": "https://x.example.com"}, Status: 400, Code: "invalid_name"},
		{Name: "missing name", Method: "POST", Path: "/programs", Body: map[string]any{"landing_url": "https://x.example.com"}, Status: 400, Code: "invalid_name"},
		{Name: "cookie_days 0", Method: "POST", Path: "/programs", Body: map[string]any{"name": "A", "landing_url": "https://x.example.com", "cookie_days": 0}, Status: 400, Code: "invalid_cookie_days"},
		{Name: "cookie_days 400", Method: "POST", Path: "/programs", Body: map[string]any{"name": "A", "landing_url": "https://x.example.com", "cookie_days": 400}, Status: 400, Code: "invalid_cookie_days"},
		{Name: "cookie_days string", Method: "POST", Path: "/programs", Body: `{"name":"A","landing_url":"https://x.example.com","cookie_days":"30"}`, Status: 400, Code: "invalid_cookie_days"},
		{Name: "bad url", Method: "POST", Path: "/programs", Body: map[string]any{"name": "A", "landing_url": "ftp://x"}, Status: 400, Code: "invalid_landing_url"},
		{Name: "bad attribution", Method: "POST", Path: "/programs", Body: map[string]any{"name": "A", "landing_url": "https://x.example.com", "attribution": "middle"}, Status: 400, Code: "invalid_attribution"},
		{Name: "bad commission type", Method: "POST", Path: "/programs", Body: map[string]any{"name": "A", "landing_url": "https://x.example.com", "commission_type": "bonus", "commission_value": "1"}, Status: 400, Code: "invalid_commission_type"},
		{Name: "percent over 100", Method: "POST", Path: "/programs", Body: map[string]any{"name": "A", "landing_url": "https://x.example.com", "commission_type": "percent", "commission_value": "101"}, Status: 400, Code: "invalid_commission_value"},
		{Name: "negative flat", Method: "POST", Path: "/programs", Body: map[string]any{"name": "A", "landing_url": "https://x.example.com", "commission_type": "flat", "commission_value": "-5"}, Status: 400, Code: "invalid_commission_value"},
		{Name: "bad currency", Method: "POST", Path: "/programs", Body: map[string]any{"name": "A", "landing_url": "https://x.example.com", "currency": "dollars"}, Status: 400, Code: "invalid_currency"},
		{Name: "not json", Method: "POST", Path: "/programs", Body: `{"name":`, Status: 400, Code: "invalid_json"},
		{Name: "array body", Method: "POST", Path: "/programs", Body: `[1,2]`, Status: 400, Code: "invalid_json"},
		{Name: "empty body", Method: "POST", Path: "/programs", Body: ``, Status: 400, Code: "invalid_json"},
		{Name: "unknown id", Method: "GET", Path: "/programs/01ARZ3NDEKTSV4RRFFQ69G5FAV", Status: 404, Code: "program_not_found"},
		{Name: "garbage id", Method: "GET", Path: "/programs/..%2F..", Status: 404, Code: "program_not_found"},
		{Name: "patch unknown", Method: "PATCH", Path: "/programs/01ARZ3NDEKTSV4RRFFQ69G5FAV", Body: map[string]any{"name": "x"}, Status: 404, Code: "program_not_found"},
		{Name: "patch bad", Method: "PATCH", Path: "/programs/" + p.ID, Body: map[string]any{"cookie_days": 0}, Status: 400, Code: "invalid_cookie_days"},
		{Name: "limit 0", Method: "GET", Path: "/programs?limit=0", Status: 400, Code: "invalid_limit"},
		{Name: "limit 501", Method: "GET", Path: "/programs?limit=501", Status: 400, Code: "invalid_limit"},
		{Name: "bad cursor", Method: "GET", Path: "/programs?cursor=nope", Status: 400, Code: "invalid_cursor"},
	})
	// Nothing changed.
	got, err := env.App.Program(p.ID)
	if err != nil || got.CookieDays != 30 || got.Name != "Keep" {
		t.Fatalf("program changed by bad input: %+v %v", got, err)
	}
	all, _ := env.App.Views().Programs()
	if len(all) != 1 {
		t.Fatalf("%d programs after bad creates", len(all))
	}
}

func TestAffiliatesAndEnrollmentAPI(t *testing.T) {
	env := apptest.New(t)
	p := env.Program("Pro")
	q := env.Program("Basic")

	rec := env.API(http.MethodPost, "/affiliates", map[string]any{"name": "Jane Doe", "email": "Jane@Example.com"})
	apptest.Expect(t, rec, http.StatusCreated)
	jane := apptest.Decode[web.AffiliateJSON](t, rec)
	if jane.Status != "active" || !strings.HasPrefix(jane.InviteURL, "http://spiffy.test/portal/invite/") {
		t.Fatalf("created: %+v", jane)
	}
	// With a password: no invite.
	rec = env.API(http.MethodPost, "/affiliates", map[string]any{"name": "Bob", "email": "bob@example.com", "password": "long-enough-pw", "status": "pending"})
	apptest.Expect(t, rec, http.StatusCreated)
	bob := apptest.Decode[web.AffiliateJSON](t, rec)
	if bob.InviteURL != "" || bob.Status != "pending" {
		t.Fatalf("bob: %+v", bob)
	}

	// Duplicate email, any case.
	rec = env.API(http.MethodPost, "/affiliates", map[string]any{"name": "Other", "email": " jane@example.COM "})
	apptest.Expect(t, rec, http.StatusConflict)

	// Enrol with a custom code, then a generated one.
	rec = env.API(http.MethodPost, "/programs/"+p.ID+"/affiliates", map[string]any{"affiliate_id": jane.ID, "code": "Spring-Jane"})
	apptest.Expect(t, rec, http.StatusCreated)
	enr := apptest.Decode[map[string]string](t, rec)
	if enr["code"] != "Spring-Jane" || enr["link"] != "https://shop.example.com/?ref=Spring-Jane" {
		t.Fatalf("enrol: %+v", enr)
	}
	// Codes are unique across programs, case-insensitively.
	rec = env.API(http.MethodPost, "/programs/"+q.ID+"/affiliates", map[string]any{"affiliate_id": bob.ID, "code": "spring-JANE"})
	apptest.Expect(t, rec, http.StatusConflict)
	if apptest.Decode[web.ErrorBody](t, rec).Error != "duplicate_code" {
		t.Fatal("want duplicate_code")
	}
	rec = env.API(http.MethodPost, "/programs/"+q.ID+"/affiliates", map[string]any{"affiliate_id": bob.ID})
	apptest.Expect(t, rec, http.StatusCreated)
	if code := apptest.Decode[map[string]string](t, rec)["code"]; !strings.HasPrefix(code, "bob") {
		t.Fatalf("generated code %q", code)
	}

	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
	}{
		{"bad code chars", "/programs/" + p.ID + "/affiliates", map[string]any{"affiliate_id": bob.ID, "code": "a b"}, 400},
		{"missing affiliate", "/programs/" + p.ID + "/affiliates", map[string]any{}, 400},
		{"unknown affiliate", "/programs/" + p.ID + "/affiliates", map[string]any{"affiliate_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, 404},
		{"unknown program", "/programs/01ARZ3NDEKTSV4RRFFQ69G5FAV/affiliates", map[string]any{"affiliate_id": bob.ID}, 404},
		{"bad email", "/affiliates", map[string]any{"name": "X", "email": "nope"}, 400},
		{"bad status", "/affiliates", map[string]any{"name": "X", "email": "x@example.com", "status": "vip"}, 400},
		{"short password", "/affiliates", map[string]any{"name": "X", "email": "x@example.com", "password": "short"}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) { apptest.Expect(t, env.API(http.MethodPost, tc.path, tc.body), tc.status) })
	}

	// PATCH status, invite.
	rec = env.API(http.MethodPatch, "/affiliates/"+bob.ID, map[string]any{"status": "active"})
	apptest.Expect(t, rec, http.StatusOK)
	if apptest.Decode[web.AffiliateJSON](t, rec).Status != "active" {
		t.Fatal("status not changed")
	}
	rec = env.API(http.MethodPost, "/affiliates/"+bob.ID+"/invite", nil)
	apptest.Expect(t, rec, http.StatusOK)
	invite := apptest.Decode[map[string]string](t, rec)["invite_url"]
	token := invite[strings.LastIndexByte(invite, '/')+1:]
	if _, err := env.App.AcceptInvite(token, "brand-new-password"); err != nil {
		t.Fatalf("accept invite: %v", err)
	}
	if _, err := env.App.AcceptInvite(token, "brand-new-password"); err == nil {
		t.Fatal("invite used twice")
	}
	if _, err := env.App.AuthenticateAffiliate("bob@example.com", "brand-new-password", "127.0.0.1"); err != nil {
		t.Fatalf("password reset by invite: %v", err)
	}
	apptest.Expect(t, env.API(http.MethodGet, "/affiliates/01ARZ3NDEKTSV4RRFFQ69G5FAV", nil), http.StatusNotFound)
	page := apptest.Decode[web.Page[web.AffiliateJSON]](t, env.API(http.MethodGet, "/affiliates", nil))
	if len(page.Data) != 2 || page.Data[0].ID != bob.ID {
		t.Fatalf("list: %+v", page)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	env := apptest.New(t)
	rec := env.Request(http.MethodGet, "/healthz", nil)
	apptest.Expect(t, rec, http.StatusOK)
	if strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
		t.Fatalf("healthz: %s", rec.Body)
	}
	env.API(http.MethodGet, "/programs", nil)
	rec = env.Request(http.MethodGet, "/metrics", nil)
	apptest.Expect(t, rec, http.StatusOK)
	for _, want := range []string{"spiffy_http_requests_total", `route="/api/v1/programs"`, "spiffy_http_request_duration_seconds", "spiffy_store_lsm_bytes", "spiffy_webhook_attempts_total", "go_goroutines"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestBackupStream(t *testing.T) {
	env := apptest.New(t)
	env.Program("Backed up")
	rec := env.API(http.MethodGet, "/backup", nil)
	apptest.Expect(t, rec, http.StatusOK)
	if rec.Body.Len() < 100 || !strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("backup: %d bytes, %v", rec.Body.Len(), rec.Header())
	}
	apptest.Expect(t, env.Request(http.MethodGet, "/api/v1/backup", nil), http.StatusUnauthorized)
}

func TestAPIKeyLastUsedIsRecorded(t *testing.T) {
	env := apptest.New(t)
	move := env.SetClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	apptest.Expect(t, env.API(http.MethodGet, "/programs", nil), http.StatusOK)
	keys, _ := env.App.Views().APIKeys()
	if keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("last used %v", keys[0].LastUsedAt)
	}
	move(30 * time.Second) // within the minute: not rewritten
	env.API(http.MethodGet, "/programs", nil)
	keys, _ = env.App.Views().APIKeys()
	if !keys[0].LastUsedAt.Equal(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("touched again within a minute: %v", keys[0].LastUsedAt)
	}
	move(time.Minute)
	env.API(http.MethodGet, "/programs", nil)
	keys, _ = env.App.Views().APIKeys()
	if !keys[0].LastUsedAt.Equal(time.Date(2026, 6, 1, 12, 1, 30, 0, time.UTC)) {
		t.Fatalf("not touched after a minute: %v", keys[0].LastUsedAt)
	}
}

// metrics.token: /metrics answers only with the token; without one it
// stays open (contract §12).
func TestMetricsToken(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) { c.Metrics.Token = "s3cret-token" })
	for _, tc := range []struct {
		header string
		status int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"s3cret-token", http.StatusUnauthorized},
		{"Bearer s3cret-token", http.StatusOK},
	} {
		var headers []string
		if tc.header != "" {
			headers = []string{"Authorization", tc.header}
		}
		rec := env.Request(http.MethodGet, "/metrics", nil, headers...)
		if rec.Code != tc.status {
			t.Errorf("Authorization %q: %d, want %d", tc.header, rec.Code, tc.status)
		}
		if tc.status == http.StatusOK && !strings.Contains(rec.Body.String(), "spiffy_") {
			t.Errorf("metrics body %.200s", rec.Body.String())
		}
		if tc.status == http.StatusUnauthorized && strings.Contains(rec.Body.String(), "spiffy_") {
			t.Error("metrics shown without the token")
		}
	}
	open := apptest.New(t)
	if rec := open.Request(http.MethodGet, "/metrics", nil); rec.Code != http.StatusOK {
		t.Fatalf("no token configured: %d, want 200", rec.Code)
	}
}

// Bad input that used to get through (contract §12): unknown fields in a
// PATCH body and invalid UTF-8 are refused, and nothing is changed.
func TestPatchUnknownFieldsAndInvalidUTF8(t *testing.T) {
	env := apptest.New(t)
	prg := env.Program("Shop")
	apptest.RunScenarios(t, env.APISender(), []apptest.Scenario{
		{Name: "misspelt field", Method: http.MethodPatch, Path: "/programs/" + prg.ID, Body: `{"cookie_dys": 90}`, Status: 400, Code: "unknown_field", Want: []string{`"field":"cookie_dys"`}},
		{Name: "invalid UTF-8", Method: http.MethodPatch, Path: "/programs/" + prg.ID, Body: "{\"name\": \"Sh\xffop\"}", Status: 400, Code: "invalid_json"},
		{Name: "invalid UTF-8 in a POST", Path: "/programs", Body: "{\"name\": \"\xc3\x28\", \"landing_url\": \"https://x.example/\"}", Status: 400, Code: "invalid_json"},
	})
	got, err := env.App.Program(prg.ID)
	if err != nil || got.Name != "Shop" || got.CookieDays != 30 {
		t.Fatalf("program changed by refused requests: %+v %v", got, err)
	}
}
