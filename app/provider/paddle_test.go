package provider_test

import (
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app/provider"
	"github.com/spiffy/spiffy/app/provider/providertest"
)

func paddleEvent(t *testing.T, body []byte) *provider.Event {
	t.Helper()
	ev, err := provider.Paddle(body, providertest.Paddle(body, paddleSecret, time.Now()), paddleSecret)
	if err != nil {
		t.Fatalf("Paddle: %v", err)
	}
	return ev
}

func TestPaddleSamples(t *testing.T) {
	tests := []struct {
		file string
		want provider.Event
	}{
		{"transaction.completed.json", provider.Event{
			ID: "evt_01hv8x2acma5pwhpc0q6ynsmt2", Type: "transaction.completed", Kind: provider.KindSale, At: rfc("2024-04-12T10:18:49.980986Z"),
			Sale: &provider.Sale{
				OrderID: "txn_01hv8wptq8987qeep44cyrewp9", Amount: 3190, Currency: "USD", Product: "AeroEdit Pro", Referral: ref,
				Coupons:    []string{"dsc_01hv6scyf7qdnzcdq01t2y8dx4"},
				CustomerID: "ctm_01hv6y1jedq4p1n0yqn5ba3ky4", SubscriptionID: "sub_01hv8x29kz0t586xy6zn1a62ny",
				At: rfc("2024-04-12T10:18:47.635628Z"), // the captured payment, not the declined one before it
			}}},
		{"transaction.completed-subscription_recurring.json", provider.Event{
			ID: "evt_01hxy2pm3fz4w0fm1z3wq4j0mk", Type: "transaction.completed", Kind: provider.KindRenewal, At: rfc("2024-05-12T10:18:55.480112Z"),
			Sale: &provider.Sale{
				OrderID: "txn_01hxy2p8h6vxnb0ezj2xq3rbcc", Amount: 3300, Currency: "USD", Product: "AeroEdit Pro",
				CustomerID: "ctm_01hv6y1jedq4p1n0yqn5ba3ky4", SubscriptionID: "sub_01hv8x29kz0t586xy6zn1a62ny",
				At: rfc("2024-05-12T10:18:52.4Z"),
			}}},
		{"transaction.completed-payment_method_change.json", provider.Event{
			ID: "evt_01hz0k1e7q2m4n6p8r0t2v4x6z", Type: "transaction.completed", Kind: provider.KindIgnored, At: rfc("2024-05-20T08:00:05.6Z")}},
		{"adjustment.created-refund-pending_approval.json", provider.Event{
			ID: "evt_01hvgf2sb3vh6f9a4r9vvpd9gk", Type: "adjustment.created", Kind: provider.KindIgnored, At: rfc("2024-04-15T08:48:20.708964Z")}},
		{"adjustment.updated-refund-approved.json", provider.Event{
			ID: "evt_01hvk5q0tc0s4bqj3bdm0h8k7d", Type: "adjustment.updated", Kind: provider.KindRefund, At: rfc("2024-04-16T09:21:40.901335Z"),
			Refund: &provider.Refund{ID: "adj_01hvk4g4f1r9mwr0k1vn4v8y2e", OrderID: "txn_01hv8wptq8987qeep44cyrewp9",
				Amount: 1100, Currency: "USD", At: rfc("2024-04-16T09:21:40.532114Z")}}},
		{"adjustment.created-credit.json", provider.Event{
			ID: "evt_01hvm0a1b2c3d4e5f6g7h8j9k0", Type: "adjustment.created", Kind: provider.KindIgnored, At: rfc("2024-04-17T10:00:00.5Z")}},
		{"subscription.created.json", provider.Event{
			ID: "evt_01hv8x2a8f0d9ydzj5b9e6mtdw", Type: "subscription.created", Kind: provider.KindIgnored, At: rfc("2024-04-12T10:18:49.712488Z")}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tt.want.Provider = "paddle"
			same(t, tt.file, paddleEvent(t, sample(t, "paddle/"+tt.file)), &tt.want)
		})
	}
}

