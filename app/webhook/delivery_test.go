package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/event"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/app/webhook"
	"github.com/spiffy/spiffy/app/webhook/webhooktest"
	"github.com/spiffy/spiffy/store"
)

// newEnv is an appliance that may send webhooks to loopback receivers, with
// a short webhook timeout. Its clock follows real time until a test sets it.
func newEnv(t *testing.T, configure ...func(*config.Config)) *apptest.Env {
	t.Helper()
	return apptest.New(t, append([]func(*config.Config){apptest.Unthrottled, apptest.LoopbackWebhooks}, configure...)...)
}

// storedEndpoint writes an endpoint straight into the store, as if it
// had been saved while its target was allowed: the fixture for tests of
// what happens when the target is no longer allowed.
func storedEndpoint(t *testing.T, env *apptest.Env, affiliateID, url string) *store.WebhookEndpoint {
	t.Helper()
	now := env.App.Now()
	ep := &store.WebhookEndpoint{ID: store.NewID(now), AffiliateID: affiliateID, URL: url, Secret: webhook.NewSecret(),
		Events: event.Subscribable(), CreatedAt: now}
	if err := env.DB.Update(func(tx *store.Tx) error { return tx.PutWebhookEndpoint(ep) }); err != nil {
		t.Fatal(err)
	}
	return ep
}

// deliverDue runs the retry job as cron would, then waits for it to finish.
func deliverDue(t *testing.T, env *apptest.Env) {
	t.Helper()
	if err := env.App.Webhooks().DeliverDue(context.Background()); err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	env.WaitWebhooks()
}

