package provider_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/spiffy/spiffy/app/provider"
	"github.com/spiffy/spiffy/app/provider/providertest"
)

// stripeEvent signs a sample now and reads it.
func stripeEvent(t *testing.T, body []byte) *provider.Event {
	t.Helper()
	ev, err := provider.Stripe(body, providertest.Stripe(body, stripeSecret, time.Now()), stripeSecret)
	if err != nil {
		t.Fatalf("Stripe: %v", err)
	}
	return ev
}

func TestStripeSamples(t *testing.T) {
	tests := []struct {
		file string
		want provider.Event
	}{
		{"checkout.session.completed-payment-2025-03-31.json", provider.Event{
			ID: "evt_1R8nXcB7WZ01zgkWl0Ck7sGx", Type: "checkout.session.completed", Kind: provider.KindSale, Test: true, At: unix(1743500120),
			Sale: &provider.Sale{
				OrderID: "pi_3R8nXaB7WZ01zgkW0pQd9C2L", Amount: 4900, Currency: "USD",
				Email: "Bea.Buyer@example.com", Name: "Bea Buyer", Product: "Pro plan (lifetime)", Referral: ref,
				Coupons: []string{"promo_1R8nWzB7WZ01zgkWJANE20"}, PaymentIntentID: "pi_3R8nXaB7WZ01zgkW0pQd9C2L", At: unix(1743500120),
			}}},
		{"checkout.session.completed-subscription-2025-09-30.json", provider.Event{
			ID: "evt_1SDk2uB7WZ01zgkWwQ3pFJ8n", Type: "checkout.session.completed", Kind: provider.KindSale, At: unix(1759300000),
			Sale: &provider.Sale{
				OrderID: "in_1SDk2qB7WZ01zgkWq4a5Fh2L", Amount: 2900, Currency: "EUR",
				Email: "claire@example.fr", Name: "Claire Dupont", Referral: ref, Coupons: []string{"SPRING25"},
				CustomerID: "cus_Sz1q5Hn3Jd7KpA", SubscriptionID: "sub_1SDk2qB7WZ01zgkWc8NnA1bT",
				InvoiceID: "in_1SDk2qB7WZ01zgkWq4a5Fh2L", At: unix(1759300000),
			}}},
		{"checkout.session.completed-unpaid-2024-06-20.json", provider.Event{
			ID: "evt_1PYq0kB7WZ01zgkWs4Ttq8Vx", Type: "checkout.session.completed", Kind: provider.KindIgnored, Test: true, At: unix(1720000000)}},
		{"checkout.session.async_payment_succeeded-2024-06-20.json", provider.Event{
			ID: "evt_1PZ4bnB7WZ01zgkWm1Hc0aQe", Type: "checkout.session.async_payment_succeeded", Kind: provider.KindSale, Test: true, At: unix(1720250000),
			Sale: &provider.Sale{
				OrderID: "pi_3PYq0hB7WZ01zgkW1s9K2mNb", Amount: 9900, Currency: "EUR",
				Email: "dora@example.de", Name: "Dora Schmidt", Product: "Annual licence", Referral: ref,
				CustomerID: "cus_QPf1x3Uq0Lm9Zr", PaymentIntentID: "pi_3PYq0hB7WZ01zgkW1s9K2mNb", At: unix(1720250000),
			}}},
		{"invoice.paid-subscription_create-2023-10-16.json", provider.Event{
			ID: "evt_1OVr4vB7WZ01zgkWx7Jm3Aae", Type: "invoice.paid", Kind: provider.KindSale, Test: true, At: unix(1704800004),
			Sale: &provider.Sale{
				OrderID: "in_1OVr4sB7WZ01zgkWbIqg4Qx2", Amount: 2000, Currency: "USD",
				Email: "eve@example.com", Name: "Eve Example", Product: "1 × Pro (at $25.00 / month)", Referral: ref,
				Coupons:    []string{"promo_1OVqw2B7WZ01zgkWEVE5", "Z4OV52SU"},
				CustomerID: "cus_PKWj7u1Ld3Qm0N", SubscriptionID: "sub_1OVr4qB7WZ01zgkWz3F6Tn8j",
				PaymentIntentID: "pi_3OVr4tB7WZ01zgkW0g2Y5bHc", InvoiceID: "in_1OVr4sB7WZ01zgkWbIqg4Qx2", At: unix(1704800003),
			}}},
		{"invoice.paid-subscription_cycle-2023-10-16.json", provider.Event{
			ID: "evt_1OfyK5B7WZ01zgkWd1Nc2Hh0", Type: "invoice.paid", Kind: provider.KindRenewal, Test: true, At: unix(1707482004),
			Sale: &provider.Sale{
				OrderID: "in_1OfyK2B7WZ01zgkWq9Zt5VbN", Amount: 2500, Currency: "USD",
				Email: "eve@example.com", Name: "Eve Example", Product: "1 × Pro (at $25.00 / month)", Referral: ref,
				CustomerID: "cus_PKWj7u1Ld3Qm0N", SubscriptionID: "sub_1OVr4qB7WZ01zgkWz3F6Tn8j",
				PaymentIntentID: "pi_3OfyK3B7WZ01zgkW1Ls2KpRe", InvoiceID: "in_1OfyK2B7WZ01zgkWq9Zt5VbN", At: unix(1707482003),
			}}},
		{"invoice.paid-subscription_create-2025-03-31.json", provider.Event{
			ID: "evt_1R9a15B7WZ01zgkWk6Lp7Qm9", Type: "invoice.paid", Kind: provider.KindSale, Test: true, At: unix(1743465605),
			Sale: &provider.Sale{
				OrderID: "in_1R9a0zB7WZ01zgkWf0Gh1Ij2", Amount: 4900, Currency: "USD",
				Email: "finn@example.com", Name: "Finn Fischer", Product: "Team plan", Referral: ref,
				CustomerID: "cus_S3mQ2wX9bV7nLk", SubscriptionID: "sub_1R9a0zB7WZ01zgkWp4Kx2Lm8",
				InvoiceID: "in_1R9a0zB7WZ01zgkWf0Gh1Ij2", At: unix(1743465604),
			}}},
		{"invoice.paid-subscription_cycle-2025-03-31.json", provider.Event{
			ID: "evt_1RKc81B7WZ01zgkWu5Vs0Qr3", Type: "invoice.paid", Kind: provider.KindRenewal, Test: true, At: unix(1746061206),
			Sale: &provider.Sale{
				OrderID: "in_1RKc7vB7WZ01zgkWm3Ue1pYa", Amount: 4900, Currency: "USD",
				Email: "finn@example.com", Name: "Finn Fischer", Product: "Team plan",
				CustomerID: "cus_S3mQ2wX9bV7nLk", SubscriptionID: "sub_1R9a0zB7WZ01zgkWp4Kx2Lm8",
				InvoiceID: "in_1RKc7vB7WZ01zgkWm3Ue1pYa", At: unix(1746061205),
			}}},
		{"invoice.paid-manual-2025-03-31.json", provider.Event{
			ID: "evt_1RRgV1B7WZ01zgkWb2Cd3Ef4", Type: "invoice.paid", Kind: provider.KindSale, Test: true, At: unix(1747300001),
			Sale: &provider.Sale{
				OrderID: "in_1RQm2aB7WZ01zgkWo5Ne6Xz1", Amount: 15000, Currency: "USD",
				Email: "gus@example.com", Name: "Gus Grant", Product: "Onboarding workshop",
				CustomerID: "cus_SLr4c5Yh6Tq7Bn", InvoiceID: "in_1RQm2aB7WZ01zgkWo5Ne6Xz1", At: unix(1747300000),
			}}},
		{"invoice_payment.paid-2025-03-31.json", provider.Event{
			ID: "evt_1RKc80B7WZ01zgkWg3Hy8Jk1", Type: "invoice_payment.paid", Kind: provider.KindPaymentLink, Test: true, At: unix(1746061205),
			Link: &provider.PaymentLink{InvoiceID: "in_1RKc7vB7WZ01zgkWm3Ue1pYa", PaymentIntentID: "pi_3RKc7wB7WZ01zgkW0Zx9Yv8U", At: unix(1746061205)}}},
		{"charge.refunded-partial-2023-10-16.json", provider.Event{
			ID: "evt_3OfyK3B7WZ01zgkW1R3f9Gh2", Type: "charge.refunded", Kind: provider.KindRefund, Test: true, At: unix(1707900000),
			Refund: &provider.Refund{OrderID: "in_1OfyK2B7WZ01zgkWq9Zt5VbN", PaymentIntentID: "pi_3OfyK3B7WZ01zgkW1Ls2KpRe",
				Amount: 1000, Cumulative: true, Currency: "USD", At: unix(1707900000)}}},
		{"charge.refunded-full-2025-03-31.json", provider.Event{
			ID: "evt_3R8nXaB7WZ01zgkW0Tq2Wn4E", Type: "charge.refunded", Kind: provider.KindRefund, Test: true, At: unix(1744000000),
			Refund: &provider.Refund{PaymentIntentID: "pi_3R8nXaB7WZ01zgkW0pQd9C2L",
				Amount: 4900, Cumulative: true, Currency: "USD", At: unix(1744000000)}}},
		{"charge.refunded-2017-02-14.json", provider.Event{
			ID: "evt_1A9Yd2B7WZ01zgkWq1Rz0Xy2", Type: "charge.refunded", Kind: provider.KindRefund, Test: true, At: unix(1492000000),
			Refund: &provider.Refund{OrderID: "in_1A9YcvB7WZ01zgkWa0Lm3No4", Amount: 1900, Cumulative: true, Currency: "USD", At: unix(1492000000)}}},
		{"customer.created-2025-03-31.json", provider.Event{
			ID: "evt_1R9a0yB7WZ01zgkWc0De1Fg2", Type: "customer.created", Kind: provider.KindIgnored, Test: true, At: unix(1743465590)}},
		{"v2.thin-event.json", provider.Event{
			ID: "evt_test_65R9Ijk8jzh1LUm7KhC16R9Ijk8jzh1LUm7KhC1", Type: "v1.billing.meter.error_report_triggered",
			Kind: provider.KindIgnored, Test: true, At: rfc("2024-09-17T06:20:52.246Z")}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tt.want.Provider = "stripe"
			same(t, tt.file, stripeEvent(t, sample(t, "stripe/"+tt.file)), &tt.want)
		})
	}
}

