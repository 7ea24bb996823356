package provider_test

import (
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app/provider"
	"github.com/spiffy/spiffy/app/provider/providertest"
)

func lsEvent(t *testing.T, body []byte) *provider.Event {
	t.Helper()
	ev, err := provider.LemonSqueezy(body, providertest.LemonSqueezy(body, lsSecret), lsSecret)
	if err != nil {
		t.Fatalf("LemonSqueezy: %v", err)
	}
	return ev
}

func TestLemonSqueezySamples(t *testing.T) {
	tests := []struct {
		file string
		want provider.Event
	}{
		{"order_created.json", provider.Event{
			ID: "order_created:2233445:2024-08-05T14:22:12Z", Type: "order_created", Kind: provider.KindSale, Test: true,
			At: rfc("2024-08-05T14:22:12Z"),
			Sale: &provider.Sale{
				OrderID: "2233445", Amount: 3920, Currency: "USD", Email: "hana@example.jp", Name: "Hana Sato",
				Product: "Pixel Icons Pro", Referral: ref, Coupons: []string{"HANA20"}, CustomerID: "987654",
				At: rfc("2024-08-05T14:22:10Z"),
			}}},
		{"order_created-pending.json", provider.Event{
			ID: "order_created:2233445:2024-08-05T14:22:12Z", Type: "order_created", Kind: provider.KindIgnored, Test: true,
			At: rfc("2024-08-05T14:22:12Z")}},
		{"order_refunded-partial.json", provider.Event{
			ID: "order_refunded:2233445:2024-08-20T09:30:01Z", Type: "order_refunded", Kind: provider.KindRefund, Test: true,
			At:     rfc("2024-08-20T09:30:01Z"),
			Refund: &provider.Refund{OrderID: "2233445", Amount: 1500, Cumulative: true, Currency: "USD", At: rfc("2024-08-20T09:30:00Z")}}},
		{"subscription_payment_success-renewal.json", provider.Event{
			ID: "subscription_payment_success:1100225:2024-09-01T06:00:09Z", Type: "subscription_payment_success", Kind: provider.KindRenewal,
			At: rfc("2024-09-01T06:00:09Z"),
			Sale: &provider.Sale{
				OrderID: "subscription-invoice-1100225", Amount: 1785, Currency: "EUR", Email: "ivan@example.com", Name: "Ivan Petrov",
				Referral: ref, CustomerID: "987654", SubscriptionID: "336699", At: rfc("2024-09-01T06:00:04Z"),
			}}},
		{"subscription_payment_success-initial.json", provider.Event{
			ID: "subscription_payment_success:1090117:2024-08-01T06:00:03Z", Type: "subscription_payment_success", Kind: provider.KindIgnored,
			At: rfc("2024-08-01T06:00:03Z")}},
		{"subscription_payment_refunded.json", provider.Event{
			ID: "subscription_payment_refunded:1100225:2024-09-03T11:15:02Z", Type: "subscription_payment_refunded", Kind: provider.KindRefund,
			At:     rfc("2024-09-03T11:15:02Z"),
			Refund: &provider.Refund{OrderID: "subscription-invoice-1100225", Amount: 1785, Cumulative: true, Currency: "EUR", At: rfc("2024-09-03T11:15:00Z")}}},
		{"subscription_created.json", provider.Event{
			ID: "subscription_created:336699:2024-08-01T06:00:03Z", Type: "subscription_created", Kind: provider.KindIgnored,
			At: rfc("2024-08-01T06:00:03Z")}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tt.want.Provider = "lemonsqueezy"
			same(t, tt.file, lsEvent(t, sample(t, "lemonsqueezy/"+tt.file)), &tt.want)
		})
	}
}

