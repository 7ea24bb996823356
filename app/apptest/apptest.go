// Package apptest builds a real App over Badger in a temporary directory for
// tests, and offers small helpers to call the real Echo router.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// Env is one test's appliance: config, store, app and server.
type Env struct {
	T      testing.TB
	Config config.Config
	DB     *store.DB
	// Clock is the App's clock: real time until a test sets it.
	Clock  *Clock
	App    *app.App
	Server *web.Server
	// APIKey is a valid bearer key for /api/v1.
	APIKey string
}

// New opens a fresh store in t.TempDir() and builds the app and server.
// configure, when given, may change the config first. Everything is closed
// when the test ends.
func New(t testing.TB, configure ...func(*config.Config)) *Env {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.BaseURL = "http://spiffy.test"
	for _, f := range configure {
		f(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	db, err := store.Open(store.Options{Dir: cfg.DBDir(), Logger: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	clock := &Clock{}
	a, err := app.New(app.Options{Config: cfg, Store: db, Log: log, Clock: clock})
	if err != nil {
		db.Close()
		t.Fatalf("new app: %v", err)
	}
	env := &Env{T: t, Config: cfg, DB: db, Clock: clock, App: a, Server: web.NewServer(a)}
	// Tests check every API exchange against the OpenAPI document;
	// benchmarks measure the server alone.
	if _, ok := t.(*testing.T); ok {
		env.Server.Echo.Pre(CheckOpenAPI(t))
	}
	_, env.APIKey, err = a.CreateAPIKey("test")
	if err != nil {
		t.Fatalf("create api key: %v", err)
	}
	t.Cleanup(func() {
		a.Stop()
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return env
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Request sends a request through the real router. body may be nil, a
// string (sent as is) or any other value (sent as JSON). headers come in
// name, value pairs.
func (e *Env) Request(method, path string, body any, headers ...string) *httptest.ResponseRecorder {
	e.T.Helper()
	var r io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
		ct = "application/json"
	case []byte:
		r = bytes.NewReader(b)
		ct = "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.T.Fatalf("marshal body: %v", err)
		}
		r = bytes.NewReader(j)
		ct = "application/json"
	}
	req := httptest.NewRequest(method, path, r)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.Server.Echo.ServeHTTP(rec, req)
	return rec
}

// API sends an authenticated /api/v1 request (path relative to /api/v1).
func (e *Env) API(method, path string, body any) *httptest.ResponseRecorder {
	e.T.Helper()
	return e.Request(method, "/api/v1"+path, body, "Authorization", "Bearer "+e.APIKey)
}

// Decode unmarshals a recorder's JSON body into v, failing the test on error.
func Decode[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %d response %q: %v", rec.Code, rec.Body.String(), err)
	}
	return v
}

// Expect fails the test unless the response has the wanted status.
func Expect(t testing.TB, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body: %s", rec.Code, status, rec.Body.String())
	}
}

// Program creates a program through the app with sensible defaults.
func (e *Env) Program(name string, mutate ...func(*app.ProgramInput)) *store.Program {
	e.T.Helper()
	landing := "https://shop.example.com/"
	in := app.ProgramInput{Name: &name, LandingURL: &landing}
	for _, m := range mutate {
		m(&in)
	}
	p, err := e.App.CreateProgram(in)
	if err != nil {
		e.T.Fatalf("create program: %v", err)
	}
	return p
}

// Affiliate creates an active affiliate with a password and enrols it in
// the given programs under code (or generated codes when code is "").
func (e *Env) Affiliate(name, email, code string, programs ...*store.Program) *store.Affiliate {
	e.T.Helper()
	pw := "password123"
	af, _, err := e.App.CreateAffiliate(app.AffiliateInput{Name: &name, Email: &email, Password: &pw})
	if err != nil {
		e.T.Fatalf("create affiliate: %v", err)
	}
	for i, p := range programs {
		c := code
		if c != "" && i > 0 {
			c = code + "-" + p.ID[len(p.ID)-4:]
		}
		if _, _, err := e.App.Enroll(p.ID, af.ID, c); err != nil {
			e.T.Fatalf("enroll: %v", err)
		}
	}
	return af
}

// Ptr returns a pointer to v, for input structs.
func Ptr[T any](v T) *T { return &v }

// SetClock fixes the app's clock at t; the returned func moves it.
func (e *Env) SetClock(t time.Time) func(d time.Duration) {
	e.Clock.Set(t)
	return e.Clock.Add
}

// Clock is a test clock safe for concurrent use: it follows real time
// until Set or Func takes it over.
type Clock struct {
	mu  sync.Mutex
	now func() time.Time
	at  time.Time
}

// Now implements app.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.now != nil:
		return c.now()
	case !c.at.IsZero():
		return c.at
	}
	return time.Now().UTC()
}

// Set fixes the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.at, c.now = t, nil
	c.mu.Unlock()
}