// TestWebhookPurchaseEvents: a purchase and its refund reach the
// affiliate's endpoint signed per Standard Webhooks, with the contract's
// flat bodies.
func TestWebhookPurchaseEvents(t *testing.T) {
	env := newEnv(t)
	rc := webhooktest.NewReceiver(t, nil)
	prg := env.Program("Shop", apptest.ShareAll)
	af := env.Affiliate("Ann", "ann@example.com", "ann", prg)
	ep := env.WebhookEndpoint(af.ID, map[string]any{"url": rc.URL + "/zap"})

	p := env.AttributedPurchase(prg, "ann", "A-1", "pat@example.com")
	env.WaitWebhooks()
	rec := env.API(http.MethodPost, "/purchases/"+p.ID+"/refund", nil)
	apptest.Expect(t, rec, 200)
	env.WaitWebhooks()

	reqs := rc.Requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(reqs))
	}
	for i, want := range []string{"purchase.created", "purchase.refunded"} {
		r := reqs[i]
		webhooktest.Verify(t, ep.Secret, r, true)
		if ts, _ := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64); time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
			t.Errorf("webhook-timestamp %d is not now", ts)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
		// Exact keys, in the contract's order.
		wantKeys := `{"type":"` + want + `","timestamp":"`
		if !strings.HasPrefix(string(r.Body), wantKeys) {
			t.Errorf("body %s does not start with %s", r.Body, wantKeys)
		}
		var body struct {
			Type      string            `json:"type"`
			Timestamp string            `json:"timestamp"`
			Data      map[string]string `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("body %s: %v (data must be flat strings)", r.Body, err)
		}
		if _, err := time.Parse(time.RFC3339, body.Timestamp); err != nil || body.Type != want {
			t.Errorf("envelope %+v", body)
		}
		status := "paid"
		if i == 1 {
			status = "refunded"
		}
		wantData := map[string]string{
			"id": p.ID, "order_id": "A-1", "program_id": prg.ID, "program_name": "Shop", "affiliate_id": af.ID,
			"referral_code": "ann", "sub_id": "spring", "email": "pat@example.com", "name": "Pat Buyer",
			"product": "Pro plan", "amount": "49.00", "currency": "USD", "commission": "14.70",
			"status": status, "purchased_at": p.PurchasedAt,
		}
		if !reflect.DeepEqual(body.Data, wantData) {
			t.Errorf("%s data\n got %v\nwant %v", want, body.Data, wantData)
		}
	}
	if reqs[0].Header.Get("webhook-id") == reqs[1].Header.Get("webhook-id") {
		t.Errorf("two events share a webhook-id")
	}
	// The delivery log shows both as delivered, with one attempt each.
	for _, m := range env.WebhookMessages() {
		if m.Status != store.MessageDelivered || len(m.Attempts) != 1 || m.Attempts[0].StatusCode != 200 {
			t.Errorf("message %+v", m)
		}
	}
}

func TestWebhookLeadEvent(t *testing.T) {
	env := newEnv(t)
	rc := webhooktest.NewReceiver(t, nil)
	prg := env.Program("Newsletter", apptest.ShareAll)
	af := env.Affiliate("Ann", "ann@example.com", "ann", prg)
	ep := env.WebhookEndpoint(af.ID, map[string]any{"url": rc.URL, "events": []string{"lead.created"}})

	rec := env.Request(http.MethodPost, "/t/click", map[string]string{"ref": "ann"})
	ref := apptest.Decode[struct{ Referral string }](t, rec).Referral
	rec = env.Request(http.MethodPost, "/t/lead", map[string]string{"email": "lee@example.com", "name": "Lee", "referral": ref})
	apptest.Expect(t, rec, http.StatusCreated)
	leadID := apptest.Decode[struct{ Lead string }](t, rec).Lead
	env.WaitWebhooks()

	reqs := rc.Requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	webhooktest.Verify(t, ep.Secret, reqs[0], true)
	var body struct {
		Type string            `json:"type"`
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	l, err := env.App.Lead(leadID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"id": leadID, "program_id": prg.ID, "program_name": "Newsletter", "affiliate_id": af.ID, "referral_code": "ann",
		"sub_id": "", "email": "lee@example.com", "name": "Lee", "created_at": l.CreatedAt.UTC().Format(time.RFC3339),
	}
	if body.Type != "lead.created" || !reflect.DeepEqual(body.Data, want) {
		t.Fatalf("lead event %s\nwant data %v", reqs[0].Body, want)
	}
}

// TestWebhookEventsOnlyWhereAllowed: sharing settings, subscriptions,
// disabled endpoints and attribution decide who hears about what.
func TestWebhookEventsOnlyWhereAllowed(t *testing.T) {
	env := newEnv(t)
	rc := webhooktest.NewReceiver(t, nil)
	none := env.Program("Private", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	leadsOnly := env.Program("LeadsOnly", func(in *app.ProgramInput) {
		in.TrackLeads, in.ShareLeads = apptest.Ptr(true), apptest.Ptr(true)
	})
	buyersOnly := env.Program("BuyersOnly", func(in *app.ProgramInput) {
		in.TrackLeads, in.SharePurchasers = apptest.Ptr(true), apptest.Ptr(true)
	})
	ann := env.Affiliate("Ann", "ann@example.com", "", none, leadsOnly, buyersOnly)
	bob := env.Affiliate("Bob", "bob@example.com", "", buyersOnly)
	all := env.WebhookEndpoint(ann.ID, map[string]any{"url": rc.URL + "/all"})
	refundsOnly := env.WebhookEndpoint(ann.ID, map[string]any{"url": rc.URL + "/refunds", "events": []string{"purchase.refunded"}})
	off := env.WebhookEndpoint(ann.ID, map[string]any{"url": rc.URL + "/off"})
	apptest.Expect(t, env.API(http.MethodPatch, "/webhooks/"+off.ID, map[string]any{"enabled": false}), 200)
	env.WebhookEndpoint(bob.ID, map[string]any{"url": rc.URL + "/bob"})

	code := func(prg *store.Program) string {
		e, err := env.App.Views().EnrollmentsOfAffiliate(ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range e {
			if x.ProgramID == prg.ID {
				return x.Code
			}
		}
		t.Fatalf("ann not in %s", prg.Name)
		return ""
	}
	n := 0
	for _, prg := range []*store.Program{none, leadsOnly, buyersOnly} {
		n++
		rec := env.Request(http.MethodPost, "/t/click", map[string]string{"ref": code(prg)})
		ref := apptest.Decode[struct{ Referral string }](t, rec).Referral
		apptest.Expect(t, env.Request(http.MethodPost, "/t/lead", map[string]string{"email": fmt.Sprintf("l%d@example.com", n), "referral": ref}), 201)
		rec = env.API(http.MethodPost, "/purchases", map[string]string{"order_id": fmt.Sprint("O", n), "program": prg.ID,
			"email": fmt.Sprintf("p%d@example.com", n), "amount": "10", "currency": "USD", "referral": ref})
		apptest.Expect(t, rec, 201)
		apptest.Expect(t, env.API(http.MethodPost, "/purchases/"+apptest.Decode[web.PurchaseJSON](t, rec).ID+"/refund", nil), 200)
	}
	// Unattributed and self-referred purchases tell nobody.
	apptest.Expect(t, env.API(http.MethodPost, "/purchases", map[string]string{"order_id": "U", "program": buyersOnly.ID, "email": "u@example.com", "amount": "5", "currency": "USD"}), 201)
	rec := env.Request(http.MethodPost, "/t/click", map[string]string{"ref": code(buyersOnly)})
	ref := apptest.Decode[struct{ Referral string }](t, rec).Referral
	apptest.Expect(t, env.API(http.MethodPost, "/purchases", map[string]string{"order_id": "S", "program": buyersOnly.ID, "email": "ann@example.com", "amount": "5", "currency": "USD", "referral": ref}), 201)
	env.WaitWebhooks()

	var events []string
	for _, m := range env.WebhookMessages() {
		var b struct {
			Data struct {
				ProgramName string `json:"program_name"`
			}
		}
		json.Unmarshal(m.Payload, &b)
		events = append(events, m.EndpointID+" "+m.EventType+"@"+b.Data.ProgramName)
	}
	want := []string{
		all.ID + " lead.created@LeadsOnly",
		all.ID + " purchase.created@BuyersOnly",
		all.ID + " purchase.refunded@BuyersOnly",
		refundsOnly.ID + " purchase.refunded@BuyersOnly",
	}
	if len(events) != len(want) {
		t.Fatalf("messages %v, want %v", events, want)
	}
	for _, w := range want {
		found := false
		for _, e := range events {
			found = found || e == w
		}
		if !found {
			t.Errorf("missing %s in %v", w, events)
		}
	}
	if n := len(rc.Requests()); n != len(want) {
		t.Errorf("receiver got %d requests, want %d", n, len(want))
	}
}

// TestWebhookRetriedUntilDelivered: a receiver that fails twice then
// succeeds gets the same message three times, with one webhook-id, each
// attempt signed afresh with its own timestamp, on the retry schedule.
func TestWebhookRetriedUntilDelivered(t *testing.T) {
	env := newEnv(t)
	clock := env.Clock
	clock.Set(time.Now().UTC().Truncate(time.Second))
	rc := webhooktest.NewReceiver(t, func(n int, _ *http.Request) int {
		if n <= 2 {
			return 503
		}
		return 204
	})
	prg := env.Program("Shop", apptest.ShareAll)
	af := env.Affiliate("Ann", "ann@example.com", "ann", prg)
	ep := env.WebhookEndpoint(af.ID, map[string]any{"url": rc.URL})
	t0 := clock.Now()
	env.AttributedPurchase(prg, "ann", "A-1", "pat@example.com")
	env.WaitWebhooks()
	if n := len(rc.Requests()); n != 1 {
		t.Fatalf("%d requests after the event, want 1 (sent at once)", n)
	}
	clock.Add(4 * time.Second)
	deliverDue(t, env)
	if n := len(rc.Requests()); n != 1 {
		t.Fatalf("retried after 4 s; want the first retry after 5 s")
	}
	clock.Add(time.Second)
	deliverDue(t, env)
	if n := len(rc.Requests()); n != 2 {
		t.Fatalf("%d requests 5 s later, want 2", n)
	}
	clock.Add(5*time.Minute - time.Second)
	deliverDue(t, env)
	if n := len(rc.Requests()); n != 2 {
		t.Fatalf("second retry came before 5 min")
	}
	clock.Add(time.Second)
	deliverDue(t, env)
	clock.Add(time.Hour)
	deliverDue(t, env)

	reqs := rc.Requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	wantTimes := []time.Time{t0, t0.Add(5 * time.Second), t0.Add(5*time.Second + 5*time.Minute)}
	for i, r := range reqs {
		if r.Header.Get("webhook-id") != reqs[0].Header.Get("webhook-id") {
			t.Errorf("attempt %d has webhook-id %q, first had %q", i+1, r.Header.Get("webhook-id"), reqs[0].Header.Get("webhook-id"))
		}
		if got := r.Header.Get("webhook-timestamp"); got != strconv.FormatInt(wantTimes[i].Unix(), 10) {
			t.Errorf("attempt %d timestamp %s, want %d", i+1, got, wantTimes[i].Unix())
		}
		if string(r.Body) != string(reqs[0].Body) {
			t.Errorf("attempt %d body differs", i+1)
		}
		webhooktest.Verify(t, ep.Secret, r, false)
	}
	ms := env.WebhookMessages()
	if len(ms) != 1 {
		t.Fatalf("%d messages", len(ms))
	}
	m := ms[0]
	if m.ID != reqs[0].Header.Get("webhook-id") || m.Status != store.MessageDelivered || len(m.Attempts) != 3 ||
		m.Attempts[0].StatusCode != 503 || m.Attempts[2].StatusCode != 204 || m.Attempts[0].Error != "HTTP 503" {
		t.Fatalf("message %+v", m)
	}
	// Success ends the endpoint's failure streak.
	e, _ := env.App.WebhookEndpoint(app.Merchant, ep.ID)
	if e.FailingSince != nil || e.LastError != "" {
		t.Fatalf("endpoint still failing: %+v", e)
	}
}

// TestWebhookNeverAnswering: a receiver that never answers is cut off at
// webhooks.timeout and retried on the whole schedule, then the message is
// marked failed. The clock is injected; no test sleeps for hours.
func TestWebhookNeverAnswering(t *testing.T) {
	env := newEnv(t, func(c *config.Config) { c.Webhooks.Timeout = 150 * time.Millisecond })
	clock := env.Clock
	clock.Set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	release := make(chan struct{})
	rc := webhooktest.NewReceiver(t, func(_ int, r *http.Request) int {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return 200
	})
	defer close(release)
	prg := env.Program("Shop", apptest.ShareAll)
	af := env.Affiliate("Ann", "ann@example.com", "ann", prg)
	ep := env.WebhookEndpoint(af.ID, map[string]any{"url": rc.URL})
	t0 := clock.Now()
	start := time.Now()
	env.AttributedPurchase(prg, "ann", "A-1", "pat@example.com")
	if el := time.Since(start); el > time.Second {
		t.Fatalf("the purchase request took %v while the receiver hangs", el)
	}
	env.WaitWebhooks()
	schedule := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	for i, d := range schedule {
		clock.Add(d - time.Second)
		deliverDue(t, env)
		if n := len(rc.Requests()); n != i+1 {
			t.Fatalf("before retry %d: %d requests, want %d", i+1, n, i+1)
		}
		clock.Add(time.Second)
		deliverDue(t, env)
		if n := len(rc.Requests()); n != i+2 {
			t.Fatalf("at retry %d (+%v): %d requests, want %d", i+1, d, n, i+2)
		}
	}
	clock.Add(48 * time.Hour)
	deliverDue(t, env)
	if n := len(rc.Requests()); n != 8 {
		t.Fatalf("%d requests in all, want 8", n)
	}
	m := env.WebhookMessages()[0]
	if m.Status != store.MessageFailed || len(m.Attempts) != 8 {
		t.Fatalf("message status %s with %d attempts, want failed after 8", m.Status, len(m.Attempts))
	}
	at := t0
	for i, a := range m.Attempts {
		if i > 0 {
			at = at.Add(schedule[i-1])
		}
		if !a.At.Equal(at) || a.StatusCode != 0 || a.Error != "no answer within 150ms" {
			t.Errorf("attempt %d: %+v, want at %v timing out", i+1, a, at)
		}
	}
	e, _ := env.App.WebhookEndpoint(app.Merchant, ep.ID)
	if e.FailingSince == nil || !e.FailingSince.Equal(t0) || e.LastError != "no answer within 150ms" || e.Disabled {
		t.Fatalf("endpoint %+v", e)
	}
	// The API shows it too.
	rec := env.API(http.MethodGet, "/webhook-messages/"+m.ID, nil)
	apptest.Expect(t, rec, 200)
	if j := apptest.Decode[web.WebhookMessageJSON](t, rec); j.Status != "failed" || len(j.Attempts) != 8 || j.NextAttemptAt != nil {
		t.Fatalf("API message %+v", j)
	}
}

// TestWebhookEndpointDisabledAfterFiveDays: an endpoint failing without a
// single success for five days is disabled with a reason the affiliate
// sees; one success in between resets the clock.
func TestWebhookEndpointDisabledAfterFiveDays(t *testing.T) {
	env := newEnv(t)
	clock := env.Clock
	clock.Set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	status := 500
	rc := webhooktest.NewReceiver(t, func(int, *http.Request) int { mu.Lock(); defer mu.Unlock(); return status })
	af := env.Affiliate("Ann", "ann@example.com", "ann")
	ep := env.WebhookEndpoint(af.ID, map[string]any{"url": rc.URL})
	test := func() {
		t.Helper()
		apptest.Expect(t, env.API(http.MethodPost, "/webhooks/"+ep.ID+"/test", nil), 201)
		env.WaitWebhooks()
	}
	get := func() web.WebhookEndpointJSON {
		rec := env.API(http.MethodGet, "/webhooks/"+ep.ID, nil)
		apptest.Expect(t, rec, 200)
		return apptest.Decode[web.WebhookEndpointJSON](t, rec)
	}
	test()
	clock.Add(3 * 24 * time.Hour)
	mu.Lock()
	status = 200
	mu.Unlock()
	test() // a success: the streak ends
	mu.Lock()
	status = 500
	mu.Unlock()
	clock.Add(time.Hour)
	test()
	clock.Add(4 * 24 * time.Hour)
	test()
	if e := get(); !e.Enabled || e.FailingSince == nil {
		t.Fatalf("disabled after 4 days of failures (the earlier streak was broken by a success): %+v", e)
	}
	clock.Add(24 * time.Hour)
	test()
	e := get()
	if e.Enabled || !strings.Contains(e.DisabledReason, "failed for 5 days") || !strings.Contains(e.DisabledReason, "HTTP 500") {
		t.Fatalf("endpoint after 5 days of failures: %+v", e)
	}
	// A disabled endpoint receives nothing: queued messages fail unsent, and
	// tests are refused.
	before := len(rc.Requests())
	apptest.Expect(t, env.API(http.MethodPost, "/webhooks/"+ep.ID+"/test", nil), 400)
	deliverDue(t, env)
	if len(rc.Requests()) != before {
		t.Fatalf("a disabled endpoint was called")
	}
	// Enabling it again starts afresh.
	rec := env.API(http.MethodPatch, "/webhooks/"+ep.ID, map[string]any{"enabled": true})
	apptest.Expect(t, rec, 200)
	if e := apptest.Decode[web.WebhookEndpointJSON](t, rec); !e.Enabled || e.DisabledReason != "" || e.FailingSince != nil {
		t.Fatalf("re-enabled endpoint %+v", e)
	}
}

// TestWebhookSSRFRefusedWhenSaved: without allow_private_targets, URLs
// that are or resolve to non-public addresses are refused with a 400 and
// nothing is stored.
func TestWebhookSSRFRefusedWhenSaved(t *testing.T) {
	env := newEnv(t, func(c *config.Config) { c.Webhooks.AllowPrivateTargets = false })
	af := env.Affiliate("Ann", "ann@example.com", "ann")
	for _, u := range []string{
		"http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://172.16.0.9/", "http://192.168.1.20/",
		"http://169.254.169.254/latest/meta-data/", "http://[::1]:9000/", "http://[fe80::1]/", "http://100.64.1.1/",
		"http://0.0.0.0:8080/", "http://localhost:8080/", "http://localhost./", "http://224.0.0.1/",
	} {
		rec := env.API(http.MethodPost, "/affiliates/"+af.ID+"/webhooks", map[string]any{"url": u})
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"error":"invalid_url"`) || !strings.Contains(rec.Body.String(), "not allowed") {
			t.Errorf("%s: %d %s", u, rec.Code, rec.Body.String())
		}
	}
	if eps, _ := env.App.WebhookEndpoints(app.Merchant); len(eps) != 0 {
		t.Fatalf("%d endpoints stored", len(eps))
	}
	// An existing endpoint cannot be pointed at one either.
	ep := storedEndpoint(t, env, af.ID, "http://203.0.114.7/")
	rec := env.API(http.MethodPatch, "/webhooks/"+ep.ID, map[string]any{"url": "http://127.0.0.1/"})
	apptest.Expect(t, rec, 400)
	if e, _ := env.App.WebhookEndpoint(app.Merchant, ep.ID); e.URL != "http://203.0.114.7/" {
		t.Fatalf("URL changed to %s", e.URL)
	}
}

