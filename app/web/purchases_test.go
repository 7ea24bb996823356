package web_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/event"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

func TestCreatePurchaseValidation(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shop")
	gone := env.Program("Gone")
	if err := env.App.DeleteProgram(gone.ID); err != nil {
		t.Fatal(err)
	}
	valid := func(mut func(m map[string]string)) map[string]string {
		m := map[string]string{"order_id": "A-1", "program": prg.ID, "email": "jo@example.com", "amount": "49.00", "currency": "USD"}
		if mut != nil {
			mut(m)
		}
		return m
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"no program", valid(func(m map[string]string) { delete(m, "program") }), 400, "invalid_program"},
		{"unknown program", valid(func(m map[string]string) { m["program"] = store.NewID(t0) }), 400, "unknown_program"},
		{"garbage program", valid(func(m map[string]string) { m["program"] = "../x" }), 400, "unknown_program"},
		{"deleted program", valid(func(m map[string]string) { m["program"] = gone.ID }), 400, "unknown_program"},
		{"no order id", valid(func(m map[string]string) { m["order_id"] = "  " }), 400, "invalid_order_id"},
		{"long order id", valid(func(m map[string]string) { m["order_id"] = strings.Repeat("x", 201) }), 400, "invalid_order_id"},
		{"order id with newline", valid(func(m map[string]string) { m["order_id"] = "a\nb" }), 400, "invalid_order_id"},
		{"no email", valid(func(m map[string]string) { delete(m, "email") }), 400, "invalid_email"},
		{"bad email", valid(func(m map[string]string) { m["email"] = "jo@" }), 400, "invalid_email"},
		{"no amount", valid(func(m map[string]string) { delete(m, "amount") }), 400, "invalid_amount"},
		{"negative amount", valid(func(m map[string]string) { m["amount"] = "-1.00" }), 400, "invalid_amount"},
		{"word amount", valid(func(m map[string]string) { m["amount"] = "lots" }), 400, "invalid_amount"},
		{"exponent amount", valid(func(m map[string]string) { m["amount"] = "1e3" }), 400, "invalid_amount"},
		{"huge amount", valid(func(m map[string]string) { m["amount"] = "99999999999999999999" }), 400, "invalid_amount"},
		{"no currency", valid(func(m map[string]string) { delete(m, "currency") }), 400, "invalid_currency"},
		{"blank currency", valid(func(m map[string]string) { m["currency"] = "  " }), 400, "invalid_currency"},
		{"null currency", map[string]any{"order_id": "A-1", "program": prg.ID, "email": "jo@example.com", "amount": "49.00", "currency": nil}, 400, "invalid_currency"},
		{"bad currency", valid(func(m map[string]string) { m["currency"] = "US" }), 400, "invalid_currency"},
		{"digits currency", valid(func(m map[string]string) { m["currency"] = "U5D" }), 400, "invalid_currency"},
		{"bad purchased_at", valid(func(m map[string]string) { m["purchased_at"] = "2026-03-01" }), 400, "invalid_purchased_at"},
		{"long name", valid(func(m map[string]string) { m["name"] = strings.Repeat("n", 201) }), 400, "invalid_name"},
		{"product with NUL", valid(func(m map[string]string) { m["product"] = "a\x00b" }), 400, "invalid_product"},
		{"amount as number", map[string]any{"order_id": "A-1", "program": prg.ID, "email": "jo@example.com", "amount": 49, "currency": "USD"}, 400, "invalid_amount"},
		{"not JSON", "order_id=A-1", 400, "invalid_json"},
		{"two objects", `{"order_id":"A-1"}{"order_id":"A-2"}`, 400, "invalid_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := env.API(http.MethodPost, "/purchases", tt.body)
			wantError(t, rec, tt.status, tt.code)
			if n := purchaseCount(t, env); n != 0 {
				t.Fatalf("%d purchases stored after a refused one", n)
			}
		})
	}
	// Without an API key, nothing.
	rec := env.Request(http.MethodPost, "/api/v1/purchases", valid(nil))
	wantError(t, rec, 401, "unauthorized")
	if n := purchaseCount(t, env); n != 0 {
		t.Fatalf("%d purchases stored without a key", n)
	}
}