// Add moves a fixed clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.at = c.at.Add(d)
	c.mu.Unlock()
}

// Func makes the clock read now() on every call, for tests that keep the
// time in a variable of their own.
func (c *Clock) Func(now func() time.Time) {
	c.mu.Lock()
	c.at, c.now = time.Time{}, now
	c.mu.Unlock()
}

// Unthrottled lifts the tracking rate limit out of any test's reach (a
// config option for New).
func Unthrottled(c *config.Config) { c.Tracking.RateLimit = 1e6 }

// LoopbackWebhooks lets webhooks reach receivers on loopback, with a short
// timeout (a config option for New).
func LoopbackWebhooks(c *config.Config) {
	c.Webhooks.AllowPrivateTargets = true
	c.Webhooks.Timeout = 2 * time.Second
}

// ShareAll turns a program's sharing on (leads tracked, leads and
// purchasers shared) with a 30% commission: what webhook tests need.
func ShareAll(in *app.ProgramInput) {
	in.SharePurchasers = Ptr(true)
	in.ShareLeads = Ptr(true)
	in.TrackLeads = Ptr(true)
	in.CommissionValue = Ptr("30")
}

// WebhookEndpoint creates an endpoint for the affiliate through the API.
func (e *Env) WebhookEndpoint(affiliateID string, body map[string]any) web.WebhookEndpointJSON {
	e.T.Helper()
	rec := e.API(http.MethodPost, "/affiliates/"+affiliateID+"/webhooks", body)
	Expect(e.T, rec, http.StatusCreated)
	return Decode[web.WebhookEndpointJSON](e.T, rec)
}

// AttributedPurchase clicks the affiliate's link (code) and reports a
// purchase through that referral, through the API.
func (e *Env) AttributedPurchase(prg *store.Program, code, order, email string) web.PurchaseJSON {
	e.T.Helper()
	rec := e.Request(http.MethodPost, "/t/click", map[string]string{"ref": code, "sub": "spring"})
	Expect(e.T, rec, http.StatusCreated)
	ref := Decode[struct{ Referral string }](e.T, rec).Referral
	rec = e.API(http.MethodPost, "/purchases", map[string]string{
		"order_id": order, "program": prg.ID, "email": email, "name": "Pat Buyer", "product": "Pro plan",
		"amount": "49.00", "currency": "USD", "referral": ref,
	})
	Expect(e.T, rec, http.StatusCreated)
	p := Decode[web.PurchaseJSON](e.T, rec)
	if p.Affiliate == nil {
		e.T.Fatalf("purchase not attributed: %+v", p)
	}
	return p
}

// WaitWebhooks waits until the dispatcher holds nothing.
func (e *Env) WaitWebhooks() {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.App.Webhooks().Wait(ctx); err != nil {
		e.T.Fatalf("webhooks still busy: %v", err)
	}
}

// WebhookMessages returns the newest 500 messages of the delivery log.
func (e *Env) WebhookMessages() []*store.WebhookMessage {
	e.T.Helper()
	ms, _, err := e.App.WebhookMessages(app.WebhookMessageQuery{Scope: app.Merchant, Limit: 500})
	if err != nil {
		e.T.Fatal(err)
	}
	return ms
}
