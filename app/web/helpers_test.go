package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// Helpers of the HTTP tests: a test appliance with a fixed clock, and the
// tracking and purchase calls most scenarios start with.

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newEnv is a test appliance with a fixed clock at t0 (the returned func
// moves it) and a rate limit no test reaches unless it asks to.
func newEnv(t *testing.T, configure ...func(*config.Config)) (*apptest.Env, func(time.Duration)) {
	t.Helper()
	env := apptest.New(t, append([]func(*config.Config){apptest.Unthrottled}, configure...)...)
	return env, env.SetClock(t0)
}

type clickResp struct {
	Referral  string `json:"referral"`
	Program   string `json:"program"`
	ExpiresAt string `json:"expires_at"`
}

type leadResp struct {
	Lead       string `json:"lead"`
	Attributed bool   `json:"attributed"`
}

type errBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// postClick posts a click and expects 201.
func postClick(t *testing.T, env *apptest.Env, body map[string]string) clickResp {
	t.Helper()
	rec := env.Request(http.MethodPost, "/t/click", body)
	apptest.Expect(t, rec, http.StatusCreated)
	return apptest.Decode[clickResp](t, rec)
}

// storeCounts returns how many clicks and leads the store holds in all.
func storeCounts(t *testing.T, env *apptest.Env) (clicks, leads int64) {
	t.Helper()
	err := env.DB.View(func(tx *store.Tx) error {
		return tx.Rollups(0, 1<<31, "", func(_ uint32, _, _ string, r *store.Rollup) {
			clicks += r.Clicks
			leads += r.Leads
		})
	})
	if err != nil {
		t.Fatalf("rollups: %v", err)
	}
	return clicks, leads
}

func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	apptest.Expect(t, rec, status)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error content type %q, want JSON", ct)
	}
	if e := apptest.Decode[errBody](t, rec); e.Error != code || e.Message == "" {
		t.Fatalf("error %+v, want code %q with a message", e, code)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// postPurchase posts a purchase and decodes the answer, expecting status.
func postPurchase(t *testing.T, env *apptest.Env, body map[string]string, status int) web.PurchaseJSON {
	t.Helper()
	rec := env.API(http.MethodPost, "/purchases", body)
	apptest.Expect(t, rec, status)
	return apptest.Decode[web.PurchaseJSON](t, rec)
}

func affiliateOf(p web.PurchaseJSON) string {
	if p.Affiliate == nil {
		return ""
	}
	return *p.Affiliate
}

func purchaseCount(t *testing.T, env *apptest.Env) int {
	t.Helper()
	ps, _, err := env.App.Views().PurchasesPage(store.PurchaseQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return len(ps)
}