// TestStripeMovedFields: each field that moved between Stripe API
// versions is read where the sample's version puts it, and the samples
// really are in those shapes (so the test cannot pass by accident).
func TestStripeMovedFields(t *testing.T) {
	const (
		oldCycle  = "invoice.paid-subscription_cycle-2023-10-16.json"
		newCycle  = "invoice.paid-subscription_cycle-2025-03-31.json"
		oldCharge = "charge.refunded-partial-2023-10-16.json"
		newCharge = "charge.refunded-full-2025-03-31.json"
	)
	shape := func(t *testing.T, file string, has, hasNot string) {
		t.Helper()
		body := string(sample(t, "stripe/"+file))
		if has != "" && !strings.Contains(body, has) || hasNot != "" && strings.Contains(body, hasNot) {
			t.Fatalf("%s: want %q in it and not %q", file, has, hasNot)
		}
	}

	t.Run("invoice subscription", func(t *testing.T) {
		// Until 2025-02-24.acacia: invoice.subscription.
		shape(t, oldCycle, `"subscription": "sub_1OVr4qB7WZ01zgkWz3F6Tn8j"`, `"parent"`)
		if got := stripeEvent(t, sample(t, "stripe/"+oldCycle)).Sale.SubscriptionID; got != "sub_1OVr4qB7WZ01zgkWz3F6Tn8j" {
			t.Errorf("old: subscription %q", got)
		}
		// From 2025-03-31.basil: invoice.parent.subscription_details.subscription.
		shape(t, newCycle, `"subscription_details": {`, `"subscription": null`)
		if got := stripeEvent(t, sample(t, "stripe/"+newCycle)).Sale.SubscriptionID; got != "sub_1R9a0zB7WZ01zgkWp4Kx2Lm8" {
			t.Errorf("new: subscription %q", got)
		}
		// The subscription, expanded, in either place.
		for _, where := range []string{"old", "new"} {
			body := patch(t, "stripe/"+newCycle, func(_, inv map[string]any) {
				sub := map[string]any{"id": "sub_expanded", "object": "subscription"}
				if where == "old" {
					delete(inv, "parent")
					inv["subscription"] = sub
				} else {
					inv["parent"].(map[string]any)["subscription_details"].(map[string]any)["subscription"] = sub
				}
			})
			if ev := stripeEvent(t, body); ev.Kind != provider.KindRenewal || ev.Sale.SubscriptionID != "sub_expanded" {
				t.Errorf("expanded %s: %v, subscription %q", where, ev.Kind, ev.Sale.SubscriptionID)
			}
		}
	})

	t.Run("invoice subscription metadata", func(t *testing.T) {
		// The referral a merchant put in subscription_data.metadata: beside
		// the invoice until acacia, under parent from basil on.
		shape(t, "invoice.paid-subscription_create-2023-10-16.json", `"subscription_details": {`, `"parent"`)
		if got := stripeEvent(t, sample(t, "stripe/invoice.paid-subscription_create-2023-10-16.json")).Sale.Referral; got != ref {
			t.Errorf("old: referral %q", got)
		}
		if got := stripeEvent(t, sample(t, "stripe/invoice.paid-subscription_create-2025-03-31.json")).Sale.Referral; got != ref {
			t.Errorf("new: referral %q", got)
		}
	})

	t.Run("invoice payment intent", func(t *testing.T) {
		// Until acacia: invoice.payment_intent.
		shape(t, oldCycle, `"payment_intent": "pi_3OfyK3B7WZ01zgkW1Ls2KpRe"`, "")
		if got := stripeEvent(t, sample(t, "stripe/"+oldCycle)).Sale.PaymentIntentID; got != "pi_3OfyK3B7WZ01zgkW1Ls2KpRe" {
			t.Errorf("old: payment intent %q", got)
		}
		// From basil: not on the invoice; invoice_payment.paid links them.
		shape(t, newCycle, "", `"payment_intent"`)
		if got := stripeEvent(t, sample(t, "stripe/"+newCycle)).Sale.PaymentIntentID; got != "" {
			t.Errorf("new: payment intent %q, want none on the invoice", got)
		}
		link := stripeEvent(t, sample(t, "stripe/invoice_payment.paid-2025-03-31.json"))
		if link.Kind != provider.KindPaymentLink || link.Link.InvoiceID != "in_1RKc7vB7WZ01zgkWm3Ue1pYa" ||
			link.Link.PaymentIntentID != "pi_3RKc7wB7WZ01zgkW0Zx9Yv8U" {
			t.Errorf("invoice_payment.paid: %v %+v", link.Kind, link.Link)
		}
		// From basil, when the payload includes the invoice's payments.
		body := patch(t, "stripe/"+newCycle, func(_, inv map[string]any) {
			inv["payments"] = map[string]any{"object": "list", "has_more": false, "data": []any{
				map[string]any{"object": "invoice_payment", "status": "canceled", "payment": map[string]any{"type": "payment_intent", "payment_intent": "pi_failed"}},
				map[string]any{"object": "invoice_payment", "status": "paid", "payment": map[string]any{"type": "payment_intent", "payment_intent": "pi_included"}},
			}}
		})
		if got := stripeEvent(t, body).Sale.PaymentIntentID; got != "pi_included" {
			t.Errorf("new with payments included: payment intent %q", got)
		}
		// A payment by a bare charge links nothing a refund could name.
		body = patch(t, "stripe/invoice_payment.paid-2025-03-31.json", func(_, p map[string]any) {
			p["payment"] = map[string]any{"type": "charge", "charge": "ch_1"}
		})
		if ev := stripeEvent(t, body); ev.Kind != provider.KindIgnored || ev.Link != nil {
			t.Errorf("charge payment: %v %+v", ev.Kind, ev.Link)
		}
	})

	t.Run("charge invoice", func(t *testing.T) {
		// Until acacia: charge.invoice, so the refund names its order.
		shape(t, oldCharge, `"invoice": "in_1OfyK2B7WZ01zgkWq9Zt5VbN"`, "")
		if r := stripeEvent(t, sample(t, "stripe/"+oldCharge)).Refund; r.OrderID != "in_1OfyK2B7WZ01zgkWq9Zt5VbN" || r.PaymentIntentID != "pi_3OfyK3B7WZ01zgkW1Ls2KpRe" {
			t.Errorf("old: %+v", r)
		}
		// From basil: only the payment intent.
		shape(t, newCharge, "", `"invoice"`)
		if r := stripeEvent(t, sample(t, "stripe/"+newCharge)).Refund; r.OrderID != "" || r.PaymentIntentID != "pi_3R8nXaB7WZ01zgkW0pQd9C2L" {
			t.Errorf("new: %+v", r)
		}
	})

	t.Run("discounts", func(t *testing.T) {
		// Invoice discounts, expanded: the coupon on the Discount until
		// 2025-08-27.basil, under source from 2025-09-30.clover; ids alone
		// (di_…) name nothing to match.
		body := patch(t, "stripe/"+newCycle, func(_, inv map[string]any) {
			inv["discounts"] = []any{
				"di_unexpanded",
				map[string]any{"id": "di_old", "object": "discount", "coupon": map[string]any{"id": "OLDCOUPON", "object": "coupon"}, "promotion_code": "promo_old"},
				map[string]any{"id": "di_new", "object": "discount", "source": map[string]any{"type": "coupon", "coupon": "NEWCOUPON"},
					"promotion_code": map[string]any{"id": "promo_new", "object": "promotion_code", "code": "FRIEND10"}},
			}
		})
		want := []string{"promo_old", "OLDCOUPON", "promo_new", "FRIEND10", "NEWCOUPON"}
		if got := stripeEvent(t, body).Sale.Coupons; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("invoice discounts: %q, want %q", got, want)
		}
		// A session's discounts with the promotion code expanded, and the
		// breakdown of total_details when that is expanded instead.
		body = patch(t, "stripe/checkout.session.completed-payment-2025-03-31.json", func(_, s map[string]any) {
			s["discounts"] = []any{map[string]any{"coupon": map[string]any{"id": "Z4OV52SU", "object": "coupon"},
				"promotion_code": map[string]any{"id": "promo_x", "object": "promotion_code", "code": "JANE20"}}}
			s["total_details"] = map[string]any{"amount_discount": 1000, "breakdown": map[string]any{"discounts": []any{
				map[string]any{"amount": 1000, "discount": map[string]any{"id": "di_1", "object": "discount", "promotion_code": "promo_x",
					"coupon": map[string]any{"id": "Z4OV52SU"}}}}, "taxes": []any{}}}
		})
		want = []string{"promo_x", "JANE20", "Z4OV52SU"}
		if got := stripeEvent(t, body).Sale.Coupons; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("session discounts: %q, want %q", got, want)
		}
	})

	t.Run("event request", func(t *testing.T) {
		// Before 2017-05-25 an event's request was a bare string, which
		// stripe-go's typed Event (ConstructEvent) cannot decode; Spiffy
		// checks the signature alone and reads the event all the same.
		body := sample(t, "stripe/charge.refunded-2017-02-14.json")
		if _, err := webhook.ConstructEventWithOptions(body, providertest.Stripe(body, stripeSecret, time.Now()), stripeSecret,
			webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true}); err == nil {
			t.Fatal("stripe-go decodes the 2017 event after all: this case tests nothing")
		}
		if ev := stripeEvent(t, body); ev.Kind != provider.KindRefund {
			t.Errorf("2017 event: %v", ev.Kind)
		}
	})
}

