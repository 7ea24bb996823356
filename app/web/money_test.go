package web_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/event"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/app/webhook/webhooktest"
	"github.com/spiffy/spiffy/store"
)

// moneyEnv is a program paying 10% with a 7-day hold, and three affiliates:
// Ann paid by PayPal, Bob by Wise, Cy with no payout details yet.
type moneyEnv struct {
	*apptest.Env
	t       *testing.T
	advance func(time.Duration)
	prg     *store.Program
	ann     *store.Affiliate
	bob     *store.Affiliate
	cy      *store.Affiliate
}

func newMoneyEnv(t *testing.T) *moneyEnv {
	t.Helper()
	env, advance := newEnv(t, apptest.LoopbackWebhooks)
	m := &moneyEnv{Env: env, t: t, advance: advance}
	m.prg = env.Program("Shop", func(in *app.ProgramInput) {
		in.HoldDays, in.CommissionValue = apptest.Ptr(7), apptest.Ptr("10")
	})
	m.ann = env.Affiliate("Ann Lee", "ann@example.com", "ann", m.prg)
	m.bob = env.Affiliate("Bob, Jr.", "bob@example.com", "bob", m.prg)
	m.cy = env.Affiliate("Cy", "cy@example.com", "cy", m.prg)
	for _, d := range []struct {
		af            *store.Affiliate
		method, email string
	}{{m.ann, "paypal", "ann.pay@example.com"}, {m.bob, "wise", "bob.wise@example.com"}} {
		rec := env.API(http.MethodPatch, "/affiliates/"+d.af.ID, map[string]string{"payout_method": d.method, "payout_email": d.email})
		apptest.Expect(t, rec, http.StatusOK)
	}
	return m
}

// sale reports a purchase referred by code and returns it.
func (m *moneyEnv) sale(code, order, amount, currency string) web.PurchaseJSON {
	m.t.Helper()
	ref := postClick(m.t, m.Env, map[string]string{"ref": code}).Referral
	return postPurchase(m.t, m.Env, map[string]string{"order_id": order, "program": m.prg.ID, "email": "buyer-" + order + "@example.com",
		"amount": amount, "currency": currency, "referral": ref}, http.StatusCreated)
}

// commissions returns the purchase's commissions, newest first.
func (m *moneyEnv) commissions(purchaseID string) []web.CommissionJSON {
	m.t.Helper()
	rec := m.API(http.MethodGet, "/commissions?purchase="+purchaseID, nil)
	apptest.Expect(m.t, rec, http.StatusOK)
	return apptest.Decode[web.Page[web.CommissionJSON]](m.t, rec).Data
}

func (m *moneyEnv) approveAll() {
	m.t.Helper()
	rec := m.API(http.MethodGet, "/commissions?status=pending&limit=500", nil)
	apptest.Expect(m.t, rec, http.StatusOK)
	for _, c := range apptest.Decode[web.Page[web.CommissionJSON]](m.t, rec).Data {
		apptest.Expect(m.t, m.API(http.MethodPost, "/commissions/"+c.ID+"/approve", nil), http.StatusOK)
	}
}

// balance returns an affiliate's balance in a currency (zero when none).
func (m *moneyEnv) balance(affID, currency string) web.BalanceJSON {
	m.t.Helper()
	rec := m.API(http.MethodGet, "/balances?affiliate="+affID+"&currency="+currency, nil)
	apptest.Expect(m.t, rec, http.StatusOK)
	rows := apptest.Decode[struct{ Data []web.BalanceJSON }](m.t, rec).Data
	if len(rows) == 0 { // no counters: nothing in any status
		return web.BalanceJSON{Affiliate: affID, Currency: currency, Pending: "0.00", Approved: "0.00", Processing: "0.00", Paid: "0.00"}
	}
	if len(rows) != 1 {
		m.t.Fatalf("balances of %s in %s: %+v", affID, currency, rows)
	}
	return rows[0]
}