func TestCreatePurchaseFields(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shop", func(in *app.ProgramInput) { in.Currency = apptest.Ptr("EUR") })
	got := postPurchase(t, env, map[string]string{
		"order_id": " A-1 ", "program": prg.ID, "email": " Jo@Example.com ", "name": "Jo", "product": "Plan",
		"amount": "49.5", "currency": " eur ", "purchased_at": "2026-02-27T10:00:00+02:00",
	}, 201)
	want := web.PurchaseJSON{
		ID: got.ID, OrderID: "A-1", Program: prg.ID,
		PurchaseFields: event.PurchaseFields{Email: "Jo@Example.com", Name: "Jo", Product: "Plan",
			Amount: "49.50", Currency: "EUR", Commission: "0.00", Status: "paid"},
		RefundedAmount: "0.00", PurchasedAt: "2026-02-27T08:00:00Z", CreatedAt: t0.Format(time.RFC3339),
	}
	if !reflect.DeepEqual(got, want) || !store.ValidID(got.ID) {
		t.Fatalf("purchase\n got %+v\nwant %+v", got, want)
	}
	rec := env.API(http.MethodGet, "/purchases/"+got.ID, nil)
	apptest.Expect(t, rec, 200)
	if raw := rec.Body.String(); !strings.Contains(raw, `"affiliate":null`) || !strings.Contains(raw, `"self_referral":false`) {
		t.Fatalf("unattributed purchase JSON %s: want affiliate null and self_referral false", raw)
	}
	if again := apptest.Decode[web.PurchaseJSON](t, rec); !reflect.DeepEqual(again, got) {
		t.Fatalf("GET %+v, want %+v", again, got)
	}
	// Lower-case currency is accepted; purchased_at defaults to now.
	got = postPurchase(t, env, map[string]string{"order_id": "A-2", "program": prg.ID, "email": "jo@example.com", "amount": "1", "currency": "jpy"}, 201)
	if got.Currency != "JPY" || got.Amount != "1" || got.PurchasedAt != t0.Format(time.RFC3339) {
		t.Fatalf("purchase %+v", got)
	}
	for _, id := range []string{store.NewID(t0), "nope"} {
		wantError(t, env.API(http.MethodGet, "/purchases/"+id, nil), 404, "purchase_not_found")
	}
}

// A purchase without a currency used to be stored in the program's
// currency (USD by default): a merchant selling in euros who forgot the
// field had every amount misstated. It is refused, naming the field, and
// nothing is stored, not even for an order that would attribute.
func TestPurchaseWithoutCurrencyIsRefused(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shop")
	env.Affiliate("Ann", "ann@example.com", "ann", prg)
	ref := postClick(t, env, map[string]string{"ref": "ann"}).Referral
	postPurchase(t, env, map[string]string{"order_id": "kept", "program": prg.ID, "email": "a@example.com", "amount": "10.00", "currency": "EUR"}, 201)
	before := purchaseCount(t, env)
	rec := env.API(http.MethodPost, "/purchases", map[string]string{"order_id": "B-1", "program": prg.ID, "email": "b@example.com", "amount": "49.00", "referral": ref})
	wantError(t, rec, http.StatusBadRequest, "invalid_currency")
	if e := apptest.Decode[errBody](t, rec); e.Field != "currency" || !strings.Contains(e.Message, "currency is required") {
		t.Fatalf("error %+v, want the currency field named as required", e)
	}
	if n := purchaseCount(t, env); n != before {
		t.Fatalf("%d purchases after a refused one, want %d", n, before)
	}
	// The same order with its currency is then stored as new.
	if got := postPurchase(t, env, map[string]string{"order_id": "B-1", "program": prg.ID, "email": "b@example.com", "amount": "49.00", "currency": "eur", "referral": ref}, 201); got.Currency != "EUR" || got.Amount != "49.00" {
		t.Fatalf("purchase %+v, want 49.00 EUR", got)
	}
}