func TestLemonSqueezyFields(t *testing.T) {
	// Ids as numbers or strings, custom_data absent, no updated_at.
	body := patch(t, "lemonsqueezy/order_created.json", func(doc, _ map[string]any) {
		doc["meta"].(map[string]any)["custom_data"] = nil
		data := doc["data"].(map[string]any)
		data["id"] = 2233445
		a := data["attributes"].(map[string]any)
		a["customer_id"] = "987654"
		delete(a, "updated_at")
		delete(doc, "included")
	})
	ev := lsEvent(t, body)
	if ev.ID != "order_created:2233445" || ev.Sale.OrderID != "2233445" || ev.Sale.CustomerID != "987654" ||
		ev.Sale.Referral != "" || ev.Sale.Coupons != nil || !ev.At.Equal(rfc("2024-08-05T14:22:10Z")) {
		t.Errorf("loose shapes: %+v %+v", ev, ev.Sale)
	}
	// A failed order was never paid.
	body = patch(t, "lemonsqueezy/order_created.json", func(doc, _ map[string]any) {
		doc["data"].(map[string]any)["attributes"].(map[string]any)["status"] = "failed"
	})
	if ev := lsEvent(t, body); ev.Kind != provider.KindIgnored {
		t.Errorf("failed order: %v", ev.Kind)
	}
	// Each partial refund is a new event id: the order's updated_at moves.
	first := lsEvent(t, sample(t, "lemonsqueezy/order_refunded-partial.json"))
	body = patch(t, "lemonsqueezy/order_refunded-partial.json", func(doc, _ map[string]any) {
		a := doc["data"].(map[string]any)["attributes"].(map[string]any)
		a["refunded_amount"], a["updated_at"] = 3920, "2024-08-22T10:00:00.000000Z"
	})
	second := lsEvent(t, body)
	if first.ID == second.ID || second.Refund.Amount != 3920 || !second.Refund.Cumulative {
		t.Errorf("second refund: %s after %s, %+v", second.ID, first.ID, second.Refund)
	}
}

func TestLemonSqueezySignature(t *testing.T) {
	body := sample(t, "lemonsqueezy/order_created.json")
	good := providertest.LemonSqueezy(body, lsSecret)
	if _, err := provider.LemonSqueezy(body, " "+strings.ToUpper(good)+"\n", lsSecret); err != nil {
		t.Errorf("upper-case hex with spaces: %v", err)
	}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)/2] ^= 1
	bad := []struct {
		what           string
		body           []byte
		header, secret string
	}{
		{"wrong secret", body, providertest.LemonSqueezy(body, "other"), lsSecret},
		{"no header", body, "", lsSecret},
		{"not hex", body, "sha256=" + good, lsSecret},
		{"truncated", body, good[:32], lsSecret},
		{"tampered body", tampered, good, lsSecret},
		{"no secret", body, providertest.LemonSqueezy(body, ""), ""},
		{"malformed body, wrong secret", []byte(`{"meta":`), providertest.LemonSqueezy([]byte(`{"meta":`), "other"), lsSecret},
	}
	for _, b := range bad {
		ev, err := provider.LemonSqueezy(b.body, b.header, b.secret)
		wantInvalid(t, b.what, ev, err)
	}
	for _, m := range []struct{ what, body string }{
		{"not JSON", `{"meta":`},
		{"no event name", `{"meta":{},"data":{"type":"orders","id":"1"}}`},
		{"no data id", `{"meta":{"event_name":"order_created"},"data":{"type":"orders"}}`},
		{"total not a number", `{"meta":{"event_name":"order_created"},"data":{"type":"orders","id":"1","attributes":{"currency":"USD","total":"a lot"}}}`},
		{"sale without currency", `{"meta":{"event_name":"order_created"},"data":{"type":"orders","id":"1","attributes":{"total":100}}}`},
	} {
		b := []byte(m.body)
		ev, err := provider.LemonSqueezy(b, providertest.LemonSqueezy(b, lsSecret), lsSecret)
		wantMalformed(t, m.what, ev, err)
	}
}