func (m *moneyEnv) createPayout(body map[string]string, status int) web.PayoutJSON {
	m.t.Helper()
	rec := m.API(http.MethodPost, "/payouts", body)
	apptest.Expect(m.t, rec, status)
	return apptest.Decode[web.PayoutJSON](m.t, rec)
}

func TestCommissionLifecycle(t *testing.T) {
	m := newMoneyEnv(t)
	p := m.sale("ann", "o-1", "100.00", "USD")
	coms := m.commissions(p.ID)
	if len(coms) != 1 {
		t.Fatalf("commissions %+v", coms)
	}
	c := coms[0]
	want := web.CommissionJSON{ID: c.ID, Purchase: p.ID, Program: m.prg.ID, Affiliate: m.ann.ID, Kind: "sale", Amount: "10.00",
		Currency: "USD", Status: "pending", ApproveAt: t0.AddDate(0, 0, 7).Format(time.RFC3339), CreatedAt: t0.Format(time.RFC3339)}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("commission\n got %+v\nwant %+v", c, want)
	}
	rec := m.API(http.MethodGet, "/commissions/"+c.ID, nil)
	apptest.Expect(t, rec, http.StatusOK)
	if got := apptest.Decode[web.CommissionJSON](t, rec); !reflect.DeepEqual(got, want) {
		t.Fatalf("GET commission %+v", got)
	}
	if b := m.balance(m.ann.ID, "USD"); b.Pending != "10.00" || b.Approved != "0.00" || b.Name != "Ann Lee" {
		t.Fatalf("balance after the sale %+v", b)
	}

	steps := []struct {
		action, wantStatus, wantCode string
	}{
		{"void", "voided", ""},
		{"approve", "", "invalid_state"},
		{"void", "", "invalid_state"},
	}
	// A second purchase walks pending → approved → voided; the first is voided straight away.
	for _, s := range steps {
		rec := m.API(http.MethodPost, "/commissions/"+c.ID+"/"+s.action, nil)
		if s.wantCode != "" {
			wantError(t, rec, http.StatusConflict, s.wantCode)
			continue
		}
		apptest.Expect(t, rec, http.StatusOK)
		if got := apptest.Decode[web.CommissionJSON](t, rec); got.Status != s.wantStatus {
			t.Fatalf("%s: status %s, want %s", s.action, got.Status, s.wantStatus)
		}
	}
	c2 := m.commissions(m.sale("ann", "o-2", "50.00", "USD").ID)[0]
	for _, s := range []struct{ action, wantStatus, wantCode string }{
		{"approve", "approved", ""},
		{"approve", "", "invalid_state"},
		{"void", "voided", ""},
	} {
		rec := m.API(http.MethodPost, "/commissions/"+c2.ID+"/"+s.action, nil)
		if s.wantCode != "" {
			wantError(t, rec, http.StatusConflict, s.wantCode)
			continue
		}
		apptest.Expect(t, rec, http.StatusOK)
		if got := apptest.Decode[web.CommissionJSON](t, rec); got.Status != s.wantStatus {
			t.Fatalf("%s: status %s, want %s", s.action, got.Status, s.wantStatus)
		}
	}
	if b := m.balance(m.ann.ID, "USD"); b.Pending != "0.00" || b.Approved != "0.00" {
		t.Fatalf("voided commissions still counted: %+v", b)
	}

	c3 := m.commissions(m.sale("bob", "o-3", "20.00", "USD").ID)[0]
	apptest.RunScenarios(t, m.APISender(), []apptest.Scenario{
		{Name: "unknown commission", Method: http.MethodGet, Path: "/commissions/" + store.NewID(t0), Status: 404, Code: "commission_not_found"},
		{Name: "malformed commission id", Method: http.MethodGet, Path: "/commissions/nope", Status: 404, Code: "commission_not_found"},
		{Name: "approve unknown", Path: "/commissions/" + store.NewID(t0) + "/approve", Status: 404, Code: "commission_not_found"},
		{Name: "bad status filter", Method: http.MethodGet, Path: "/commissions?status=owed", Status: 400, Code: "invalid_status"},
		{Name: "bad affiliate filter", Method: http.MethodGet, Path: "/commissions?affiliate=x", Status: 400, Code: "invalid_affiliate"},
		{Name: "bad date", Method: http.MethodGet, Path: "/commissions?from=yesterday", Status: 400, Code: "invalid_from"},
		{Name: "bad cursor", Method: http.MethodGet, Path: "/commissions?cursor=zzz", Status: 400},
		{Name: "by status", Method: http.MethodGet, Path: "/commissions?status=pending", Status: 200, Want: []string{c3.ID}, NotWant: []string{c2.ID}},
		{Name: "by affiliate", Method: http.MethodGet, Path: "/commissions?affiliate=" + m.bob.ID, Status: 200, Want: []string{c3.ID}, NotWant: []string{c.ID}},
		{Name: "by program and dates", Method: http.MethodGet, Path: "/commissions?program=" + m.prg.ID + "&from=2026-03-01&to=2026-03-01", Status: 200, Want: []string{c.ID, c2.ID, c3.ID}},
		{Name: "outside the dates", Method: http.MethodGet, Path: "/commissions?from=2026-03-02", Status: 200, NotWant: []string{c.ID}},
	})
}