func TestPurchaseAttribution(t *testing.T) {
	env, advance := newEnv(t)
	last := env.Program("Last", func(in *app.ProgramInput) {
		in.CookieDays = apptest.Ptr(10)
		in.TrackLeads = apptest.Ptr(true)
		in.CommissionType = apptest.Ptr("percent")
		in.CommissionValue = apptest.Ptr("10")
	})
	first := env.Program("First", func(in *app.ProgramInput) {
		in.CookieDays = apptest.Ptr(10)
		in.Attribution = apptest.Ptr(app.AttributionFirst)
		in.CommissionType = apptest.Ptr("percent")
		in.CommissionValue = apptest.Ptr("10")
	})
	other := env.Program("Other")
	ann := env.Affiliate("Ann", "ann@partner.example", "ann", last)
	bob := env.Affiliate("Bob", "bob@partner.example", "bob", last)
	cat := env.Affiliate("Cat", "cat@partner.example", "cat", last)
	env.Affiliate("Ann F", "annf@partner.example", "annf", first)
	env.Affiliate("Bob F", "bobf@partner.example", "bobf", first)
	env.Affiliate("Oz", "oz@partner.example", "oz", other)
	affByName := map[string]string{"ann": ann.ID, "bob": bob.ID, "cat": cat.ID}
	for _, code := range []string{"annf", "bobf"} {
		e, err := env.App.Views().EnrollmentsOfProgram(first.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range e {
			if en.Code == code {
				affByName[code] = en.AffiliateID
			}
		}
	}

	click := func(code, vid, sub string) string {
		return postClick(t, env, map[string]string{"ref": code, "vid": vid, "sub": sub}).Referral
	}
	// Day 0: the visitor v1 clicks Ann's link, then (day 1) Bob's, in both
	// kinds of programs. v2 clicks Cat's link only.
	annRef := click("ann", "visitor1", "a-sub")
	annF := click("annf", "visitor1", "")
	advance(24 * time.Hour)
	bobRef := click("bob", "visitor1", "b-sub")
	click("bobf", "visitor1", "")
	catRef := click("cat", "visitor2", "")
	ozRef := click("oz", "visitor1", "")
	// Cat's visitor signs up as a lead.
	apptest.Expect(t, env.Request(http.MethodPost, "/t/lead", map[string]string{"email": "lead@example.com", "referral": catRef}), 201)
	advance(time.Hour)
	t1 := t0.Add(25 * time.Hour) // "now" from here on

	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	tests := []struct {
		name      string
		body      map[string]string
		affiliate string // code of the expected affiliate, "" = unattributed
		sub       string
		selfRef   bool
	}{
		{"referral wins over visitor", map[string]string{"program": last.ID, "referral": annRef, "vid": "visitor1"}, "ann", "a-sub", false},
		{"referral wins over lead", map[string]string{"program": last.ID, "referral": bobRef, "email": "lead@example.com"}, "bob", "b-sub", false},
		{"unknown referral falls to visitor (last click)", map[string]string{"program": last.ID, "referral": store.NewID(t1), "vid": "visitor1"}, "bob", "b-sub", false},
		{"garbage referral falls to visitor", map[string]string{"program": last.ID, "referral": "xyz", "vid": "visitor1"}, "bob", "b-sub", false},
		{"other program's referral falls through", map[string]string{"program": last.ID, "referral": ozRef, "vid": "visitor1"}, "bob", "b-sub", false},
		{"visitor, first click", map[string]string{"program": first.ID, "vid": "visitor1"}, "annf", "", false},
		{"referral in a first_click program", map[string]string{"program": first.ID, "referral": annF, "vid": "visitor1"}, "annf", "", false},
		{"visitor judged at purchased_at before Bob's click", map[string]string{"program": last.ID, "vid": "visitor1", "purchased_at": at(time.Hour)}, "ann", "a-sub", false},
		{"referral made after purchased_at does not count", map[string]string{"program": last.ID, "referral": bobRef, "purchased_at": at(time.Hour)}, "", "", false},
		{"unknown visitor falls to lead", map[string]string{"program": last.ID, "vid": "nobody", "email": "LEAD@example.com "}, "cat", "", false},
		{"lead only", map[string]string{"program": last.ID, "email": "lead@example.com"}, "cat", "", false},
		{"nothing matches", map[string]string{"program": last.ID, "email": "stranger@example.com"}, "", "", false},
		{"referral expired at purchased_at", map[string]string{"program": last.ID, "referral": annRef, "purchased_at": at(10*24*time.Hour + time.Second)}, "", "", false},
		{"referral still valid at a later purchased_at", map[string]string{"program": last.ID, "referral": annRef, "purchased_at": at(10*24*time.Hour - time.Second)}, "ann", "a-sub", false},
		{"first click expired, second still valid", map[string]string{"program": first.ID, "vid": "visitor1", "purchased_at": at(10*24*time.Hour + time.Hour)}, "bobf", "", false},
		{"self-referral by referral", map[string]string{"program": last.ID, "referral": annRef, "email": " ANN@partner.example"}, "", "", true},
		{"self-referral by visitor", map[string]string{"program": last.ID, "vid": "visitor1", "email": "bob@partner.example"}, "", "", true},
	}
	n := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n++
			body := map[string]string{"order_id": "O-" + string(rune('A'+n)), "email": "buyer@example.com", "amount": "100.00", "currency": "USD"}
			for k, v := range tt.body {
				body[k] = v
			}
			got := postPurchase(t, env, body, 201)
			wantAff := affByName[tt.affiliate]
			if affiliateOf(got) != wantAff || got.SelfReferral != tt.selfRef {
				t.Fatalf("affiliate %q self_referral %v; want %q (%s) %v", affiliateOf(got), got.SelfReferral, wantAff, tt.affiliate, tt.selfRef)
			}
			wantCommission := "0.00"
			if wantAff != "" {
				wantCommission = "10.00"
				if got.ReferralCode != tt.affiliate || got.SubID != tt.sub {
					t.Fatalf("referral_code %q sub_id %q; want %q %q", got.ReferralCode, got.SubID, tt.affiliate, tt.sub)
				}
			} else if got.ReferralCode != "" || got.SubID != "" {
				t.Fatalf("unattributed purchase carries referral_code %q sub_id %q", got.ReferralCode, got.SubID)
			}
			if got.Commission != wantCommission {
				t.Fatalf("commission %s, want %s", got.Commission, wantCommission)
			}
		})
	}

	// Blocked affiliates are skipped as if their referrals did not exist:
	// the next path (here, the visitor's valid click with Ann) wins.
	if _, err := env.App.UpdateAffiliate(bob.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusBlocked)}); err != nil {
		t.Fatal(err)
	}
	got := postPurchase(t, env, map[string]string{"order_id": "B-1", "program": last.ID, "email": "x@example.com", "amount": "1", "currency": "USD", "referral": bobRef, "vid": "visitor1"}, 201)
	if affiliateOf(got) != ann.ID {
		t.Fatalf("with Bob blocked: affiliate %q, want Ann", affiliateOf(got))
	}
	if _, err := env.App.UpdateAffiliate(cat.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusBlocked)}); err != nil {
		t.Fatal(err)
	}
	got = postPurchase(t, env, map[string]string{"order_id": "B-2", "program": last.ID, "email": "lead@example.com", "amount": "1", "currency": "USD"}, 201)
	if got.Affiliate != nil {
		t.Fatalf("a blocked affiliate's lead still attributes: %+v", got)
	}
}