// TestWebhookSSRFRefusedAtDial: an endpoint saved while its host was
// public but now resolving to loopback (DNS rebinding) is refused when the
// connection is made; the receiver never sees a request.
func TestWebhookSSRFRefusedAtDial(t *testing.T) {
	// Private targets are not allowed: the dispatcher checks every address
	// it connects to.
	env := newEnv(t, func(c *config.Config) { c.Webhooks.AllowPrivateTargets = false })
	rc := webhooktest.NewReceiver(t, nil)
	af := env.Affiliate("Ann", "ann@example.com", "ann")
	port := rc.Listener.Addr().(*net.TCPAddr).Port
	urls := []string{rc.URL, fmt.Sprintf("http://localhost:%d/", port)}
	var eps []*store.WebhookEndpoint
	for _, u := range urls {
		eps = append(eps, storedEndpoint(t, env, af.ID, u)) // saved while allowed
	}
	for _, ep := range eps {
		apptest.Expect(t, env.API(http.MethodPost, "/webhooks/"+ep.ID+"/test", nil), 201)
	}
	env.WaitWebhooks()
	if n := len(rc.Requests()); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
	ms := env.WebhookMessages()
	if len(ms) != len(urls) {
		t.Fatalf("%d messages", len(ms))
	}
	for _, m := range ms {
		if len(m.Attempts) != 1 || !strings.Contains(m.Attempts[0].Error, "refused") || !strings.Contains(m.Attempts[0].Error, "not a public internet address") {
			t.Errorf("attempts %+v, want a refusal", m.Attempts)
		}
		if m.Status != store.MessagePending {
			t.Errorf("status %s: a refused attempt is retried like any failure", m.Status)
		}
	}
}