func TestPaddleFields(t *testing.T) {
	// An approved refund announced at creation counts too, under the same
	// adjustment id as a later update would carry.
	body := patch(t, "paddle/adjustment.created-refund-pending_approval.json", func(doc, _ map[string]any) {
		doc["data"].(map[string]any)["status"] = "approved"
	})
	if r := paddleEvent(t, body).Refund; r == nil || r.ID != "adj_01hvgf2s84dr6reszzg29zbvcm" || r.Amount != 3190 || r.Cumulative {
		t.Errorf("auto-approved refund: %+v", r)
	}
	// Other subscription-made charges are renewals; a discount's code is
	// read when the payload includes the discount.
	body = patch(t, "paddle/transaction.completed.json", func(doc, _ map[string]any) {
		txn := doc["data"].(map[string]any)
		txn["origin"] = "subscription_charge"
		txn["discount"] = map[string]any{"id": "dsc_01hv6scyf7qdnzcdq01t2y8dx4", "code": "AERO10", "type": "percentage"}
		txn["custom_data"] = nil
	})
	ev := paddleEvent(t, body)
	if ev.Kind != provider.KindRenewal || strings.Join(ev.Sale.Coupons, ",") != "AERO10,dsc_01hv6scyf7qdnzcdq01t2y8dx4" || ev.Sale.Referral != "" {
		t.Errorf("subscription charge with discount: %v %+v", ev.Kind, ev.Sale)
	}
	// custom_data a merchant filled with something other than an object.
	body = patch(t, "paddle/transaction.completed.json", func(doc, _ map[string]any) {
		doc["data"].(map[string]any)["custom_data"] = []any{"x"}
	})
	if ev := paddleEvent(t, body); ev.Kind != provider.KindSale || ev.Sale.Referral != "" {
		t.Errorf("odd custom_data: %v %+v", ev.Kind, ev.Sale)
	}
}

func TestPaddleSignature(t *testing.T) {
	body := sample(t, "paddle/transaction.completed.json")
	now := time.Now()
	good := providertest.Paddle(body, paddleSecret, now)
	if _, err := provider.Paddle(body, providertest.Paddle(body, paddleSecret, now.Add(-provider.Tolerance+10*time.Second)), paddleSecret); err != nil {
		t.Errorf("signed within the tolerance: %v", err)
	}

	tampered := append([]byte(nil), body...)
	tampered[len(tampered)/2] ^= 1
	bad := []struct {
		what           string
		body           []byte
		header, secret string
	}{
		{"wrong secret", body, providertest.Paddle(body, "pdl_ntfset_other", now), paddleSecret},
		{"no header", body, "", paddleSecret},
		{"garbage header", body, "ts=x;h1=y", paddleSecret},
		{"stale", body, providertest.Paddle(body, paddleSecret, now.Add(-provider.Tolerance-2*time.Second)), paddleSecret},
		{"from the future", body, providertest.Paddle(body, paddleSecret, now.Add(provider.Tolerance+2*time.Second)), paddleSecret},
		{"tampered body", tampered, good, paddleSecret},
		{"no secret", body, providertest.Paddle(body, "", now), ""},
		{"malformed body, wrong secret", []byte(`{"event_id":`), providertest.Paddle([]byte(`{"event_id":`), "other", now), paddleSecret},
	}
	for _, b := range bad {
		ev, err := provider.Paddle(b.body, b.header, b.secret)
		wantInvalid(t, b.what, ev, err)
	}

	for _, m := range []struct{ what, body string }{
		{"not JSON", `{"event_id":`},
		{"no event id", `{"event_type":"transaction.completed","data":{}}`},
		{"amount not digits", `{"event_id":"evt_1","event_type":"transaction.completed","data":{"id":"txn_1","currency_code":"USD","details":{"totals":{"grand_total":"10.00"}}}}`},
		{"sale without currency", `{"event_id":"evt_1","event_type":"transaction.completed","data":{"id":"txn_1","details":{"totals":{"grand_total":"1000"}}}}`},
		{"refund without transaction", `{"event_id":"evt_1","event_type":"adjustment.updated","data":{"id":"adj_1","action":"refund","status":"approved"}}`},
	} {
		b := []byte(m.body)
		ev, err := provider.Paddle(b, providertest.Paddle(b, paddleSecret, now), paddleSecret)
		wantMalformed(t, m.what, ev, err)
	}
}
