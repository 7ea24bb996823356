package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/provider"
	"github.com/spiffy/spiffy/app/provider/providertest"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// HTTP tests of the payment providers' webhooks (contract §10): every
// bullet, per provider, through the real router, with the sample payloads
// of app/provider/testdata edited per test and signed for real — Stripe
// with stripe-go's own test helper, Paddle and Lemon Squeezy by their
// documented schemes (paddle-go-sdk verifies but does not sign; Lemon
// Squeezy has no Go SDK).

const (
	stripeSecret = "whsec_7c2e9a41b3d5f6078a9b0c1d2e3f4a5b"
	paddleSecret = "pdl_ntfset_01hsdn8d43dt7mezr1ef2jtbaw_Zq3xT0uVwYb8NcR5sLkP2mJdH7gFaE4"
	lsSecret     = "spiffy-test-lemon-squeezy-secret"
)

var providers = []string{"stripe", "paddle", "lemonsqueezy"}

// withSecrets configures all three providers' signing secrets.
func withSecrets(c *config.Config) {
	c.Integrations.Stripe.WebhookSecret = stripeSecret
	c.Integrations.Paddle.WebhookSecret = paddleSecret
	c.Integrations.LemonSqueezy.WebhookSecret = lsSecret
}

func signatureHeader(p string) string {
	switch p {
	case "stripe":
		return "Stripe-Signature"
	case "paddle":
		return "Paddle-Signature"
	}
	return "X-Signature"
}

// sign signs body for provider p with its test secret, at the real time
// now shifted by age back (signatures are checked against the real clock,
// not the app's).
func sign(p string, body []byte, age time.Duration) string {
	at := time.Now().Add(-age)
	switch p {
	case "stripe":
		return providertest.Stripe(body, stripeSecret, at)
	case "paddle":
		return providertest.Paddle(body, paddleSecret, at)
	}
	return providertest.LemonSqueezy(body, lsSecret)
}

// integ is an appliance with every provider connected, a program "Shop"
// (20%, cookie window 30 days, renewals for 12 months, 7-day hold, leads
// tracked) and two affiliates, Ann (code ann, coupon ANN20) and Bob (code
// bob).
type integ struct {
	*apptest.Env
	t       *testing.T
	advance func(time.Duration)
	shop    *store.Program
	ann     *store.Affiliate
	bob     *store.Affiliate
	seq     int
}

func newInteg(t *testing.T, program ...func(*app.ProgramInput)) *integ {
	t.Helper()
	env, advance := newEnv(t, withSecrets)
	e := &integ{Env: env, t: t, advance: advance}
	e.shop = env.Program("Shop", append([]func(*app.ProgramInput){func(in *app.ProgramInput) {
		in.CommissionValue, in.HoldDays, in.RecurringMonths = apptest.Ptr("20"), apptest.Ptr(7), apptest.Ptr(12)
		in.TrackLeads = apptest.Ptr(true)
	}}, program...)...)
	e.ann = env.Affiliate("Ann Lee", "ann@partner.example.com", "")
	e.enroll(e.shop, e.ann, "ann", "ANN20", http.StatusCreated)
	e.bob = env.Affiliate("Bob Roe", "bob@partner.example.com", "")
	e.enroll(e.shop, e.bob, "bob", "", http.StatusCreated)
	return e
}

// enroll enrols an affiliate through the API with a code and coupon.
func (e *integ) enroll(prg *store.Program, af *store.Affiliate, code, coupon string, status int) *httptest.ResponseRecorder {
	e.t.Helper()
	body := map[string]string{"affiliate_id": af.ID, "code": code}
	if coupon != "" {
		body["coupon"] = coupon
	}
	rec := e.API(http.MethodPost, "/programs/"+prg.ID+"/affiliates", body)
	apptest.Expect(e.t, rec, status)
	return rec
}

// click follows an affiliate's link now (the app's clock) and returns the
// referral id.
func (e *integ) click(code string) string {
	e.t.Helper()
	return postClick(e.t, e.Env, map[string]string{"ref": code, "sub": "launch"}).Referral
}

// lead records a lead through a click on code, now.
func (e *integ) lead(code, email string) {
	e.t.Helper()
	rec := e.Request(http.MethodPost, "/t/lead", map[string]string{"email": email, "name": "Lead", "referral": e.click(code)})
	apptest.Expect(e.t, rec, http.StatusCreated)
}

// The edits of a sample: "@x.y" is a path under the event's object (Stripe
// data.object, Paddle data, Lemon Squeezy data.attributes), "x.y" a path
// from the document's root; a value of drop removes the key.
type dropT struct{}

var drop = dropT{}