func TestPurchaseMarksLeadPurchased(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shop", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	env.Affiliate("Ann", "ann@partner.example", "ann", prg)
	bob := env.Affiliate("Bob", "bob@partner.example", "bob", prg)
	annRef := postClick(t, env, map[string]string{"ref": "ann"}).Referral
	bobRef := postClick(t, env, map[string]string{"ref": "bob"}).Referral
	rec := env.Request(http.MethodPost, "/t/lead", map[string]string{"email": "jo@example.com", "referral": annRef})
	apptest.Expect(t, rec, 201)
	leadID := apptest.Decode[leadResp](t, rec).Lead

	leadJSON := func() web.LeadJSON {
		page := apptest.Decode[web.Page[web.LeadJSON]](t, env.API(http.MethodGet, "/leads?program="+prg.ID, nil))
		if len(page.Data) != 1 || page.Data[0].ID != leadID {
			t.Fatalf("leads %+v", page.Data)
		}
		return page.Data[0]
	}
	if leadJSON().Purchased {
		t.Fatal("purchased before any purchase")
	}
	// Attributed through Bob's referral, but it is the lead's email: purchased.
	p1 := postPurchase(t, env, map[string]string{"order_id": "1", "program": prg.ID, "email": "JO@example.com", "amount": "5", "currency": "USD", "referral": bobRef}, 201)
	if affiliateOf(p1) != bob.ID {
		t.Fatalf("purchase %+v, want Bob's", p1)
	}
	if !leadJSON().Purchased {
		t.Fatal("the lead is not purchased after a purchase with its email")
	}
	// A second purchase keeps the first as the lead's purchase.
	postPurchase(t, env, map[string]string{"order_id": "2", "program": prg.ID, "email": "jo@example.com", "amount": "5", "currency": "USD"}, 201)
	l, err := env.App.Lead(leadID)
	if err != nil || l.PurchaseID != p1.ID {
		t.Fatalf("lead purchase %q (%v), want the first purchase %s", l.PurchaseID, err, p1.ID)
	}
}