// TestWebhookSlowEndpointIsolated: an endpoint that hangs holds only its
// own slots; another affiliate's messages and tracking requests go through
// at once.
func TestWebhookSlowEndpointIsolated(t *testing.T) {
	env := newEnv(t, func(c *config.Config) {
		c.Webhooks.Timeout = 3 * time.Second
		c.Webhooks.Concurrency = 8
	})
	release := make(chan struct{})
	slow := webhooktest.NewReceiver(t, func(_ int, r *http.Request) int {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return 200
	})
	fast := webhooktest.NewReceiver(t, nil)
	prg := env.Program("Shop", apptest.ShareAll)
	ann := env.Affiliate("Ann", "ann@example.com", "ann", prg)
	bob := env.Affiliate("Bob", "bob@example.com", "bob", prg)
	env.WebhookEndpoint(ann.ID, map[string]any{"url": slow.URL})
	env.WebhookEndpoint(bob.ID, map[string]any{"url": fast.URL})

	start := time.Now()
	for i := range 20 {
		env.AttributedPurchase(prg, "ann", fmt.Sprint("A", i), "a@example.com")
	}
	for i := range 20 {
		env.AttributedPurchase(prg, "bob", fmt.Sprint("B", i), "b@example.com")
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("40 tracked purchases took %v while an endpoint hangs", el)
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(fast.Requests()) < 20 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(fast.Requests()); n != 20 {
		t.Fatalf("the fast endpoint got %d of 20 messages while the slow one hangs", n)
	}
	if n := len(slow.Requests()); n > 4 {
		t.Fatalf("the hanging endpoint has %d requests in flight, want at most 4", n)
	}
	close(release)
	env.WaitWebhooks()
}

// TestWebhookManagementAPI covers endpoint management through the API and
// its validation: every bad input is a 4xx JSON error and changes nothing.
func TestWebhookManagementAPI(t *testing.T) {
	env := newEnv(t)
	rc := webhooktest.NewReceiver(t, nil)
	af := env.Affiliate("Ann", "ann@example.com", "ann")
	other := env.Affiliate("Bob", "bob@example.com", "bob")
	ep := env.WebhookEndpoint(af.ID, map[string]any{"url": rc.URL})
	if !strings.HasPrefix(ep.Secret, "whsec_") || !ep.Enabled || !reflect.DeepEqual(ep.Events, event.Subscribable()) {
		t.Fatalf("new endpoint %+v", ep)
	}
	bad := []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"POST", "/affiliates/" + af.ID + "/webhooks", map[string]any{}, 400, "invalid_url"},
		{"POST", "/affiliates/" + af.ID + "/webhooks", map[string]any{"url": "not a url"}, 400, "invalid_url"},
		{"POST", "/affiliates/" + af.ID + "/webhooks", map[string]any{"url": "ftp://x.example/"}, 400, "invalid_url"},
		{"POST", "/affiliates/" + af.ID + "/webhooks", map[string]any{"url": rc.URL, "events": []string{"purchase.deleted"}}, 400, "invalid_events"},
		{"POST", "/affiliates/" + af.ID + "/webhooks", map[string]any{"url": rc.URL, "events": []string{}}, 400, "invalid_events"},
		{"POST", "/affiliates/" + af.ID + "/webhooks", map[string]any{"url": 5}, 400, "invalid_url"},
		{"POST", "/affiliates/" + af.ID + "/webhooks", `{"url":`, 400, "invalid_json"},
		{"POST", "/affiliates/" + store.NewID(time.Now()) + "/webhooks", map[string]any{"url": rc.URL}, 404, "affiliate_not_found"},
		{"POST", "/affiliates/nope/webhooks", map[string]any{"url": rc.URL}, 404, "affiliate_not_found"},
		{"PATCH", "/webhooks/" + ep.ID, map[string]any{"events": []string{"x"}}, 400, "invalid_events"},
		{"PATCH", "/webhooks/" + ep.ID, map[string]any{"url": ""}, 400, "invalid_url"},
		{"PATCH", "/webhooks/" + ep.ID, map[string]any{"enabled": "yes"}, 400, "invalid_enabled"},
		{"PATCH", "/webhooks/nope", map[string]any{}, 404, "webhook_endpoint_not_found"},
		{"GET", "/webhooks/" + store.NewID(time.Now()), nil, 404, "webhook_endpoint_not_found"},
		{"DELETE", "/webhooks/nope", nil, 404, "webhook_endpoint_not_found"},
		{"POST", "/webhooks/nope/test", nil, 404, "webhook_endpoint_not_found"},
		{"POST", "/webhooks/nope/rotate-secret", nil, 404, "webhook_endpoint_not_found"},
		{"GET", "/webhooks?affiliate=nope", nil, 400, "invalid_affiliate"},
		{"GET", "/webhook-messages?status=lost", nil, 400, "invalid_status"},
		{"GET", "/webhook-messages?limit=0", nil, 400, "invalid_limit"},
		{"GET", "/webhook-messages?cursor=zzz", nil, 400, "invalid_cursor"},
		{"GET", "/webhook-messages?endpoint=nope", nil, 400, "invalid_endpoint"},
		{"GET", "/webhook-messages/nope", nil, 404, "webhook_message_not_found"},
		{"POST", "/webhook-messages/" + store.NewID(time.Now()) + "/resend", nil, 404, "webhook_message_not_found"},
	}
	for _, b := range bad {
		rec := env.API(b.method, b.path, b.body)
		if rec.Code != b.status || !strings.Contains(rec.Body.String(), `"error":"`+b.code+`"`) {
			t.Errorf("%s %s %v: %d %s, want %d %s", b.method, b.path, b.body, rec.Code, rec.Body.String(), b.status, b.code)
		}
	}
	if e, _ := env.App.WebhookEndpoint(app.Merchant, ep.ID); !reflect.DeepEqual(e.Events, event.Subscribable()) || e.URL != rc.URL || e.Disabled {
		t.Fatalf("bad input changed the endpoint: %+v", e)
	}
	// Updates.
	rec := env.API(http.MethodPatch, "/webhooks/"+ep.ID, map[string]any{"events": []string{"purchase.refunded", "purchase.created", "purchase.created"}, "url": rc.URL + "/v2"})
	apptest.Expect(t, rec, 200)
	if e := apptest.Decode[web.WebhookEndpointJSON](t, rec); !reflect.DeepEqual(e.Events, []string{"purchase.created", "purchase.refunded"}) || e.URL != rc.URL+"/v2" {
		t.Fatalf("updated %+v", e)
	}
	rec = env.API(http.MethodPost, "/webhooks/"+ep.ID+"/rotate-secret", nil)
	apptest.Expect(t, rec, 200)
	rotated := apptest.Decode[web.WebhookEndpointJSON](t, rec)
	if rotated.Secret == ep.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") {
		t.Fatalf("rotated secret %q", rotated.Secret)
	}
	// A test event is signed with the new secret and can be resent, same id.
	rec = env.API(http.MethodPost, "/webhooks/"+ep.ID+"/test", nil)
	apptest.Expect(t, rec, 201)
	msg := apptest.Decode[web.WebhookMessageJSON](t, rec)
	env.WaitWebhooks()
	apptest.Expect(t, env.API(http.MethodPost, "/webhook-messages/"+msg.ID+"/resend", nil), 200)
	env.WaitWebhooks()
	reqs := rc.Requests()
	if len(reqs) != 2 || reqs[0].Header.Get("webhook-id") != msg.ID || reqs[1].Header.Get("webhook-id") != msg.ID {
		t.Fatalf("test + resend: %d requests", len(reqs))
	}
	webhooktest.Verify(t, rotated.Secret, reqs[1], true)
	var body struct {
		Type string            `json:"type"`
		Data map[string]string `json:"data"`
	}
	if json.Unmarshal(reqs[0].Body, &body); body.Type != "test" || body.Data["affiliate_id"] != af.ID || body.Data["amount"] == "" {
		t.Fatalf("test event %s", reqs[0].Body)
	}
	rec = env.API(http.MethodGet, "/webhook-messages?endpoint="+ep.ID+"&status=delivered", nil)
	apptest.Expect(t, rec, 200)
	page := apptest.Decode[web.Page[web.WebhookMessageJSON]](t, rec)
	if len(page.Data) != 1 || len(page.Data[0].Attempts) != 2 || page.Data[0].Status != "delivered" {
		t.Fatalf("messages page %+v", page)
	}
	// Lists are scoped by affiliate.
	env.WebhookEndpoint(other.ID, map[string]any{"url": rc.URL + "/bob"})
	rec = env.API(http.MethodGet, "/webhooks?affiliate="+af.ID, nil)
	if l := apptest.Decode[web.Page[web.WebhookEndpointJSON]](t, rec); len(l.Data) != 1 || l.Data[0].ID != ep.ID {
		t.Fatalf("scoped list %+v", l)
	}
	if _, err := env.App.WebhookEndpoint(app.AffiliateScope(other.ID), ep.ID); err == nil {
		t.Fatalf("another affiliate can read the endpoint")
	}
	if _, err := env.App.ResendWebhookMessage(app.AffiliateScope(other.ID), msg.ID); err == nil {
		t.Fatalf("another affiliate can resend the message")
	}
	// At most MaxWebhookEndpoints per affiliate.
	for i := 1; i < app.MaxWebhookEndpoints; i++ {
		env.WebhookEndpoint(af.ID, map[string]any{"url": fmt.Sprintf("%s/%d", rc.URL, i)})
	}
	rec = env.API(http.MethodPost, "/affiliates/"+af.ID+"/webhooks", map[string]any{"url": rc.URL})
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "too_many_endpoints") {
		t.Fatalf("endpoint over the limit: %d %s", rec.Code, rec.Body.String())
	}
	// Deleting an endpoint deletes its delivery log.
	apptest.Expect(t, env.API(http.MethodDelete, "/webhooks/"+ep.ID, nil), 200)
	apptest.Expect(t, env.API(http.MethodGet, "/webhook-messages/"+msg.ID, nil), 404)
	apptest.Expect(t, env.API(http.MethodGet, "/webhooks/"+ep.ID, nil), 404)
}

// TestWebhookBacklogDrainsByItself: more messages than the dispatcher holds
// in memory (the rest wait in the due index) all go out, once each, without
// the cron job, as soon as the receiver answers again.
func TestWebhookBacklogDrainsByItself(t *testing.T) {
	env := newEnv(t, func(c *config.Config) { c.Webhooks.Timeout = 20 * time.Second })
	release := make(chan struct{})
	var mu sync.Mutex
	seen := map[string]int{}
	rc := webhooktest.NewReceiver(t, func(_ int, r *http.Request) int {
		<-release
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
		return 200
	})
	af := env.Affiliate("Ann", "ann@example.com", "ann")
	ep := env.WebhookEndpoint(af.ID, map[string]any{"url": rc.URL})
	const n = 1300 // over the per-endpoint queue of 500
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if _, err := env.App.SendTestWebhook(app.AffiliateScope(af.ID), ep.ID); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(release)
	env.WaitWebhooks()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Fatalf("receiver got %d distinct messages, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("message %s sent %d times", id, c)
		}
	}
	for _, m := range env.WebhookMessages() {
		if m.Status != store.MessageDelivered {
			t.Fatalf("message %s is %s", m.ID, m.Status)
		}
	}
}