func TestStripeReferralOrder(t *testing.T) {
	const file = "checkout.session.completed-payment-2025-03-31.json"
	tests := []struct {
		name         string
		meta, client any
		customer     any
		want         string
	}{
		{"metadata first", ref, "merchant-user-42", nil, ref},
		{"client_reference_id", nil, " " + ref + " ", nil, ref},
		{"expanded customer's metadata", nil, nil, map[string]any{"id": "cus_1", "metadata": map[string]any{"spiffy_referral": ref}}, ref},
		{"none", nil, nil, "cus_1", ""},
		{"not a string", 42, nil, nil, ""},
	}
	for _, tt := range tests {
		body := patch(t, "stripe/"+file, func(_, s map[string]any) {
			s["metadata"] = map[string]any{"spiffy_referral": tt.meta}
			s["client_reference_id"] = tt.client
			s["customer"] = tt.customer
		})
		if got := stripeEvent(t, body).Sale.Referral; got != tt.want {
			t.Errorf("%s: referral %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStripeOrderID(t *testing.T) {
	const file = "checkout.session.completed-payment-2025-03-31.json"
	tests := []struct {
		name            string
		invoice, intent any
		want            string
	}{
		{"invoice", "in_1", "pi_1", "in_1"},
		{"payment intent", nil, "pi_1", "pi_1"},
		{"expanded payment intent", nil, map[string]any{"id": "pi_2", "object": "payment_intent"}, "pi_2"},
		{"session", nil, nil, "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY"},
	}
	for _, tt := range tests {
		body := patch(t, "stripe/"+file, func(_, s map[string]any) {
			s["invoice"], s["payment_intent"] = tt.invoice, tt.intent
		})
		if got := stripeEvent(t, body).Sale.OrderID; got != tt.want {
			t.Errorf("%s: order id %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStripeSignature(t *testing.T) {
	body := sample(t, "stripe/checkout.session.completed-payment-2025-03-31.json")
	now := time.Now()
	good := providertest.Stripe(body, stripeSecret, now)

	if _, err := provider.Stripe(body, providertest.Stripe(body, stripeSecret, now.Add(-provider.Tolerance+10*time.Second)), stripeSecret); err != nil {
		t.Errorf("signed within the tolerance: %v", err)
	}
	// While a secret is rolled, Stripe signs with both; either verifies.
	rolled := good + ",v1=" + strings.Repeat("ab", 32)
	if _, err := provider.Stripe(body, rolled, stripeSecret); err != nil {
		t.Errorf("two v1 signatures, one good: %v", err)
	}

	tampered := append([]byte(nil), body...)
	tampered[len(tampered)/2] ^= 1
	bad := []struct {
		what           string
		body           []byte
		header, secret string
	}{
		{"wrong secret", body, providertest.Stripe(body, "whsec_other", now), stripeSecret},
		{"no header", body, "", stripeSecret},
		{"garbage header", body, "nonsense", stripeSecret},
		{"no v1 signature", body, strings.Replace(good, "v1=", "v0=", 1), stripeSecret},
		{"stale", body, providertest.Stripe(body, stripeSecret, now.Add(-provider.Tolerance-time.Second)), stripeSecret},
		{"tampered body", tampered, good, stripeSecret},
		{"no secret", body, providertest.Stripe(body, "", now), ""},
		{"malformed body, wrong secret", []byte(`{"id":`), providertest.Stripe([]byte(`{"id":`), "whsec_other", now), stripeSecret},
	}
	for _, b := range bad {
		ev, err := provider.Stripe(b.body, b.header, b.secret)
		wantInvalid(t, b.what, ev, err)
	}

	for _, m := range []struct{ what, body string }{
		{"not JSON", `{"id":`},
		{"no id", `{"object":"event","type":"invoice.paid","data":{"object":{}}}`},
		{"object of the wrong type", `{"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":[]}}`},
		{"amount not a number", `{"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1","currency":"usd","amount_paid":"ten"}}}`},
		{"sale without currency", `{"id":"evt_1","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_1","payment_status":"paid","amount_total":100}}}`},
	} {
		b := []byte(m.body)
		ev, err := provider.Stripe(b, providertest.Stripe(b, stripeSecret, now), stripeSecret)
		wantMalformed(t, m.what, ev, err)
	}
}

// BenchmarkStripe: verifying and reading one signed checkout.session.completed,
// the per-event cost inside the 3,000 events/s target.
func BenchmarkStripe(b *testing.B) {
	body, err := os.ReadFile("testdata/stripe/checkout.session.completed-subscription-2025-09-30.json")
	if err != nil {
		b.Fatal(err)
	}
	header := providertest.Stripe(body, stripeSecret, time.Now())
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if ev, err := provider.Stripe(body, header, stripeSecret); err != nil || ev.Kind != provider.KindSale {
			b.Fatal(ev, err)
		}
	}
}