func loadSample(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "provider", "testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

func setPath(t *testing.T, doc map[string]any, path string, v any) {
	t.Helper()
	parts := strings.Split(path, ".")
	m := doc
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	last := parts[len(parts)-1]
	if v == drop {
		delete(m, last)
		return
	}
	m[last] = v
}

func getPath(doc map[string]any, path string) any {
	var v any = doc
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// event builds a new event of provider p from a sample: a fresh event id,
// its times set to at, then the edits (path, value pairs) applied.
func (e *integ) event(p, path string, at time.Time, edits ...any) []byte {
	e.t.Helper()
	e.seq++
	doc := loadSample(e.t, p+"/"+path)
	obj := map[string]string{"stripe": "data.object.", "paddle": "data.", "lemonsqueezy": "data.attributes."}[p]
	stamp := at.UTC().Format(time.RFC3339Nano)
	switch p {
	case "stripe":
		doc["id"] = fmt.Sprintf("evt_test%06d", e.seq)
		doc["created"] = at.Unix()
		if getPath(doc, obj+"status_transitions.paid_at") != nil {
			setPath(e.t, doc, obj+"status_transitions.paid_at", at.Unix())
		}
	case "paddle":
		doc["event_id"] = fmt.Sprintf("evt_test%06d", e.seq)
		doc["occurred_at"] = stamp
		data := doc["data"].(map[string]any)
		for _, k := range []string{"billed_at", "updated_at"} {
			if _, ok := data[k]; ok {
				data[k] = stamp
			}
		}
		if pays, ok := data["payments"].([]any); ok {
			for _, py := range pays {
				if py := py.(map[string]any); py["status"] == "captured" {
					py["captured_at"] = stamp
				}
			}
		}
	case "lemonsqueezy":
		// Lemon Squeezy sends no event id: Spiffy keys events by name,
		// object id and updated_at, so a new event gets a new updated_at.
		setPath(e.t, doc, obj+"created_at", stamp)
		setPath(e.t, doc, obj+"updated_at", at.Add(time.Duration(e.seq)*time.Millisecond).UTC().Format(time.RFC3339Nano))
	}
	if len(edits)%2 != 0 {
		e.t.Fatalf("edits come in pairs: %v", edits)
	}
	for i := 0; i < len(edits); i += 2 {
		k := edits[i].(string)
		if strings.HasPrefix(k, "@") {
			k = obj + k[1:]
		}
		setPath(e.t, doc, k, edits[i+1])
	}
	b, err := json.Marshal(doc)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// post sends body to /integrations/{p} with the given signature header
// ("" = no header).
func (e *integ) post(p string, body []byte, signature string) *httptest.ResponseRecorder {
	e.t.Helper()
	var headers []string
	if signature != "" {
		headers = []string{signatureHeader(p), signature}
	}
	return e.Request(http.MethodPost, "/integrations/"+p, body, headers...)
}

type hookResp struct {
	Received  bool   `json:"received"`
	Outcome   string `json:"outcome"`
	Purchase  string `json:"purchase"`
	Duplicate bool   `json:"duplicate"`
}

// deliver signs body as provider p does now, sends it and expects 200.
func (e *integ) deliver(p string, body []byte) hookResp {
	e.t.Helper()
	rec := e.post(p, body, sign(p, body, 0))
	apptest.Expect(e.t, rec, http.StatusOK)
	r := apptest.Decode[hookResp](e.t, rec)
	if !r.Received {
		e.t.Fatalf("answer %s lacks received: true", rec.Body.String())
	}
	return r
}

// deliverSale delivers an event that must record a purchase and returns it.
func (e *integ) deliverSale(p string, body []byte) web.PurchaseJSON {
	e.t.Helper()
	r := e.deliver(p, body)
	if r.Purchase == "" || r.Duplicate {
		e.t.Fatalf("%s event recorded no purchase: %+v", p, r)
	}
	return e.purchase(r.Purchase)
}

// deliverNothing delivers an event that must store no purchase, and
// returns the outcome.
func (e *integ) deliverNothing(p string, body []byte) hookResp {
	e.t.Helper()
	before := purchaseCount(e.t, e.Env)
	r := e.deliver(p, body)
	if r.Purchase != "" {
		e.t.Fatalf("%s event touched purchase %s: %+v", p, r.Purchase, r)
	}
	if n := purchaseCount(e.t, e.Env); n != before {
		e.t.Fatalf("%s event: %d purchases, had %d", p, n, before)
	}
	return r
}

func (e *integ) purchase(id string) web.PurchaseJSON {
	e.t.Helper()
	rec := e.API(http.MethodGet, "/purchases/"+id, nil)
	apptest.Expect(e.t, rec, http.StatusOK)
	return apptest.Decode[web.PurchaseJSON](e.t, rec)
}

func (e *integ) commissions(purchaseID string) []web.CommissionJSON {
	e.t.Helper()
	rec := e.API(http.MethodGet, "/commissions?purchase="+purchaseID, nil)
	apptest.Expect(e.t, rec, http.StatusOK)
	return apptest.Decode[web.Page[web.CommissionJSON]](e.t, rec).Data
}

// oneCommission returns the purchase's only commission, checking its
// kind, amount and status.
func (e *integ) oneCommission(p web.PurchaseJSON, kind, amount, status string) web.CommissionJSON {
	e.t.Helper()
	cs := e.commissions(p.ID)
	if len(cs) != 1 {
		e.t.Fatalf("purchase %s (%s): %d commissions %+v, want 1", p.ID, p.OrderID, len(cs), cs)
	}
	c := cs[0]
	if c.Kind != kind || c.Amount != amount || c.Status != status || c.Currency != p.Currency || c.Program != p.Program ||
		c.Affiliate != affiliateOf(p) {
		e.t.Fatalf("commission %+v, want %s %s %s %s for %s", c, kind, amount, p.Currency, status, affiliateOf(p))
	}
	return c
}

// storedKind reads a purchase's kind (sale or renewal) from the store: the
// API shows it on the commission.
func (e *integ) storedKind(id string) string {
	e.t.Helper()
	p, err := e.App.Purchase(id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Kind
}

// counts returns how many purchases and handled provider events the store
// holds.
func (e *integ) counts() (purchases, events int) {
	e.t.Helper()
	err := e.DB.View(func(tx *store.Tx) error {
		for _, p := range providers {
			evs, err := tx.ProviderEvents(p, 10000)
			if err != nil {
				return err
			}
			events += len(evs)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return purchaseCount(e.t, e.Env), events
}

// wantPurchase compares the purchase's stored fields.
func wantPurchase(t *testing.T, got web.PurchaseJSON, want web.PurchaseJSON) {
	t.Helper()
	g := fmt.Sprintf("order_id=%s program=%s affiliate=%s email=%s name=%s product=%s amount=%s currency=%s commission=%s status=%s refunded=%s code=%s purchased_at=%s",
		got.OrderID, got.Program, affiliateOf(got), got.Email, got.Name, got.Product, got.Amount, got.Currency, got.Commission, got.Status, got.RefundedAmount, got.ReferralCode, got.PurchasedAt)
	w := fmt.Sprintf("order_id=%s program=%s affiliate=%s email=%s name=%s product=%s amount=%s currency=%s commission=%s status=%s refunded=%s code=%s purchased_at=%s",
		want.OrderID, want.Program, affiliateOf(want), want.Email, want.Name, want.Product, want.Amount, want.Currency, want.Commission, want.Status, want.RefundedAmount, want.ReferralCode, want.PurchasedAt)
	if g != w {
		t.Fatalf("purchase\n got %s\nwant %s", g, w)
	}
}

func ptr(s string) *string { return &s }

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// What each provider's sale sample (as saleEvent sends it) records.
type saleSample struct{ email, name, product, amount, commission string }

var sales = map[string]saleSample{
	"stripe":       {"Bea.Buyer@example.com", "Bea Buyer", "Pro plan (lifetime)", "49.00", "9.80"},
	"paddle":       {"", "", "AeroEdit Pro", "31.90", "6.38"},
	"lemonsqueezy": {"hana@example.jp", "Hana Sato", "Pixel Icons Pro", "39.20", "7.84"},
}

// saleEvent is a first sale of provider p paid at at, with order id order,
// carrying referral ref ("" = none) and nothing else that could attribute
// it (no discount; a customer of its own, named after the order); edits
// come after.
func (e *integ) saleEvent(p, order, ref string, at time.Time, edits ...any) []byte {
	e.t.Helper()
	var base []any
	switch p {
	case "stripe":
		// A one-time Checkout: the order is its payment intent.
		base = []any{"@payment_intent", order, "@metadata.spiffy_referral", drop, "@client_reference_id", nil, "@discounts", []any{}}
		if ref != "" {
			base = append(base, "@metadata.spiffy_referral", ref)
		}
		return e.event(p, "checkout.session.completed-payment-2025-03-31.json", at, append(base, edits...)...)
	case "paddle":
		base = []any{"@id", order, "@custom_data.spiffy_referral", ref, "@discount_id", nil,
			"@customer_id", "ctm_" + order, "@subscription_id", "sub_" + order}
		if ref == "" {
			base[3] = drop
		}
		return e.event(p, "transaction.completed.json", at, append(base, edits...)...)
	case "lemonsqueezy":
		base = []any{"data.id", order, "meta.custom_data.spiffy_referral", ref, "included", []any{}, "@customer_id", "cus-" + order}
		if ref == "" {
			base[3] = drop
		}
		return e.event(p, "order_created.json", at, append(base, edits...)...)
	}
	e.t.Fatalf("no provider %q", p)
	return nil
}

// wantSale checks a purchase recorded from saleEvent.
func (e *integ) wantSale(p string, got web.PurchaseJSON, order string, af *store.Affiliate, code string, at time.Time) {
	e.t.Helper()
	s := sales[p]
	want := web.PurchaseJSON{OrderID: order, Program: e.shop.ID, RefundedAmount: "0.00", PurchasedAt: rfc(at)}
	want.Email, want.Name, want.Product, want.Amount, want.Currency = s.email, s.name, s.product, s.amount, "USD"
	want.Commission, want.Status, want.ReferralCode = "0.00", "paid", ""
	if af != nil {
		want.Affiliate, want.Commission, want.ReferralCode = ptr(af.ID), s.commission, code
	}
	wantPurchase(e.t, got, want)
	if af != nil {
		e.oneCommission(got, "sale", s.commission, "pending")
	}
	if k := e.storedKind(got.ID); k != "sale" {
		e.t.Fatalf("purchase %s kind %q, want sale", got.ID, k)
	}
}

func TestIntegrationNotConfigured(t *testing.T) {
	env, _ := newEnv(t)
	e := &integ{Env: env, t: t}
	for _, p := range providers {
		body := []byte(`{"id":"evt_1","object":"event","type":"customer.created","data":{"object":{}}}`)
		wantError(t, e.post(p, body, sign(p, body, 0)), http.StatusNotFound, "integration_not_configured")
	}
	wantError(t, e.post("paypal", []byte(`{}`), ""), http.StatusNotFound, "integration_not_found")

	// A secret pasted in Settings connects that provider alone.
	if err := env.App.SetIntegrationSecret("stripe", " "+stripeSecret+"\n"); err != nil {
		t.Fatal(err)
	}
	body := e.event("stripe", "customer.created-2025-03-31.json", t0)
	if r := e.deliver("stripe", body); r.Outcome != provider.OutcomeIgnored {
		t.Fatalf("stripe after its secret was set: %+v", r)
	}
	body = e.event("paddle", "subscription.created.json", t0)
	wantError(t, e.post("paddle", body, sign("paddle", body, 0)), http.StatusNotFound, "integration_not_configured")
	// Removing it disconnects it again.
	if err := env.App.SetIntegrationSecret("stripe", ""); err != nil {
		t.Fatal(err)
	}
	body = e.event("stripe", "customer.created-2025-03-31.json", t0)
	wantError(t, e.post("stripe", body, sign("stripe", body, 0)), http.StatusNotFound, "integration_not_configured")

	// A secret in the config wins, and Settings cannot change it.
	cfgd := newInteg(t)
	if err := cfgd.App.SetIntegrationSecret("paddle", "pdl_other"); err == nil {
		t.Fatal("Settings changed a secret set in the config")
	}
	cfgd.deliver("paddle", cfgd.event("paddle", "subscription.created.json", t0))
}

func TestIntegrationSignatureRefused(t *testing.T) {
	e := newInteg(t)
	at := t0.Add(time.Hour)
	for i, p := range providers {
		e.sub(p, func(t *testing.T) {
			order := fmt.Sprintf("sig%d", i)
			body := e.saleEvent(p, order, e.click("ann"), at)
			tampered := append([]byte(nil), body...)
			if n := strings.Index(string(tampered), `"Pro plan`); p == "stripe" && n > 0 {
				tampered[n+1] = 'B' // a changed byte after signing
			} else {
				tampered = append(tampered, ' ')
			}
			cases := []struct{ name, header string }{
				{"missing", ""},
				{"garbage", "not-a-signature"},
				{"signed with another secret", map[string]string{
					"stripe":       providertest.Stripe(body, "whsec_wrong", time.Now()),
					"paddle":       providertest.Paddle(body, "pdl_ntfset_wrong", time.Now()),
					"lemonsqueezy": providertest.LemonSqueezy(body, "wrong")}[p]},
				{"another body's signature", sign(p, tampered, 0)},
			}
			if p != "lemonsqueezy" { // Lemon Squeezy signs no time
				cases = append(cases, struct{ name, header string }{"stale", sign(p, body, 301*time.Second)})
			}
			if p == "paddle" {
				cases = append(cases, struct{ name, header string }{"from the future", sign(p, body, -301*time.Second)},
					struct{ name, header string }{"no timestamp", "h1=" + strings.SplitN(sign(p, body, 0), "h1=", 2)[1]})
			}
			if p == "stripe" {
				cases = append(cases, struct{ name, header string }{"no v1 signature",
					strings.Replace(sign(p, body, 0), "v1=", "v0=", 1)})
			}
			purchases, events := e.counts()
			for _, tc := range cases {
				wantError(t, e.post(p, body, tc.header), http.StatusBadRequest, "invalid_signature")
				if np, ne := e.counts(); np != purchases || ne != events {
					t.Fatalf("%s: %d purchases and %d events after a refused event, had %d and %d", tc.name, np, ne, purchases, events)
				}
			}
			// The same body, signed right (4 minutes ago: within the
			// tolerance), is a sale: what was refused would have been stored.
			rec := e.post(p, body, sign(p, body, 4*time.Minute))
			apptest.Expect(t, rec, http.StatusOK)
			if np, ne := e.counts(); np != purchases+1 || ne != events+1 {
				t.Fatalf("a good signature: %d purchases and %d events, had %d and %d", np, ne, purchases, events)
			}
			// The refusals are listed for the merchant.
			views, err := e.App.Integrations()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range views {
				if v.Provider == p && len(v.Refused) < len(cases) {
					t.Fatalf("%s: %d refusals listed, want %d", p, len(v.Refused), len(cases))
				}
			}
		})
	}
}

// During a secret roll Stripe signs with both secrets; either may be ours.
func TestIntegrationStripeSecretRoll(t *testing.T) {
	e := newInteg(t)
	at := time.Now()
	body := e.saleEvent("stripe", "pi_roll", e.click("ann"), t0.Add(time.Hour))
	old := providertest.Stripe(body, "whsec_old_secret", at)
	cur := providertest.Stripe(body, stripeSecret, at)
	header := old + "," + cur[strings.Index(cur, "v1="):]
	apptest.Expect(t, e.post("stripe", body, header), http.StatusOK)
	if n, _ := e.counts(); n != 1 {
		t.Fatalf("%d purchases, want 1", n)
	}
}

func TestIntegrationBodyTooLarge(t *testing.T) {
	e := newInteg(t)
	for _, p := range providers {
		body := []byte(`{"id":"evt_big","pad":"` + strings.Repeat("x", 1<<20) + `"}`)
		wantError(t, e.post(p, body, sign(p, body, 0)), http.StatusRequestEntityTooLarge, "payload_too_large")
	}
	if np, ne := e.counts(); np != 0 || ne != 0 {
		t.Fatalf("%d purchases, %d events after oversized bodies", np, ne)
	}
}

// Event types Spiffy does not use (and sales not paid yet) are answered 200
// and store nothing but the log line.
func TestIntegrationUnusedEvents(t *testing.T) {
	e := newInteg(t)
	ref := e.click("ann")
	cases := []struct{ p, sample string }{
		{"stripe", "customer.created-2025-03-31.json"},
		{"stripe", "v2.thin-event.json"},
		{"stripe", "checkout.session.completed-unpaid-2024-06-20.json"},
		{"paddle", "subscription.created.json"},
		{"paddle", "adjustment.created-credit.json"},
		{"paddle", "transaction.completed-payment_method_change.json"},
		{"lemonsqueezy", "subscription_created.json"},
		{"lemonsqueezy", "order_created-pending.json"},
		{"lemonsqueezy", "subscription_payment_success-initial.json"},
	}
	for _, tc := range cases {
		e.sub(tc.p+"/"+tc.sample, func(t *testing.T) {
			_, events := e.counts()
			body := e.event(tc.p, tc.sample, t0.Add(time.Hour), "meta.custom_data.spiffy_referral", ref)
			if tc.p == "stripe" && tc.sample == "v2.thin-event.json" {
				body = e.event(tc.p, tc.sample, t0.Add(time.Hour)) // a thin event has no object
			}
			if r := e.deliverNothing(tc.p, body); r.Outcome != provider.OutcomeIgnored {
				t.Fatalf("outcome %q, want %q", r.Outcome, provider.OutcomeIgnored)
			}
			if _, n := e.counts(); n != events+1 {
				t.Fatalf("%d events logged, want %d", n, events+1)
			}
		})
	}
}

func TestIntegrationSameEventTwice(t *testing.T) {
	e := newInteg(t)
	at := t0.Add(time.Hour)
	for i, p := range providers {
		e.sub(p, func(t *testing.T) {
			body := e.saleEvent(p, fmt.Sprintf("twice%d", i), e.click("ann"), at)
			first := e.deliverSale(p, body)
			purchases, events := e.counts()
			for range 2 {
				r := e.deliver(p, body) // the provider's retry: the same event, signed afresh
				if !r.Duplicate || r.Purchase != "" {
					t.Fatalf("the same event again: %+v, want a duplicate", r)
				}
			}
			if np, ne := e.counts(); np != purchases || ne != events {
				t.Fatalf("after retries: %d purchases, %d events; had %d, %d", np, ne, purchases, events)
			}
			e.oneCommission(first, "sale", sales[p].commission, "pending")
		})
	}
}

// sub runs fn as a subtest with e reporting to it.
func (e *integ) sub(name string, fn func(t *testing.T)) {
	outer := e.t
	outer.Helper()
	outer.Run(name, func(t *testing.T) {
		e.t = t
		defer func() { e.t = outer }()
		fn(t)
	})
	e.t = outer
}

// A sale carrying a referral is the referring affiliate's when the sale is
// within the program's window of the click, and is not stored otherwise
// (nothing else matches it).
func TestIntegrationReferral(t *testing.T) {
	e := newInteg(t)
	for _, p := range providers {
		e.sub(p, func(t *testing.T) {
			at := t0.Add(time.Hour)
			ref := e.click("ann")
			order := p + "-in"
			got := e.deliverSale(p, e.saleEvent(p, order, ref, at))
			e.wantSale(p, got, order, e.ann, "ann", at)
			if got.SubID != "launch" {
				t.Fatalf("sub id %q, want the click's", got.SubID)
			}

			// The click's window is 30 days: a day later it is over.
			r := e.deliverNothing(p, e.saleEvent(p, p+"-late", ref, t0.AddDate(0, 0, 31)))
			if r.Outcome != provider.OutcomeUnattributed {
				t.Fatalf("outcome %q, want %q", r.Outcome, provider.OutcomeUnattributed)
			}
			// A sale before the click is not the click's either.
			e.deliverNothing(p, e.saleEvent(p, p+"-before", ref, t0.Add(-time.Minute)))
			// Nor is an unknown referral, nor one that is no id at all.
			e.deliverNothing(p, e.saleEvent(p, p+"-unknown", store.NewID(t0), at))
			e.deliverNothing(p, e.saleEvent(p, p+"-junk", "ref'); drop table", at))
		})
	}

	// Stripe carries the referral in client_reference_id (Payment Links,
	// the pricing table), in the session's metadata, or in the Customer's
	// metadata when the customer is expanded.
	at := t0.Add(2 * time.Hour)
	e.sub("stripe places", func(t *testing.T) {
		ref := e.click("bob")
		for _, tc := range []struct {
			order string
			edits []any
		}{
			{"pi_client_ref", []any{"@client_reference_id", ref}},
			{"pi_metadata", []any{"@metadata.spiffy_referral", ref}},
			{"pi_customer", []any{"@customer", map[string]any{"id": "cus_meta", "object": "customer", "metadata": map[string]any{"spiffy_referral": ref}}}},
		} {
			got := e.deliverSale("stripe", e.saleEvent("stripe", tc.order, "", at, tc.edits...))
			e.wantSale("stripe", got, tc.order, e.bob, "bob", at)
		}
	})
	// A referral of a program that was deleted, or of an affiliate blocked
	// since, attributes nothing.
	e.sub("blocked affiliate", func(t *testing.T) {
		ref := e.click("bob")
		apptest.Expect(t, e.API(http.MethodPatch, "/affiliates/"+e.bob.ID, map[string]string{"status": "blocked"}), http.StatusOK)
		e.deliverNothing("stripe", e.saleEvent("stripe", "pi_blocked", ref, at))
		apptest.Expect(t, e.API(http.MethodPatch, "/affiliates/"+e.bob.ID, map[string]string{"status": "active"}), http.StatusOK)
		e.deliverSale("stripe", e.saleEvent("stripe", "pi_unblocked", ref, at))
	})
}

// A sale that matches nothing — no referral, coupon, customer or lead — is
// answered 200, logged, and not stored.
func TestIntegrationUnattributed(t *testing.T) {
	e := newInteg(t)
	e.lead("ann", "someone.else@example.com")
	for _, p := range providers {
		e.sub(p, func(t *testing.T) {
			_, events := e.counts()
			r := e.deliverNothing(p, e.saleEvent(p, p+"-none", "", t0.Add(time.Hour)))
			if r.Outcome != provider.OutcomeUnattributed {
				t.Fatalf("outcome %q, want %q", r.Outcome, provider.OutcomeUnattributed)
			}
			if _, n := e.counts(); n != events+1 {
				t.Fatalf("%d events logged, want %d", n, events+1)
			}
			rec := e.API(http.MethodGet, "/commissions", nil)
			apptest.Expect(t, rec, http.StatusOK)
			if cs := apptest.Decode[web.Page[web.CommissionJSON]](t, rec).Data; len(cs) != 0 {
				t.Fatalf("commissions %+v", cs)
			}
		})
	}
}

// A coupon or promotion code of an enrolment attributes a sale, any time,
// cookie or not, in any case; a referral comes first.
func TestIntegrationCoupon(t *testing.T) {
	e := newInteg(t)
	cy := e.Affiliate("Cy Doe", "cy@partner.example.com", "")
	e.enroll(e.shop, cy, "cy", "promo_1R8nWzB7WZ01zgkWJANE20", http.StatusCreated)
	dee := e.Affiliate("Dee Poe", "dee@partner.example.com", "")
	e.enroll(e.shop, dee, "dee", "dsc_01hv6scyf7qdnzcdq01t2y8dx4", http.StatusCreated)
	late := t0.AddDate(1, 2, 0) // no click anywhere near
	cases := []struct {
		name, p, order string
		edits          []any
		af             *store.Affiliate
		code           string
	}{
		// Stripe: a session's discounts name the promotion code by id, or
		// (expanded) with its code, or the coupon's id.
		{"stripe promotion code id", "stripe", "pi_promo_id", []any{"@discounts", []any{map[string]any{"coupon": nil, "promotion_code": "promo_1R8nWzB7WZ01zgkWJANE20"}}}, cy, "cy"},
		{"stripe promotion code", "stripe", "pi_promo_code", []any{"@discounts", []any{map[string]any{"coupon": nil,
			"promotion_code": map[string]any{"id": "promo_1Other", "object": "promotion_code", "code": "ann20"}}}}, e.ann, "ann"},
		{"stripe coupon id", "stripe", "pi_coupon", []any{"@discounts", []any{map[string]any{"coupon": "Ann20", "promotion_code": nil}}}, e.ann, "ann"},
		// Paddle: the transaction's discount_id, or the included discount's code.
		{"paddle discount id", "paddle", "txn_discount_id", []any{"@discount_id", "dsc_01hv6scyf7qdnzcdq01t2y8dx4"}, dee, "dee"},
		{"paddle discount code", "paddle", "txn_discount_code", []any{"@discount_id", "dsc_other", "@discount", map[string]any{"id": "dsc_other", "code": "ANN20"}}, e.ann, "ann"},
		// Lemon Squeezy: the included discount redemptions' codes.
		{"lemonsqueezy discount code", "lemonsqueezy", "3300001", []any{"included", []any{map[string]any{"type": "discount-redemptions", "id": "1",
			"attributes": map[string]any{"discount_code": "ann20"}}}}, e.ann, "ann"},
	}
	for _, tc := range cases {
		e.sub(tc.name, func(t *testing.T) {
			got := e.deliverSale(tc.p, e.saleEvent(tc.p, tc.order, "", late, tc.edits...))
			e.wantSale(tc.p, got, tc.order, tc.af, tc.code, late)
		})
	}
	e.sub("referral first", func(t *testing.T) {
		at := t0.Add(time.Hour)
		got := e.deliverSale("stripe", e.saleEvent("stripe", "pi_both", e.click("bob"), at,
			"@discounts", []any{map[string]any{"promotion_code": "promo_1R8nWzB7WZ01zgkWJANE20"}}))
		e.wantSale("stripe", got, "pi_both", e.bob, "bob", at)
		// An expired referral falls through to the coupon.
		got = e.deliverSale("stripe", e.saleEvent("stripe", "pi_expired_ref", e.click("bob"), t0.AddDate(0, 0, 40),
			"@discounts", []any{map[string]any{"promotion_code": "promo_1R8nWzB7WZ01zgkWJANE20"}}))
		e.wantSale("stripe", got, "pi_expired_ref", cy, "cy", t0.AddDate(0, 0, 40))
	})
	e.sub("unknown code", func(t *testing.T) {
		e.deliverNothing("stripe", e.saleEvent("stripe", "pi_nocode", "", late,
			"@discounts", []any{map[string]any{"promotion_code": "promo_unknown"}}))
	})
}

// Failing the rest, a sale is the newest lead's with the buyer's email, in
// any program, while that lead is within its program's window.
func TestIntegrationLeadEmail(t *testing.T) {
	e := newInteg(t)
	other := e.Program("Other", func(in *app.ProgramInput) {
		in.CommissionValue, in.TrackLeads, in.CookieDays = apptest.Ptr("10"), apptest.Ptr(true), apptest.Ptr(7)
	})
	e.enroll(other, e.bob, "bob-other", "", http.StatusCreated)
	emails := map[string]string{"stripe": "Bea.Buyer@example.com", "paddle": "pat@example.com", "lemonsqueezy": "hana@example.jp"}
	for i, p := range providers {
		e.sub(p, func(t *testing.T) {
			start := t0.AddDate(0, 0, 100*i)
			e.Clock.Set(start)
			email := emails[p]
			var edits []any
			if p == "paddle" { // Paddle sends the customer only when included
				edits = []any{"@customer", map[string]any{"id": "ctm_x", "email": email, "name": "Pat Payer"}}
			}
			// Ann's lead in Shop (30 days), then Bob's in Other (7 days),
			// with the email in another case.
			e.lead("ann", strings.ToUpper(email))
			e.Clock.Set(start.Add(24 * time.Hour))
			e.lead("bob-other", email)

			at := start.AddDate(0, 0, 3)
			got := e.deliverSale(p, e.saleEvent(p, p+"-lead-1", "", at, edits...))
			if got.Program != other.ID || affiliateOf(got) != e.bob.ID || got.ReferralCode != "bob-other" {
				t.Fatalf("sale within both windows: %+v, want Bob's in Other (the newest lead)", got)
			}
			want := map[string]string{"stripe": "4.90", "paddle": "3.19", "lemonsqueezy": "3.92"}[p]
			if got.Commission != want {
				t.Fatalf("commission %s, want Other's 10%% = %s", got.Commission, want)
			}
			// Past Other's 7 days, Ann's older lead in Shop still holds.
			at = start.AddDate(0, 0, 10)
			got = e.deliverSale(p, e.saleEvent(p, p+"-lead-2", "", at, edits...))
			if got.Program != e.shop.ID || affiliateOf(got) != e.ann.ID || got.ReferralCode != "ann" {
				t.Fatalf("sale past Other's window: %+v, want Ann's in Shop", got)
			}
			// Past both windows: nothing.
			e.deliverNothing(p, e.saleEvent(p, p+"-lead-3", "", start.AddDate(0, 0, 40), edits...))
			// A lead made after the sale does not count.
			e.deliverNothing(p, e.saleEvent(p, p+"-lead-4", "", start.Add(-time.Hour), edits...))
		})
	}
}

// Enrolments take a coupon, unique across programs in any case.
func TestEnrolmentCoupons(t *testing.T) {
	e := newInteg(t)
	other := e.Program("Other")
	cy := e.Affiliate("Cy Doe", "cy@partner.example.com", "")
	rec := e.enroll(other, cy, "cy", "Cy-Spring_25", http.StatusCreated)
	got := apptest.Decode[map[string]string](t, rec)
	if got["coupon"] != "Cy-Spring_25" || got["code"] != "cy" || !strings.Contains(got["link"], "cy") {
		t.Fatalf("enrolment answer %v, want the coupon as given", got)
	}
	apptest.RunScenarios(t, e.APISender(), []apptest.Scenario{
		{Name: "coupon taken in this program", Path: "/programs/" + e.shop.ID + "/affiliates", Body: map[string]string{"affiliate_id": cy.ID, "coupon": "ann20"},
			Status: http.StatusConflict, Code: "duplicate_coupon"},
		{Name: "coupon taken in another program, other case", Path: "/programs/" + e.shop.ID + "/affiliates", Body: map[string]string{"affiliate_id": cy.ID, "coupon": "CY-SPRING_25"},
			Status: http.StatusConflict, Code: "duplicate_coupon"},
		{Name: "another affiliate, same coupon", Path: "/programs/" + other.ID + "/affiliates", Body: map[string]string{"affiliate_id": e.bob.ID, "coupon": "cy-spring_25"},
			Status: http.StatusConflict, Code: "duplicate_coupon"},
		{Name: "spaces", Path: "/programs/" + other.ID + "/affiliates", Body: map[string]string{"affiliate_id": e.bob.ID, "coupon": "TWO WORDS"},
			Status: http.StatusBadRequest, Code: "invalid_coupon"},
		{Name: "one character", Path: "/programs/" + other.ID + "/affiliates", Body: map[string]string{"affiliate_id": e.bob.ID, "coupon": "X"},
			Status: http.StatusBadRequest, Code: "invalid_coupon"},
		{Name: "too long", Path: "/programs/" + other.ID + "/affiliates", Body: map[string]string{"affiliate_id": e.bob.ID, "coupon": strings.Repeat("a", 65)},
			Status: http.StatusBadRequest, Code: "invalid_coupon"},
		{Name: "not a string", Path: "/programs/" + other.ID + "/affiliates", Body: `{"affiliate_id":"` + e.bob.ID + `","coupon":42}`,
			Status: http.StatusBadRequest},
	})
	// Nothing refused was kept: Bob is not in Other, Cy's coupon is Cy's.
	pur := postPurchase(t, e.Env, map[string]string{"order_id": "c-1", "program": other.ID, "email": "x@example.com", "amount": "10.00", "currency": "USD", "coupon": "cy-spring_25"}, http.StatusCreated)
	if affiliateOf(pur) != cy.ID {
		t.Fatalf("purchase with Cy's coupon: %+v", pur)
	}
	// Enrolling again without a coupon keeps it; with another one, changes it.
	rec = e.enroll(other, cy, "cy", "", http.StatusCreated)
	if got := apptest.Decode[map[string]string](t, rec); got["coupon"] != "Cy-Spring_25" {
		t.Fatalf("re-enrolment without a coupon answered %v", got)
	}
	e.enroll(other, cy, "cy", "CY-SUMMER", http.StatusCreated)
	e.enroll(other, e.bob, "bob-other", "cy-spring_25", http.StatusCreated) // free again
}

// POST /api/v1/purchases takes a coupon: referral id → coupon (any time) →
// visitor → lead email → unattributed.
func TestPurchaseAPICoupon(t *testing.T) {
	e := newInteg(t)
	other := e.Program("Other")
	cy := e.Affiliate("Cy Doe", "cy@partner.example.com", "")
	e.enroll(other, cy, "cy", "CYOTHER", http.StatusCreated)
	bobRef := postClick(t, e.Env, map[string]string{"ref": "bob", "vid": "visitor-bob"}).Referral
	e.lead("bob", "lead@example.com")
	late := t0.AddDate(2, 0, 0).Format(time.RFC3339)
	cases := []struct {
		name string
		body map[string]string
		af   *store.Affiliate
		code string
	}{
		{"referral beats coupon", map[string]string{"referral": bobRef, "coupon": "ANN20"}, e.bob, "bob"},
		{"coupon beats visitor", map[string]string{"vid": "visitor-bob", "coupon": "ann20"}, e.ann, "ann"},
		{"coupon beats lead", map[string]string{"email": "lead@example.com", "coupon": " Ann20 "}, e.ann, "ann"},
		{"coupon any time", map[string]string{"coupon": "ANN20", "purchased_at": late}, e.ann, "ann"},
		{"expired referral, then coupon", map[string]string{"referral": bobRef, "coupon": "ANN20", "purchased_at": late}, e.ann, "ann"},
		{"unknown coupon falls through to the visitor", map[string]string{"vid": "visitor-bob", "coupon": "NOPE"}, e.bob, "bob"},
		{"another program's coupon falls through to the lead", map[string]string{"email": "lead@example.com", "coupon": "CYOTHER"}, e.bob, "bob"},
		{"nothing", map[string]string{"coupon": "NOPE"}, nil, ""},
	}
	for i, tc := range cases {
		e.sub(tc.name, func(t *testing.T) {
			body := map[string]string{"order_id": fmt.Sprintf("api-%d", i), "program": e.shop.ID, "email": fmt.Sprintf("buyer%d@example.com", i),
				"amount": "50.00", "currency": "usd"}
			for k, v := range tc.body {
				body[k] = v
			}
			got := postPurchase(t, e.Env, body, http.StatusCreated)
			if tc.af == nil {
				if got.Affiliate != nil || got.Commission != "0.00" {
					t.Fatalf("purchase %+v, want unattributed", got)
				}
				return
			}
			if affiliateOf(got) != tc.af.ID || got.ReferralCode != tc.code || got.Commission != "10.00" || got.Currency != "USD" {
				t.Fatalf("purchase %+v, want %s's (%s) with 10.00", got, tc.af.Name, tc.code)
			}
			e.oneCommission(got, "sale", "10.00", "pending")
		})
	}
	apptest.RunScenarios(t, e.APISender(), []apptest.Scenario{
		{Name: "coupon too long", Path: "/purchases", Body: map[string]string{"order_id": "long", "program": e.shop.ID, "email": "a@example.com",
			"amount": "1.00", "currency": "USD", "coupon": strings.Repeat("c", 65)}, Status: http.StatusBadRequest, Code: "invalid_coupon"},
	})
	// In the program of the coupon, it attributes.
	got := postPurchase(t, e.Env, map[string]string{"order_id": "cy-1", "program": other.ID, "email": "o@example.com", "amount": "50.00", "currency": "USD", "coupon": "cyother"}, http.StatusCreated)
	if affiliateOf(got) != cy.ID {
		t.Fatalf("purchase in Other with Cy's coupon: %+v", got)
	}
}

// Stripe subscription ids of the samples.
const (
	subCheckoutInvoice = "in_1SDk2qB7WZ01zgkWq4a5Fh2L"
	subCheckoutCust    = "cus_Sz1q5Hn3Jd7KpA"
	subCheckoutSub     = "sub_1SDk2qB7WZ01zgkWc8NnA1bT"
)

// subscriptionCheckout is a subscription's Checkout Session (API
// 2025-09-30, a Payment Link: the referral in client_reference_id), 29.00
// EUR, for invoice inv, customer cus and subscription sub.
func (e *integ) subscriptionCheckout(ref, inv, cus, sub string, at time.Time) []byte {
	return e.event("stripe", "checkout.session.completed-subscription-2025-09-30.json", at,
		"@client_reference_id", ref, "@invoice", inv, "@customer", cus, "@subscription", sub, "@discounts", []any{})
}

// firstInvoice is that subscription's first invoice.paid (API 2025-03-31:
// subscription under parent), without a referral of its own.
func (e *integ) firstInvoice(inv, cus, sub string, at time.Time) []byte {
	return e.event("stripe", "invoice.paid-subscription_create-2025-03-31.json", at,
		"@id", inv, "@customer", cus, "@parent.subscription_details.subscription", sub,
		"@parent.subscription_details.metadata", map[string]any{}, "@amount_paid", 2900, "@currency", "eur",
		"@customer_email", "claire@example.fr", "@customer_name", "Claire Dupont")
}

// A subscription's first payment arrives twice — checkout.session.completed
// and invoice.paid (billing_reason subscription_create), in either order —
// and is one purchase.
func TestIntegrationStripeCheckoutAndFirstInvoice(t *testing.T) {
	e := newInteg(t)
	at := t0.Add(time.Hour)
	wantOne := func(t *testing.T, p web.PurchaseJSON, inv string) {
		t.Helper()
		want := web.PurchaseJSON{OrderID: inv, Program: e.shop.ID, Affiliate: ptr(e.ann.ID), RefundedAmount: "0.00", PurchasedAt: rfc(at)}
		want.Email, want.Name, want.Amount, want.Currency, want.Commission, want.Status, want.ReferralCode =
			"claire@example.fr", "Claire Dupont", "29.00", "EUR", "5.80", "paid", "ann"
		if p.Product != "" {
			want.Product = p.Product
		}
		wantPurchase(t, p, want)
		e.oneCommission(p, "sale", "5.80", "pending")
	}
	e.sub("checkout first", func(t *testing.T) {
		ref := e.click("ann")
		p := e.deliverSale("stripe", e.subscriptionCheckout(ref, "in_a", "cus_a", "sub_a", at))
		wantOne(t, p, "in_a")
		r := e.deliver("stripe", e.firstInvoice("in_a", "cus_a", "sub_a", at.Add(time.Second)))
		if r.Outcome != provider.OutcomeKnownOrder || r.Purchase != p.ID {
			t.Fatalf("invoice.paid after the checkout: %+v, want the same purchase", r)
		}
		if n, _ := e.counts(); n != 1 {
			t.Fatalf("%d purchases, want 1", n)
		}
		wantOne(t, e.purchase(p.ID), "in_a")
	})
	e.sub("invoice first, referral only on the session", func(t *testing.T) {
		ref := e.click("ann")
		e.deliverNothing("stripe", e.firstInvoice("in_b", "cus_b", "sub_b", at))
		p := e.deliverSale("stripe", e.subscriptionCheckout(ref, "in_b", "cus_b", "sub_b", at))
		wantOne(t, p, "in_b")
		if n, _ := e.counts(); n != 2 {
			t.Fatalf("%d purchases, want 2", n)
		}
	})
	e.sub("invoice first, referral in the subscription's metadata", func(t *testing.T) {
		ref := e.click("ann")
		inv := e.event("stripe", "invoice.paid-subscription_create-2025-03-31.json", at,
			"@id", "in_c", "@customer", "cus_c", "@parent.subscription_details.subscription", "sub_c",
			"@parent.subscription_details.metadata.spiffy_referral", ref, "@amount_paid", 2900, "@currency", "eur",
			"@customer_email", "claire@example.fr", "@customer_name", "Claire Dupont")
		p := e.deliverSale("stripe", inv)
		if p.Product != "Team plan" {
			t.Fatalf("product %q, want the subscription metadata's", p.Product)
		}
		wantOne(t, p, "in_c")
		r := e.deliver("stripe", e.subscriptionCheckout(ref, "in_c", "cus_c", "sub_c", at))
		if r.Outcome != provider.OutcomeKnownOrder || r.Purchase != p.ID {
			t.Fatalf("checkout after its invoice: %+v, want the same purchase", r)
		}
		if n, _ := e.counts(); n != 3 {
			t.Fatalf("%d purchases, want 3", n)
		}
	})
	e.sub("the invoice names the customer the session did not", func(t *testing.T) {
		p := e.deliverSale("stripe", e.subscriptionCheckout(e.click("ann"), "in_d", "", "", at))
		if r := e.deliver("stripe", e.firstInvoice("in_d", "cus_d", "sub_d", at)); r.Purchase != p.ID {
			t.Fatalf("invoice.paid: %+v", r)
		}
		// So its renewals are known.
		renewal := e.deliverSale("stripe", e.event("stripe", "invoice.paid-subscription_cycle-2025-03-31.json", at.AddDate(0, 1, 0),
			"@id", "in_d2", "@customer", "cus_d", "@parent.subscription_details.subscription", "sub_d"))
		if affiliateOf(renewal) != e.ann.ID || e.storedKind(renewal.ID) != "renewal" {
			t.Fatalf("renewal %+v", renewal)
		}
	})
}

// Renewals are the customer's (or subscription's) first sale's affiliate's
// within the program's recurring_months, as renewal purchases with renewal
// commissions; after that, or with recurring_months 0, they are not stored.
func TestIntegrationRenewals(t *testing.T) {
	first := t0.Add(time.Hour)
	within := first.AddDate(0, 11, 27)
	after := first.AddDate(1, 0, 1)
	type flow struct {
		name       string
		p          string
		firstSale  func(e *integ, ref string) []byte
		renewal    func(e *integ, n int, at time.Time) []byte
		order      func(n int) string
		amount     string // the renewal's
		currency   string
		commission string // 20% of it
	}
	flows := []flow{
		{name: "stripe new shape (parent.subscription_details.subscription)", p: "stripe",
			firstSale: func(e *integ, ref string) []byte {
				return e.subscriptionCheckout(ref, subCheckoutInvoice, subCheckoutCust, subCheckoutSub, first)
			},
			// Another customer id: only the subscription can match.
			renewal: func(e *integ, n int, at time.Time) []byte {
				return e.event("stripe", "invoice.paid-subscription_cycle-2025-03-31.json", at, "@id", fmt.Sprintf("in_renew%d", n),
					"@customer", "cus_moved", "@parent.subscription_details.subscription", subCheckoutSub)
			},
			order: func(n int) string { return fmt.Sprintf("in_renew%d", n) }, amount: "49.00", currency: "USD", commission: "9.80"},
		{name: "stripe old shape (subscription)", p: "stripe",
			firstSale: func(e *integ, ref string) []byte {
				return e.event("stripe", "invoice.paid-subscription_create-2023-10-16.json", first,
					"@subscription_details.metadata.spiffy_referral", ref)
			},
			renewal: func(e *integ, n int, at time.Time) []byte {
				return e.event("stripe", "invoice.paid-subscription_cycle-2023-10-16.json", at, "@id", fmt.Sprintf("in_old%d", n),
					"@customer", "cus_moved", "@payment_intent", fmt.Sprintf("pi_old%d", n))
			},
			order: func(n int) string { return fmt.Sprintf("in_old%d", n) }, amount: "25.00", currency: "USD", commission: "5.00"},
		{name: "stripe by customer", p: "stripe",
			firstSale: func(e *integ, ref string) []byte {
				return e.subscriptionCheckout(ref, "in_cust_first", "cus_loyal", "sub_first", first)
			},
			renewal: func(e *integ, n int, at time.Time) []byte {
				return e.event("stripe", "invoice.paid-subscription_cycle-2025-03-31.json", at, "@id", fmt.Sprintf("in_cust%d", n),
					"@customer", "cus_loyal", "@parent.subscription_details.subscription", "sub_unknown")
			},
			order: func(n int) string { return fmt.Sprintf("in_cust%d", n) }, amount: "49.00", currency: "USD", commission: "9.80"},
		{name: "paddle subscription_recurring", p: "paddle",
			firstSale: func(e *integ, ref string) []byte {
				return e.saleEvent("paddle", "txn_first", ref, first, "@customer_id", "ctm_renew", "@subscription_id", "sub_renew")
			},
			renewal: func(e *integ, n int, at time.Time) []byte {
				return e.event("paddle", "transaction.completed-subscription_recurring.json", at, "@id", fmt.Sprintf("txn_renew%d", n),
					"@customer_id", "ctm_renew", "@subscription_id", "sub_renew", "@custom_data", nil)
			},
			order: func(n int) string { return fmt.Sprintf("txn_renew%d", n) }, amount: "33.00", currency: "USD", commission: "6.60"},
		{name: "lemonsqueezy subscription_payment_success", p: "lemonsqueezy",
			firstSale: func(e *integ, ref string) []byte {
				return e.saleEvent("lemonsqueezy", "4400001", ref, first, "@customer_id", 555001)
			},
			renewal: func(e *integ, n int, at time.Time) []byte {
				return e.event("lemonsqueezy", "subscription_payment_success-renewal.json", at, "data.id", fmt.Sprint(1100000+n),
					"@customer_id", 555001, "meta.custom_data", map[string]any{})
			},
			order: func(n int) string { return fmt.Sprintf("subscription-invoice-%d", 1100000+n) }, amount: "17.85", currency: "EUR", commission: "3.57"},
	}
	for _, f := range flows {
		t.Run(f.name, func(t *testing.T) {
			e := newInteg(t)
			sale := e.deliverSale(f.p, f.firstSale(e, e.click("ann")))
			if affiliateOf(sale) != e.ann.ID {
				t.Fatalf("first sale %+v", sale)
			}

			for n, at := range []time.Time{first.AddDate(0, 1, 0), within} {
				p := e.deliverSale(f.p, f.renewal(e, n, at))
				want := web.PurchaseJSON{OrderID: f.order(n), Program: e.shop.ID, Affiliate: ptr(e.ann.ID), RefundedAmount: "0.00", PurchasedAt: rfc(at)}
				want.Email, want.Name, want.Product, want.Amount, want.Currency, want.Commission, want.Status, want.ReferralCode =
					p.Email, p.Name, p.Product, f.amount, f.currency, f.commission, "paid", "ann"
				wantPurchase(t, p, want)
				if k := e.storedKind(p.ID); k != "renewal" {
					t.Fatalf("renewal stored as %q", k)
				}
				c := e.oneCommission(p, "renewal", f.commission, "pending")
				if c.ApproveAt != rfc(at.AddDate(0, 0, 7)) {
					t.Fatalf("renewal commission approve_at %s, want %s", c.ApproveAt, rfc(at.AddDate(0, 0, 7)))
				}
			}
			if r := e.deliverNothing(f.p, f.renewal(e, 7, after)); r.Outcome != provider.OutcomeUnattributed {
				t.Fatalf("renewal after recurring_months: %+v", r)
			}
			// The same renewal event again is a duplicate, not a second renewal.
			body := f.renewal(e, 8, within)
			e.deliverSale(f.p, body)
			if r := e.deliver(f.p, body); !r.Duplicate {
				t.Fatalf("the same renewal again: %+v", r)
			}
			if n, _ := e.counts(); n != 4 {
				t.Fatalf("%d purchases, want the sale and 3 renewals", n)
			}

			// In a program with recurring_months 0, renewals earn nothing.
			e0 := newInteg(t, func(in *app.ProgramInput) { in.RecurringMonths = apptest.Ptr(0) })
			if sale := e0.deliverSale(f.p, f.firstSale(e0, e0.click("ann"))); affiliateOf(sale) != e0.ann.ID {
				t.Fatalf("first sale %+v", sale)
			}
			if r := e0.deliverNothing(f.p, f.renewal(e0, 0, first.AddDate(0, 1, 0))); r.Outcome != provider.OutcomeUnattributed {
				t.Fatalf("renewal with recurring_months 0: %+v", r)
			}
		})
	}
}

// wantRefunded checks a purchase's refund and its (only) commission.
func (e *integ) wantRefunded(id, refunded, status, commission, comStatus string) {
	e.t.Helper()
	p := e.purchase(id)
	if p.RefundedAmount != refunded || p.Status != status {
		e.t.Fatalf("purchase %s: refunded %s, status %s; want %s, %s", p.OrderID, p.RefundedAmount, p.Status, refunded, status)
	}
	cs := e.commissions(id)
	if len(cs) != 1 || cs[0].Amount != commission || cs[0].Status != comStatus {
		e.t.Fatalf("commissions %+v, want one of %s %s", cs, commission, comStatus)
	}
}

// deliverRefund delivers an event that must refund purchase id (outcome
// refund recorded) or, with none true, change nothing on it.
func (e *integ) deliverRefund(p string, body []byte, id string, applied bool) {
	e.t.Helper()
	before := e.purchase(id)
	r := e.deliver(p, body)
	want := provider.OutcomeNothingNew
	if applied {
		want = provider.OutcomeRefund
	}
	if r.Outcome != want || r.Purchase != id {
		e.t.Fatalf("refund event: %+v, want %q on %s", r, want, id)
	}
	if !applied && e.purchase(id).RefundedAmount != before.RefundedAmount {
		e.t.Fatalf("an event with nothing new refunded %s → %s", before.RefundedAmount, e.purchase(id).RefundedAmount)
	}
}

func (e *integ) chargeRefunded(at time.Time, edits ...any) []byte {
	return e.event("stripe", "charge.refunded-full-2025-03-31.json", at, edits...)
}

// charge.refunded refunds up to its amount_refunded in all, finding the
// purchase by the charge's payment intent (a one-time Checkout's own, or an
// invoice's through invoice_payment.paid) or, on old API versions, by the
// charge's invoice.
func TestIntegrationStripeRefunds(t *testing.T) {
	e := newInteg(t)
	at := t0.Add(time.Hour)
	refundAt := t0.AddDate(0, 0, 2)
	e.sub("one-time payment, partial then full", func(t *testing.T) {
		sale := e.deliverSale("stripe", e.saleEvent("stripe", "pi_one", e.click("ann"), at))
		e.deliverRefund("stripe", e.chargeRefunded(refundAt, "@payment_intent", "pi_one", "@amount_refunded", 1000), sale.ID, true)
		e.wantRefunded(sale.ID, "10.00", "paid", "7.80", "pending")
		// The same cumulative amount in another event: nothing more.
		again := e.chargeRefunded(refundAt, "@payment_intent", "pi_one", "@amount_refunded", 1000)
		e.deliverRefund("stripe", again, sale.ID, false)
		if r := e.deliver("stripe", again); !r.Duplicate {
			t.Fatalf("the same event again: %+v", r)
		}
		e.wantRefunded(sale.ID, "10.00", "paid", "7.80", "pending")
		e.deliverRefund("stripe", e.chargeRefunded(refundAt, "@payment_intent", "pi_one", "@amount_refunded", 2500), sale.ID, true)
		e.wantRefunded(sale.ID, "25.00", "paid", "4.80", "pending")
		// An older, smaller total arriving late takes nothing back.
		e.deliverRefund("stripe", e.chargeRefunded(refundAt, "@payment_intent", "pi_one", "@amount_refunded", 1000), sale.ID, false)
		e.deliverRefund("stripe", e.chargeRefunded(refundAt, "@payment_intent", "pi_one", "@amount_refunded", 4900), sale.ID, true)
		e.wantRefunded(sale.ID, "49.00", "refunded", "4.80", "voided")
		e.deliverRefund("stripe", e.chargeRefunded(refundAt, "@payment_intent", "pi_one", "@amount_refunded", 4900), sale.ID, false)
	})
	e.sub("new-version invoice, by invoice_payment.paid", func(t *testing.T) {
		sale := e.deliverSale("stripe", e.subscriptionCheckout(e.click("ann"), "in_new", "cus_new", "sub_new", at))
		link := e.event("stripe", "invoice_payment.paid-2025-03-31.json", at, "@invoice", "in_new", "@payment.payment_intent", "pi_new")
		if r := e.deliverNothing("stripe", link); r.Outcome != provider.OutcomeLinked {
			t.Fatalf("invoice_payment.paid: %+v", r)
		}
		e.deliverRefund("stripe", e.chargeRefunded(refundAt, "@payment_intent", "pi_new", "@amount_refunded", 1450, "@currency", "eur"), sale.ID, true)
		e.wantRefunded(sale.ID, "14.50", "paid", "2.90", "pending")
		e.deliverRefund("stripe", e.chargeRefunded(refundAt, "@payment_intent", "pi_new", "@amount_refunded", 2900, "@currency", "eur"), sale.ID, true)
		e.wantRefunded(sale.ID, "29.00", "refunded", "2.90", "voided")
	})
	e.sub("old-version invoice, by the charge's invoice", func(t *testing.T) {
		sale := e.deliverSale("stripe", e.event("stripe", "invoice.paid-subscription_create-2023-10-16.json", at,
			"@subscription_details.metadata.spiffy_referral", e.click("ann")))
		if sale.OrderID != "in_1OVr4sB7WZ01zgkWbIqg4Qx2" || sale.Amount != "20.00" {
			t.Fatalf("old invoice: %+v", sale)
		}
		e.deliverRefund("stripe", e.event("stripe", "charge.refunded-partial-2023-10-16.json", refundAt,
			"@invoice", "in_1OVr4sB7WZ01zgkWbIqg4Qx2", "@payment_intent", nil, "@amount_refunded", 500), sale.ID, true)
		e.wantRefunded(sale.ID, "5.00", "paid", "3.00", "pending")
		// Its payment intent, from the old invoice, finds it too.
		e.deliverRefund("stripe", e.chargeRefunded(refundAt, "@payment_intent", "pi_3OVr4tB7WZ01zgkW0g2Y5bHc", "@amount_refunded", 2000), sale.ID, true)
		e.wantRefunded(sale.ID, "20.00", "refunded", "3.00", "voided")
	})
	e.sub("unknown charge", func(t *testing.T) {
		if r := e.deliverNothing("stripe", e.chargeRefunded(refundAt, "@payment_intent", "pi_nobody")); r.Outcome != provider.OutcomeNoPurchase {
			t.Fatalf("refund of an unknown payment: %+v", r)
		}
	})
	e.sub("paid commission: clawback", func(t *testing.T) {
		sale := e.deliverSale("stripe", e.saleEvent("stripe", "pi_paid", e.click("bob"), at))
		com := e.oneCommission(sale, "sale", "9.80", "pending")
		apptest.Expect(t, e.API(http.MethodPost, "/commissions/"+com.ID+"/approve", nil), http.StatusOK)
		rec := e.API(http.MethodPost, "/payouts", map[string]string{"currency": "USD", "minimum": "1.00"})
		apptest.Expect(t, rec, http.StatusCreated)
		payout := apptest.Decode[web.PayoutJSON](t, rec)
		apptest.Expect(t, e.API(http.MethodPost, "/payouts/"+payout.ID+"/paid", nil), http.StatusOK)
		e.deliverRefund("stripe", e.chargeRefunded(refundAt, "@payment_intent", "pi_paid", "@amount_refunded", 1000), sale.ID, true)
		cs := e.commissions(sale.ID)
		if len(cs) != 2 || cs[0].Kind != "clawback" || cs[0].Amount != "-2.00" || cs[0].Status != "approved" || cs[1].Status != "paid" || cs[1].Amount != "9.80" {
			t.Fatalf("commissions after refunding a paid one: %+v", cs)
		}
	})
}

// Paddle announces each refund as an adjustment, created and then updated
// under the same adjustment id: each is applied once, when approved.
func TestIntegrationPaddleRefunds(t *testing.T) {
	e := newInteg(t)
	sale := e.deliverSale("paddle", e.saleEvent("paddle", "txn_refund", e.click("ann"), t0.Add(time.Hour)))
	refundAt := t0.AddDate(0, 0, 3)
	adj := func(sample, id, status string, total string) []byte {
		return e.event("paddle", sample, refundAt, "@id", id, "@status", status, "@transaction_id", "txn_refund", "@totals.total", total)
	}
	// Pending approval: nothing yet.
	if r := e.deliverNothing("paddle", adj("adjustment.created-refund-pending_approval.json", "adj_1", "pending_approval", "1100")); r.Outcome != provider.OutcomeIgnored {
		t.Fatalf("a refund pending approval: %+v", r)
	}
	e.wantRefunded(sale.ID, "0.00", "paid", "6.38", "pending")
	// Approved: applied, once, however many events say so.
	e.deliverRefund("paddle", adj("adjustment.updated-refund-approved.json", "adj_1", "approved", "1100"), sale.ID, true)
	e.wantRefunded(sale.ID, "11.00", "paid", "4.18", "pending")
	e.deliverRefund("paddle", adj("adjustment.updated-refund-approved.json", "adj_1", "approved", "1100"), sale.ID, false)
	// One created approved, then updated: once.
	e.deliverRefund("paddle", adj("adjustment.created-refund-pending_approval.json", "adj_2", "approved", "1000"), sale.ID, true)
	e.deliverRefund("paddle", adj("adjustment.updated-refund-approved.json", "adj_2", "approved", "1000"), sale.ID, false)
	e.wantRefunded(sale.ID, "21.00", "paid", "2.18", "pending")
	// A rejected one moves nothing; the rest refunded in full.
	e.deliverNothing("paddle", adj("adjustment.updated-refund-approved.json", "adj_3", "rejected", "1090"))
	e.deliverRefund("paddle", adj("adjustment.updated-refund-approved.json", "adj_4", "approved", "1090"), sale.ID, true)
	e.wantRefunded(sale.ID, "31.90", "refunded", "2.18", "voided")
	// Of a transaction Spiffy never stored: nothing.
	r := e.deliverNothing("paddle", e.event("paddle", "adjustment.updated-refund-approved.json", refundAt, "@id", "adj_9", "@transaction_id", "txn_unknown"))
	if r.Outcome != provider.OutcomeNoPurchase {
		t.Fatalf("refund of an unknown transaction: %+v", r)
	}
}

// Lemon Squeezy's order_refunded and subscription_payment_refunded carry
// the total refunded so far.
func TestIntegrationLemonSqueezyRefunds(t *testing.T) {
	e := newInteg(t)
	at := t0.Add(time.Hour)
	refundAt := t0.AddDate(0, 0, 5)
	sale := e.deliverSale("lemonsqueezy", e.saleEvent("lemonsqueezy", "5500001", e.click("ann"), at, "@customer_id", 777001))
	refund := func(amount int, status string) []byte {
		return e.event("lemonsqueezy", "order_refunded-partial.json", refundAt, "data.id", "5500001", "@refunded_amount", amount, "@status", status)
	}
	e.deliverRefund("lemonsqueezy", refund(1500, "partial_refund"), sale.ID, true)
	e.wantRefunded(sale.ID, "15.00", "paid", "4.84", "pending")
	e.deliverRefund("lemonsqueezy", refund(1500, "partial_refund"), sale.ID, false)
	e.deliverRefund("lemonsqueezy", refund(3920, "refunded"), sale.ID, true)
	e.wantRefunded(sale.ID, "39.20", "refunded", "4.84", "voided")

	// A renewal's refund names its subscription invoice.
	renewal := e.deliverSale("lemonsqueezy", e.event("lemonsqueezy", "subscription_payment_success-renewal.json", at.AddDate(0, 1, 0),
		"data.id", "1100300", "@customer_id", 777001))
	if renewal.OrderID != "subscription-invoice-1100300" || affiliateOf(renewal) != e.ann.ID {
		t.Fatalf("renewal %+v", renewal)
	}
	e.deliverRefund("lemonsqueezy", e.event("lemonsqueezy", "subscription_payment_refunded.json", refundAt.AddDate(0, 1, 0),
		"data.id", "1100300", "@customer_id", 777001), renewal.ID, true)
	e.wantRefunded(renewal.ID, "17.85", "refunded", "3.57", "voided")
}

// A provider retrying while its first delivery is still being handled, or
// Stripe sending a subscription's checkout and first invoice at once,
// still makes one purchase with one commission.
func TestIntegrationConcurrentDeliveries(t *testing.T) {
	e := newInteg(t)
	at := t0.Add(time.Hour)
	ref := e.click("ann")
	bodies := [][]byte{
		e.saleEvent("stripe", "pi_race", ref, at),
		e.subscriptionCheckout(ref, "in_race", "cus_race", "sub_race", at),
		e.firstInvoice("in_race", "cus_race", "sub_race", at),
		e.saleEvent("paddle", "txn_race", ref, at),
		e.saleEvent("lemonsqueezy", "6600001", ref, at),
	}
	ps := []string{"stripe", "stripe", "stripe", "paddle", "lemonsqueezy"}
	type answer struct {
		code int
		body string
	}
	answers := make(chan answer, 8*len(bodies))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, body := range bodies {
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := httptest.NewRequest(http.MethodPost, "/integrations/"+ps[i], bytes.NewReader(body))
				req.Header.Set(signatureHeader(ps[i]), sign(ps[i], body, 0))
				rec := httptest.NewRecorder()
				<-start
				e.Server.Echo.ServeHTTP(rec, req)
				answers <- answer{rec.Code, rec.Body.String()}
			}()
		}
	}
	close(start)
	wg.Wait()
	close(answers)
	for a := range answers {
		if a.code != http.StatusOK {
			t.Fatalf("a concurrent delivery answered %d %s", a.code, a.body)
		}
	}
	if n, _ := e.counts(); n != 4 {
		t.Fatalf("%d purchases, want 4 (pi_race, in_race, txn_race, 6600001)", n)
	}
	ps2, _, err := e.App.Views().PurchasesPage(store.PurchaseQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps2 {
		e.oneCommission(e.purchase(p.ID), "sale", e.purchase(p.ID).Commission, "pending")
	}
}

// The appliance renders HTML error pages for browsers (package ui sets
// Server.HTMLError); a provider is no browser, and its webhook requests do
// not ask for JSON (Stripe sends "Accept: */*; q=0.5, application/xml"),
// yet every answer of /integrations/* is the contract's JSON.
func TestIntegrationErrorsAreJSON(t *testing.T) {
	e := newInteg(t)
	e.Server.HTMLError = func(c echo.Context, status int, message string) {
		_ = c.HTML(status, "<!doctype html><title>error</title><p>"+message)
	}
	unconfigured, _ := newEnv(t)
	unconfigured.Server.HTMLError = e.Server.HTMLError
	body := e.saleEvent("stripe", "pi_json", "", t0)
	cases := []struct {
		name   string
		srv    *web.Server
		p      string
		body   []byte
		sig    string
		status int
		code   string
	}{
		{"bad signature", e.Server, "stripe", body, "t=1,v1=00", http.StatusBadRequest, "invalid_signature"},
		{"paddle bad signature", e.Server, "paddle", body, "ts=1;h1=00", http.StatusBadRequest, "invalid_signature"},
		{"lemonsqueezy bad signature", e.Server, "lemonsqueezy", body, "00", http.StatusBadRequest, "invalid_signature"},
		{"not configured", unconfigured.Server, "stripe", body, sign("stripe", body, 0), http.StatusNotFound, "integration_not_configured"},
		{"unknown provider", e.Server, "paypal", body, "x", http.StatusNotFound, "integration_not_found"},
		{"too large", e.Server, "stripe", append(body, strings.Repeat(" ", 1<<20)...), "x", http.StatusRequestEntityTooLarge, "payload_too_large"},
		{"unreadable", e.Server, "stripe", []byte(`{"id":`), sign("stripe", []byte(`{"id":`), 0), http.StatusBadRequest, "invalid_event"},
	}
	for _, tc := range cases {
		e.sub(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/integrations/"+tc.p, bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			req.Header.Set("Accept", "*/*; q=0.5, application/xml")
			req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
			req.Header.Set(signatureHeader(tc.p), tc.sig)
			rec := httptest.NewRecorder()
			tc.srv.Echo.ServeHTTP(rec, req)
			wantError(t, rec, tc.status, tc.code)
		})
	}
}