func TestPurchaseIdempotentOrder(t *testing.T) {
	env, advance := newEnv(t)
	prg := env.Program("Shop")
	other := env.Program("Other")
	first := postPurchase(t, env, map[string]string{"order_id": "ORD-9", "program": prg.ID, "email": "jo@example.com", "amount": "10.00", "currency": "USD"}, 201)
	advance(time.Minute)
	again := postPurchase(t, env, map[string]string{"order_id": "ORD-9", "program": prg.ID, "email": "someone@example.com", "amount": "99.00", "currency": "USD"}, 200)
	if !reflect.DeepEqual(again, first) {
		t.Fatalf("replay answered %+v, want the first %+v", again, first)
	}
	postPurchase(t, env, map[string]string{"order_id": "ORD-9", "program": other.ID, "email": "jo@example.com", "amount": "10.00", "currency": "USD"}, 201)
	// Order ids are exact: another case is another order.
	postPurchase(t, env, map[string]string{"order_id": "ord-9", "program": prg.ID, "email": "jo@example.com", "amount": "10.00", "currency": "USD"}, 201)
	if n := purchaseCount(t, env); n != 3 {
		t.Fatalf("%d purchases, want 3", n)
	}
}

func TestPurchaseCommission(t *testing.T) {
	tests := []struct {
		name       string
		ctype      string
		value      string
		programCur string
		amount     string
		currency   string
		want       string
		wantAmount string
	}{
		{"30% of 0.05 USD rounds half up", "percent", "30", "USD", "0.05", "USD", "0.02", "0.05"},
		{"30% of 0.01 USD", "percent", "30", "USD", "0.01", "USD", "0.00", "0.01"},
		{"30% of 49.00", "percent", "30", "USD", "49.00", "USD", "14.70", "49.00"},
		{"12.5% of 0.04", "percent", "12.5", "USD", "0.04", "USD", "0.01", "0.04"},
		{"30% of 1005 JPY", "percent", "30", "USD", "1005", "JPY", "302", "1005"},
		{"30% of 1 JPY", "percent", "30", "USD", "1", "JPY", "0", "1"},
		{"amount rounds half up too", "percent", "10", "USD", "10.005", "USD", "1.00", "10.01"},
		{"3 decimals: 10% of 1.005 KWD", "percent", "10", "USD", "1.005", "KWD", "0.101", "1.005"},
		{"0%", "percent", "0", "USD", "100", "USD", "0.00", "100.00"},
		{"100%", "percent", "100", "USD", "100", "USD", "100.00", "100.00"},
		{"flat in the program's currency", "flat", "5.00", "USD", "49.00", "USD", "5.00", "49.00"},
		{"flat JPY", "flat", "500", "JPY", "3000", "JPY", "500", "3000"},
		{"flat, purchase in another currency earns nothing", "flat", "5.00", "USD", "49.00", "EUR", "0.00", "49.00"},
		{"flat EUR", "flat", "5.00", "EUR", "49.00", "eur", "5.00", "49.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t)
			prg := env.Program("Shop", func(in *app.ProgramInput) {
				in.CommissionType = apptest.Ptr(tt.ctype)
				in.CommissionValue = apptest.Ptr(tt.value)
				in.Currency = apptest.Ptr(tt.programCur)
			})
			af := env.Affiliate("Ann", "ann@partner.example", "ann", prg)
			ref := postClick(t, env, map[string]string{"ref": "ann"}).Referral
			body := map[string]string{"order_id": "1", "program": prg.ID, "email": "jo@example.com", "amount": tt.amount, "currency": tt.currency, "referral": ref}
			got := postPurchase(t, env, body, 201)
			if affiliateOf(got) != af.ID || got.Commission != tt.want || got.Amount != tt.wantAmount {
				t.Fatalf("affiliate %q amount %s commission %s %s; want Ann, %s, %s", affiliateOf(got), got.Amount, got.Commission, got.Currency, tt.wantAmount, tt.want)
			}
		})
	}
}

