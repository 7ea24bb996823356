package store

import (
	"reflect"
	"testing"
	"time"
)

func TestCodecsRoundTrip(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
	click := &Click{ID: NewID(now), ProgramID: NewID(now), AffiliateID: NewID(now), Code: "jane", SubID: "spring",
		VisitorID: "v1", URL: "https://shop.example.com/?ref=jane", Referrer: "https://blog.example.org/", IP: "203.0.113.9",
		UserAgent: "Mozilla/5.0 ünïcødé", CreatedAt: now}
	var c2 Click
	if err := c2.unmarshal(click.marshal()); err != nil || !reflect.DeepEqual(click, &c2) {
		t.Fatalf("click round trip: %v\n%+v\n%+v", err, click, &c2)
	}
	lead := &Lead{ID: NewID(now), ProgramID: "p", AffiliateID: "a", ReferralID: click.ID, Code: "jane", SubID: "s",
		Email: "x@example.com", Name: "Émile", URL: "u", VisitorID: "v", IP: "ip", UserAgent: "ua", CreatedAt: now, PurchaseID: "pur"}
	var l2 Lead
	if err := l2.unmarshal(lead.marshal()); err != nil || !reflect.DeepEqual(lead, &l2) {
		t.Fatalf("lead round trip: %v\n%+v\n%+v", err, lead, &l2)
	}
	pur := &Purchase{ID: "id", OrderID: "o-1", ProgramID: "p", AffiliateID: "a", ReferralID: "r", LeadID: "l", Code: "c",
		SubID: "s", Email: "e", Name: "n", Product: "Pro plan", Amount: 4900, Currency: "USD", Commission: -1470,
		Status: "refunded", SelfReferral: true, VisitorID: "v", PurchasedAt: now, CreatedAt: now.Add(time.Second), RefundedAt: now.Add(time.Hour), RefundedAmount: 4900, Kind: "renewal"}
	var p2 Purchase
	if err := p2.unmarshal(pur.marshal()); err != nil || !reflect.DeepEqual(pur, &p2) {
		t.Fatalf("purchase round trip: %v\n%+v\n%+v", err, pur, &p2)
	}
	com := &Commission{ID: "c", PurchaseID: "p", ProgramID: "g", AffiliateID: "a", Kind: CommissionClawback, Amount: -250,
		Currency: "EUR", Status: CommissionPaid, ApproveAt: now, CreatedAt: now.Add(time.Second), PaidAt: now.Add(time.Hour),
		PayoutID: "po", ClawbackOf: "c0"}
	var com2 Commission
	if err := com2.unmarshal(com.marshal()); err != nil || !reflect.DeepEqual(com, &com2) {
		t.Fatalf("commission round trip: %v\n%+v\n%+v", err, com, &com2)
	}
	item := &PayoutItem{PayoutID: "po", AffiliateID: "a", Name: "Jane", Email: "j@example.com", Method: "paypal",
		PayoutEmail: "pay@example.com", Amount: 12345, Commissions: 7}
	var item2 PayoutItem
	if err := item2.unmarshal(item.marshal()); err != nil || !reflect.DeepEqual(item, &item2) {
		t.Fatalf("payout item round trip: %v\n%+v\n%+v", err, item, &item2)
	}
	r := &Rollup{Clicks: 5, Leads: 3, Purchases: 2, Refunds: 1, Money: []RollupMoney{{"USD", 100, 30}, {"JPY", 500, 50}}}
	var r2 Rollup
	if err := r2.unmarshal(r.marshal()); err != nil || !reflect.DeepEqual(r, &r2) {
		t.Fatalf("rollup round trip: %v", err)
	}
}

func TestCodecRejectsCorruptAndAcceptsOlderRecords(t *testing.T) {
	lead := &Lead{ID: "id", Email: "e@example.com", CreatedAt: time.Unix(1, 0).UTC()}
	b := lead.marshal()
	var l Lead
	if err := l.unmarshal(b[:3]); err == nil {
		t.Fatal("truncated inside a string: no error")
	}
	if err := l.unmarshal(nil); err == nil {
		t.Fatal("empty record: no error")
	}
	// A record written before a field existed simply ends early.
	older := newEncoder(recordV1, 8)
	older.str("id")
	var l2 Lead
	if err := l2.unmarshal(older.b); err != nil || l2.ID != "id" || l2.Email != "" {
		t.Fatalf("older record: %v %+v", err, l2)
	}
}