func TestCommissionListPages(t *testing.T) {
	m := newMoneyEnv(t)
	var ids []string
	for _, o := range []string{"a", "b", "c", "d", "e"} {
		ids = append(ids, m.commissions(m.sale("ann", o, "10.00", "USD").ID)[0].ID)
		m.advance(time.Second)
	}
	var got []string
	cursor := ""
	for range 5 {
		rec := m.API(http.MethodGet, "/commissions?limit=2&cursor="+cursor, nil)
		apptest.Expect(t, rec, http.StatusOK)
		page := apptest.Decode[web.Page[web.CommissionJSON]](t, rec)
		for _, c := range page.Data {
			got = append(got, c.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pages %v, want newest first %v", got, want)
	}
}

func TestPayoutFlow(t *testing.T) {
	m := newMoneyEnv(t)
	ep := m.WebhookEndpoint(m.ann.ID, map[string]any{"url": m.webhookURL(t), "events": []string{"purchase.created"}})
	m.sale("ann", "o-1", "300.00", "USD") // 30.00
	m.sale("ann", "o-2", "200.00", "USD") // 20.00
	m.sale("bob", "o-3", "600.00", "USD") // 60.00
	m.sale("cy", "o-4", "40.00", "USD")   // 4.00: under the minimum
	m.sale("bob", "o-5", "100.00", "EUR") // 10.00 EUR: another currency
	pendingOnly := m.sale("ann", "o-6", "1000.00", "USD")
	m.approveAll()
	apptest.Expect(t, m.API(http.MethodPost, "/commissions/"+m.commissions(pendingOnly.ID)[0].ID+"/void", nil), http.StatusOK)
	m.sale("ann", "o-7", "70.00", "USD") // still pending: not in the payout

	p := m.createPayout(map[string]string{"currency": "usd", "minimum": "5.00"}, http.StatusCreated)
	if p.Status != "open" || p.Currency != "USD" || p.Total != "110.00" || p.Minimum != "5.00" || p.PaidAt != nil || len(p.Items) != 2 {
		t.Fatalf("payout %+v", p)
	}
	items := map[string]web.PayoutItemJSON{}
	for _, it := range p.Items {
		items[it.Affiliate] = it
	}
	wantAnn := web.PayoutItemJSON{Affiliate: m.ann.ID, Name: "Ann Lee", Email: "ann@example.com", Method: "paypal",
		PayoutEmail: "ann.pay@example.com", Amount: "50.00", Commissions: 2}
	wantBob := web.PayoutItemJSON{Affiliate: m.bob.ID, Name: "Bob, Jr.", Email: "bob@example.com", Method: "wise",
		PayoutEmail: "bob.wise@example.com", Amount: "60.00", Commissions: 1}
	if items[m.ann.ID] != wantAnn || items[m.bob.ID] != wantBob {
		t.Fatalf("items %+v", p.Items)
	}
	if b := m.balance(m.ann.ID, "USD"); b.Approved != "0.00" || b.Processing != "50.00" || b.Pending != "7.00" {
		t.Fatalf("ann's balance while processing %+v", b)
	}
	if b := m.balance(m.cy.ID, "USD"); b.Approved != "4.00" || b.Processing != "0.00" {
		t.Fatalf("cy (under the minimum) %+v", b)
	}
	if b := m.balance(m.bob.ID, "EUR"); b.Approved != "10.00" {
		t.Fatalf("bob's EUR %+v", b)
	}
	for _, c := range m.listCommissions("status=processing") {
		if c.Payout == nil || *c.Payout != p.ID {
			t.Fatalf("processing commission without the payout: %+v", c)
		}
	}
	// Nothing left at that minimum.
	wantError(t, m.API(http.MethodPost, "/payouts", map[string]string{"currency": "USD", "minimum": "5.00"}), http.StatusConflict, "nothing_due")

	rec := m.API(http.MethodGet, "/payouts/"+p.ID, nil)
	apptest.Expect(t, rec, http.StatusOK)
	if got := apptest.Decode[web.PayoutJSON](t, rec); got.ID != p.ID || len(got.Items) != 2 || got.Total != "110.00" {
		t.Fatalf("GET payout %+v", got)
	}
	rec = m.API(http.MethodGet, "/payouts", nil)
	apptest.Expect(t, rec, http.StatusOK)
	if list := apptest.Decode[web.Page[web.PayoutJSON]](t, rec); len(list.Data) != 1 || list.Data[0].ID != p.ID {
		t.Fatalf("payouts %+v", list)
	}

	// The three files, column by column.
	generic := m.payoutFile(p.ID, "")
	wantGeneric := [][]string{
		{"affiliate", "name", "email", "method", "payout_email", "amount", "currency", "commissions", "reference"},
	}
	paypal := [][]string{}
	wise := [][]string{{"name", "recipientEmail", "paymentReference", "receiverType", "amountCurrency", "amount", "sourceCurrency", "targetCurrency"}}
	for _, it := range p.Items { // items come in affiliate id order, as the files do
		if it.Affiliate == m.ann.ID {
			wantGeneric = append(wantGeneric, []string{m.ann.ID, "Ann Lee", "ann@example.com", "paypal", "ann.pay@example.com", "50.00", "USD", "2", m.ann.ID})
			paypal = append(paypal, []string{"ann.pay@example.com", "50.00", "USD", m.ann.ID, host(m.Config.BaseURL) + " payout " + p.ID, "PAYPAL"})
		} else {
			wantGeneric = append(wantGeneric, []string{m.bob.ID, "Bob, Jr.", "bob@example.com", "wise", "bob.wise@example.com", "60.00", "USD", "1", m.bob.ID})
			wise = append(wise, []string{"Bob, Jr.", "bob.wise@example.com", "Payout " + p.ID[len(p.ID)-11:], "PERSON", "target", "60.00", "USD", "USD"})
		}
	}
	if !reflect.DeepEqual(generic, wantGeneric) {
		t.Fatalf("generic file\n got %q\nwant %q", generic, wantGeneric)
	}
	if got := m.payoutFile(p.ID, "paypal"); !reflect.DeepEqual(got, paypal) {
		t.Fatalf("paypal file\n got %q\nwant %q", got, paypal)
	}
	if got := m.payoutFile(p.ID, "wise"); !reflect.DeepEqual(got, wise) {
		t.Fatalf("wise file\n got %q\nwant %q", got, wise)
	}
	for _, row := range paypal {
		if len(row[3]) > 30 {
			t.Fatalf("paypal reference longer than 30: %q", row[3])
		}
	}
	for _, row := range wise[1:] {
		if len(row[2]) > 18 {
			t.Fatalf("wise reference longer than 18: %q", row[2])
		}
	}

	// Mark paid: commissions paid, payout.paid to Ann's endpoint although
	// it subscribed to purchase.created only.
	m.advance(time.Hour)
	rec = m.API(http.MethodPost, "/payouts/"+p.ID+"/paid", nil)
	apptest.Expect(t, rec, http.StatusOK)
	paid := apptest.Decode[web.PayoutJSON](t, rec)
	paidAt := t0.Add(time.Hour).Format(time.RFC3339)
	if paid.Status != "paid" || paid.PaidAt == nil || *paid.PaidAt != paidAt {
		t.Fatalf("paid payout %+v", paid)
	}
	for _, c := range m.listCommissions("affiliate=" + m.ann.ID + "&status=paid") {
		if c.PaidAt == nil || *c.PaidAt != paidAt || c.Payout == nil || *c.Payout != p.ID {
			t.Fatalf("paid commission %+v", c)
		}
	}
	if n := len(m.listCommissions("status=processing")); n != 0 {
		t.Fatalf("%d commissions still processing", n)
	}
	if b := m.balance(m.ann.ID, "USD"); b.Paid != "50.00" || b.Processing != "0.00" || b.Approved != "0.00" {
		t.Fatalf("ann after payment %+v", b)
	}
	m.WaitWebhooks()
	var events []map[string]any
	for _, msg := range m.WebhookMessages() {
		if msg.EventType == event.PayoutPaid && msg.EndpointID == ep.ID {
			var body struct {
				Type string
				Data map[string]any
			}
			if err := json.Unmarshal(msg.Payload, &body); err != nil {
				t.Fatal(err)
			}
			events = append(events, body.Data)
		}
	}
	wantEvent := map[string]any{"id": p.ID, "affiliate_id": m.ann.ID, "amount": "50.00", "currency": "USD", "commissions": float64(2), "paid_at": paidAt}
	if len(events) != 1 || !reflect.DeepEqual(events[0], wantEvent) {
		t.Fatalf("payout.paid events %+v, want one %+v", events, wantEvent)
	}

	// A paid payout can be neither paid nor canceled again.
	wantError(t, m.API(http.MethodPost, "/payouts/"+p.ID+"/paid", nil), http.StatusConflict, "invalid_state")
	wantError(t, m.API(http.MethodPost, "/payouts/"+p.ID+"/cancel", nil), http.StatusConflict, "invalid_state")

	// A canceled payout gives its commissions back.
	eur := m.createPayout(map[string]string{"currency": "EUR"}, http.StatusCreated)
	if eur.Total != "10.00" || len(eur.Items) != 1 || eur.Minimum != "0.00" {
		t.Fatalf("EUR payout %+v", eur)
	}
	rec = m.API(http.MethodPost, "/payouts/"+eur.ID+"/cancel", nil)
	apptest.Expect(t, rec, http.StatusOK)
	if got := apptest.Decode[web.PayoutJSON](t, rec); got.Status != "canceled" {
		t.Fatalf("canceled payout %+v", got)
	}
	if b := m.balance(m.bob.ID, "EUR"); b.Approved != "10.00" || b.Processing != "0.00" {
		t.Fatalf("bob's EUR after cancel %+v", b)
	}
	wantError(t, m.API(http.MethodPost, "/payouts/"+eur.ID+"/paid", nil), http.StatusConflict, "invalid_state")

	other := m.Program("Other")
	apptest.RunScenarios(t, m.APISender(), []apptest.Scenario{
		{Name: "no currency", Path: "/payouts", Body: map[string]string{"minimum": "1.00"}, Status: 400, Code: "invalid_currency"},
		{Name: "bad currency", Path: "/payouts", Body: map[string]string{"currency": "DOLLARS"}, Status: 400, Code: "invalid_currency"},
		{Name: "bad minimum", Path: "/payouts", Body: map[string]string{"currency": "USD", "minimum": "lots"}, Status: 400, Code: "invalid_minimum"},
		{Name: "negative minimum", Path: "/payouts", Body: map[string]string{"currency": "USD", "minimum": "-1.00"}, Status: 400, Code: "invalid_minimum"},
		{Name: "unknown program", Path: "/payouts", Body: map[string]string{"currency": "USD", "program": store.NewID(t0)}, Status: 400, Code: "unknown_program"},
		{Name: "nothing due in a program", Path: "/payouts", Body: map[string]string{"currency": "USD", "program": other.ID}, Status: 409, Code: "nothing_due"},
		{Name: "not JSON", Path: "/payouts", Body: "{", Status: 400, Code: "invalid_json"},
		{Name: "unknown payout", Method: http.MethodGet, Path: "/payouts/" + store.NewID(t0), Status: 404, Code: "payout_not_found"},
		{Name: "unknown payout file", Method: http.MethodGet, Path: "/payouts/" + store.NewID(t0) + ".csv", Status: 404, Code: "payout_not_found"},
		{Name: "bad file format", Method: http.MethodGet, Path: "/payouts/" + p.ID + ".csv?format=xls", Status: 400, Code: "invalid_format"},
		{Name: "pay unknown", Path: "/payouts/" + store.NewID(t0) + "/paid", Status: 404, Code: "payout_not_found"},
		{Name: "cancel malformed", Path: "/payouts/x/cancel", Status: 404, Code: "payout_not_found"},
		{Name: "bad payout method", Method: http.MethodPatch, Path: "/affiliates/" + m.cy.ID, Body: map[string]string{"payout_method": "cheque"}, Status: 400, Code: "invalid_payout_method"},
		{Name: "method without email", Method: http.MethodPatch, Path: "/affiliates/" + m.cy.ID, Body: map[string]string{"payout_method": "paypal"}, Status: 400, Code: "invalid_email"},
		{Name: "bad payout email", Method: http.MethodPatch, Path: "/affiliates/" + m.cy.ID, Body: map[string]string{"payout_method": "wise", "payout_email": "nope"}, Status: 400, Code: "invalid_email"},
	})
	// Nothing of the refused requests was stored.
	rec = m.API(http.MethodGet, "/payouts", nil)
	if list := apptest.Decode[web.Page[web.PayoutJSON]](t, rec); len(list.Data) != 2 {
		t.Fatalf("%d payouts after refused requests, want 2", len(list.Data))
	}
	rec = m.API(http.MethodGet, "/affiliates/"+m.cy.ID, nil)
	if af := apptest.Decode[web.AffiliateJSON](t, rec); af.PayoutMethod != "" || af.PayoutEmail != "" {
		t.Fatalf("cy's refused payout details were kept: %+v", af)
	}
}

// A program-scoped payout pays only that program's commissions.
func TestPayoutOfOneProgram(t *testing.T) {
	m := newMoneyEnv(t)
	second := m.Program("Second", func(in *app.ProgramInput) { in.CommissionValue = apptest.Ptr("50") })
	code := "ann2"
	apptest.Expect(t, m.API(http.MethodPost, "/programs/"+second.ID+"/affiliates", map[string]string{"affiliate_id": m.ann.ID, "code": code}), http.StatusCreated)
	m.sale("ann", "o-1", "100.00", "USD") // 10.00 in Shop
	ref := postClick(t, m.Env, map[string]string{"ref": code}).Referral
	postPurchase(t, m.Env, map[string]string{"order_id": "s-1", "program": second.ID, "email": "x@example.com", "amount": "100.00", "currency": "USD", "referral": ref}, http.StatusCreated)
	m.approveAll()
	p := m.createPayout(map[string]string{"currency": "USD", "program": second.ID}, http.StatusCreated)
	if p.Total != "50.00" || p.Program == nil || *p.Program != second.ID || len(p.Items) != 1 || p.Items[0].Commissions != 1 {
		t.Fatalf("program payout %+v", p)
	}
	if b := m.balance(m.ann.ID, "USD"); b.Approved != "10.00" || b.Processing != "50.00" {
		t.Fatalf("balance %+v", b)
	}
	rec := m.API(http.MethodGet, "/balances?program="+second.ID, nil)
	rows := apptest.Decode[struct{ Data []web.BalanceJSON }](t, rec).Data
	if len(rows) != 1 || rows[0].Processing != "50.00" || rows[0].Approved != "0.00" {
		t.Fatalf("program balances %+v", rows)
	}
}

// The refund arithmetic: a refund voids the refunded share of an unpaid
// commission and claws back the share of one in a payout; clawbacks are
// netted in the next payout, which never pays a negative balance.
func TestRefundArithmetic(t *testing.T) {
	type refund struct{ amount, status string } // "" amount = all that is left
	cases := []struct {
		name     string
		price    string
		currency string
		before   string // "pending", "approved", "processing" or "paid": where the commission is at the refunds
		refunds  []refund
		// After the refunds: the sale commission's status and amount, the
		// clawback amounts, the purchase's status and refunded amount.
		wantStatus, wantAmount string
		wantClawbacks          []string
		wantPurchase, wantLeft string
	}{
		{"full refund while pending", "100.00", "USD", "pending", []refund{{"", "200"}},
			"voided", "10.00", nil, "refunded", "100.00"},
		{"partial while pending", "100.00", "USD", "pending", []refund{{"25.00", "200"}},
			"pending", "7.50", nil, "paid", "25.00"},
		{"repeated partials while approved", "100.00", "USD", "approved", []refund{{"33.33", "200"}, {"33.33", "200"}, {"33.34", "200"}},
			"voided", "3.33", nil, "refunded", "100.00"},
		{"more than left", "100.00", "USD", "approved", []refund{{"60.00", "200"}, {"40.01", "400"}},
			"approved", "4.00", nil, "paid", "60.00"},
		{"zero and junk amounts", "100.00", "USD", "pending", []refund{{"0", "400"}, {"-5.00", "400"}, {"ten", "400"}, {"1e3", "400"}},
			"pending", "10.00", nil, "paid", "0.00"},
		{"full refund while processing", "100.00", "USD", "processing", []refund{{"", "200"}},
			"processing", "10.00", []string{"-10.00"}, "refunded", "100.00"},
		{"partials after payment", "80.00", "EUR", "paid", []refund{{"20.00", "200"}, {"", "200"}, {"", "200"}},
			"paid", "8.00", []string{"-2.00", "-6.00"}, "refunded", "80.00"},
		{"yen rounds half-up", "999", "JPY", "paid", []refund{{"5", "200"}},
			"paid", "100", []string{"-1"}, "paid", "5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMoneyEnv(t)
			p := m.sale("ann", "o-1", tc.price, tc.currency)
			c := m.commissions(p.ID)[0]
			if tc.before != "pending" {
				apptest.Expect(t, m.API(http.MethodPost, "/commissions/"+c.ID+"/approve", nil), http.StatusOK)
			}
			if tc.before == "processing" || tc.before == "paid" {
				po := m.createPayout(map[string]string{"currency": tc.currency}, http.StatusCreated)
				if tc.before == "paid" {
					apptest.Expect(t, m.API(http.MethodPost, "/payouts/"+po.ID+"/paid", nil), http.StatusOK)
				}
			}
			for _, r := range tc.refunds {
				var body any
				if r.amount != "" {
					body = map[string]string{"amount": r.amount}
				}
				rec := m.API(http.MethodPost, "/purchases/"+p.ID+"/refund", body)
				if r.status == "400" {
					wantError(t, rec, http.StatusBadRequest, "invalid_amount")
				} else {
					apptest.Expect(t, rec, http.StatusOK)
				}
			}
			rec := m.API(http.MethodGet, "/purchases/"+p.ID, nil)
			got := apptest.Decode[web.PurchaseJSON](t, rec)
			if got.Status != tc.wantPurchase || got.RefundedAmount != tc.wantLeft {
				t.Fatalf("purchase %s refunded %s, want %s %s", got.Status, got.RefundedAmount, tc.wantPurchase, tc.wantLeft)
			}
			var sale *web.CommissionJSON
			var claws []string
			coms := m.commissions(p.ID)
			for i := len(coms) - 1; i >= 0; i-- { // oldest first
				c := coms[i]
				switch c.Kind {
				case "sale":
					sale = &c
				case "clawback":
					if c.Status != "approved" || c.ClawbackOf == nil || *c.ClawbackOf != sale.ID {
						t.Fatalf("clawback %+v", c)
					}
					claws = append(claws, c.Amount)
				}
			}
			if sale.Status != tc.wantStatus || sale.Amount != tc.wantAmount || !reflect.DeepEqual(claws, tc.wantClawbacks) {
				t.Fatalf("sale commission %s %s, clawbacks %v; want %s %s, %v", sale.Status, sale.Amount, claws, tc.wantStatus, tc.wantAmount, tc.wantClawbacks)
			}
		})
	}
}

// A clawback is netted in the next payout; a net balance at or below zero
// is never paid.
func TestClawbackNettedInNextPayout(t *testing.T) {
	m := newMoneyEnv(t)
	first := m.sale("ann", "o-1", "100.00", "USD") // 10.00
	m.approveAll()
	p := m.createPayout(map[string]string{"currency": "USD"}, http.StatusCreated)
	apptest.Expect(t, m.API(http.MethodPost, "/payouts/"+p.ID+"/paid", nil), http.StatusOK)
	apptest.Expect(t, m.API(http.MethodPost, "/purchases/"+first.ID+"/refund", nil), http.StatusOK) // -10.00 clawback
	if b := m.balance(m.ann.ID, "USD"); b.Approved != "-10.00" || b.Paid != "10.00" {
		t.Fatalf("after the clawback %+v", b)
	}
	m.sale("ann", "o-2", "60.00", "USD") // +6.00: net -4.00
	m.approveAll()
	wantError(t, m.API(http.MethodPost, "/payouts", map[string]string{"currency": "USD"}), http.StatusConflict, "nothing_due")
	m.sale("ann", "o-3", "150.00", "USD") // +15.00: net 11.00
	m.approveAll()
	next := m.createPayout(map[string]string{"currency": "USD", "minimum": "11.00"}, http.StatusCreated)
	if next.Total != "11.00" || len(next.Items) != 1 || next.Items[0].Commissions != 3 {
		t.Fatalf("netted payout %+v", next)
	}
	if b := m.balance(m.ann.ID, "USD"); b.Approved != "0.00" || b.Processing != "11.00" {
		t.Fatalf("balance after the netted payout %+v", b)
	}
}

func (m *moneyEnv) listCommissions(query string) []web.CommissionJSON {
	m.t.Helper()
	rec := m.API(http.MethodGet, "/commissions?limit=500&"+query, nil)
	apptest.Expect(m.t, rec, http.StatusOK)
	return apptest.Decode[web.Page[web.CommissionJSON]](m.t, rec).Data
}

// payoutFile downloads a payout's file and parses it as CSV.
func (m *moneyEnv) payoutFile(id, format string) [][]string {
	m.t.Helper()
	path := "/payouts/" + id + ".csv"
	if format != "" {
		path += "?format=" + format
	}
	rec := m.API(http.MethodGet, path, nil)
	apptest.Expect(m.t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		m.t.Fatalf("content type %q", ct)
	}
	if !strings.HasSuffix(rec.Body.String(), "\r\n") && rec.Body.Len() > 0 {
		m.t.Fatalf("rows not CRLF-terminated: %q", rec.Body.String())
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		m.t.Fatal(err)
	}
	if rows == nil {
		rows = [][]string{}
	}
	return rows
}

func (m *moneyEnv) webhookURL(t *testing.T) string {
	return webhooktest.NewReceiver(t, webhooktest.Answering(http.StatusOK)).URL
}

func host(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	return u.Hostname()
}