func TestRefundPurchase(t *testing.T) {
	env, advance := newEnv(t)
	prg := env.Program("Shop", func(in *app.ProgramInput) {
		in.CommissionType = apptest.Ptr("percent")
		in.CommissionValue = apptest.Ptr("10")
	})
	env.Affiliate("Ann", "ann@partner.example", "ann", prg)
	ref := postClick(t, env, map[string]string{"ref": "ann"}).Referral
	p := postPurchase(t, env, map[string]string{"order_id": "1", "program": prg.ID, "email": "jo@example.com", "amount": "50.00", "currency": "USD", "referral": ref}, 201)

	money := func() (purchases, refunds, amount, commission int64) {
		err := env.DB.View(func(tx *store.Tx) error {
			return tx.Rollups(0, 1<<31, prg.ID, func(_ uint32, _, _ string, r *store.Rollup) {
				purchases += r.Purchases
				refunds += r.Refunds
				for _, m := range r.Money {
					amount += m.Amount
					commission += m.Commission
				}
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if pu, re, am, co := money(); pu != 1 || re != 0 || am != 5000 || co != 500 {
		t.Fatalf("before refund: rollup %d %d %d %d", pu, re, am, co)
	}
	advance(time.Hour)
	rec := env.API(http.MethodPost, "/purchases/"+p.ID+"/refund", nil)
	apptest.Expect(t, rec, 200)
	refunded := apptest.Decode[web.PurchaseJSON](t, rec)
	want := p
	want.Status, want.RefundedAmount = "refunded", "50.00"
	if !reflect.DeepEqual(refunded, want) {
		t.Fatalf("refunded\n got %+v\nwant %+v", refunded, want)
	}
	if pu, re, am, co := money(); pu != 1 || re != 1 || am != 0 || co != 0 {
		t.Fatalf("after refund: rollup %d %d %d %d; want the money out", pu, re, am, co)
	}
	// Again: 200, unchanged, and the totals are not corrected twice.
	advance(time.Hour)
	rec = env.API(http.MethodPost, "/purchases/"+p.ID+"/refund", nil)
	apptest.Expect(t, rec, 200)
	if again := apptest.Decode[web.PurchaseJSON](t, rec); !reflect.DeepEqual(again, refunded) {
		t.Fatalf("second refund %+v, want %+v", again, refunded)
	}
	if pu, re, am, co := money(); pu != 1 || re != 1 || am != 0 || co != 0 {
		t.Fatalf("after a second refund: rollup %d %d %d %d", pu, re, am, co)
	}
	got := apptest.Decode[web.PurchaseJSON](t, env.API(http.MethodGet, "/purchases/"+p.ID, nil))
	if got.Status != "refunded" {
		t.Fatalf("stored status %q", got.Status)
	}
	for _, id := range []string{store.NewID(t0), "nope"} {
		wantError(t, env.API(http.MethodPost, "/purchases/"+id+"/refund", nil), 404, "purchase_not_found")
	}
}
