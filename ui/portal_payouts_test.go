package ui

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// partner returns a browser signed in to the portal as email, on the
// scene's server.
func (s *moneyScene) partner(t *testing.T, email string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, env: s.env, srv: s.b.srv, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	p := b.submit("/portal/login", "/portal/login", url.Values{"email": {email}, "password": {portalPassword}})
	expectStatus(t, p, http.StatusSeeOther)
	return b
}

func TestPortalPayoutsPage(t *testing.T) {
	s := newMoneyScene(t)
	s.populate(t)
	s.sale(t, s.shop, "ann", "A-3", "10.00") // 3.00 on hold
	id := s.createPayout(t, url.Values{"currency": {"USD"}, "minimum": {"5.00"}})

	ann := s.partner(t, "ann@partners.example")
	p := ann.get("/portal/payouts")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, `href="/portal/payouts" class="active" aria-current="page">Payouts</a>`)
	text := textOf(p.Body)
	for _, want := range []string{
		"EUR €0.00 €5.00 €0.00 €0.00", "USD $3.00 $0.00 $45.00 $0.00",
		"being paid $45.00 2 PayPal ann-pp@partners.example —",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Ann's page lacks %q:\n%s", want, text)
		}
	}
	mustContain(t, p.Body, `name="method" value="paypal" checked`, `value="ann-pp@partners.example"`)
	// Only her own share: nothing of Bob's item nor of the payout's total.
	mustNotContain(t, p.Body, "Bob", "bob-wise@", "60.00", "105.00", id)

	// Cid was not in the payout: no payments, only its balance.
	cid := s.partner(t, "cid@partners.example")
	p = cid.get("/portal/payouts")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "No payments yet", "USD", "3.00", `name="method" value="" checked`)
	mustNotContain(t, p.Body, "Ann", "45.00")

	// Paid: the history says so, with the day.
	p = s.b.submit("/payouts/"+id, "/payouts/"+id+"/paid", nil)
	expectStatus(t, p, http.StatusSeeOther)
	p = ann.get("/portal/payouts")
	mustContain(t, textOf(p.Body), "paid $45.00 2 PayPal ann-pp@partners.example 2026-04-01", "USD $3.00 $0.00 $0.00 $45.00")

	// Bob sees his own, paid by Wise.
	bob := s.partner(t, "bob@partners.example")
	p = bob.get("/portal/payouts")
	mustContain(t, textOf(p.Body), "paid $60.00 1 Wise bob-wise@partners.example")
	mustNotContain(t, p.Body, "Ann", "45.00")

	// A bad history link is a friendly 400.
	p = ann.get("/portal/payouts?cursor=garbage")
	expectStatus(t, p, http.StatusBadRequest)
	mustContain(t, p.Body, "this page link is not valid")
}

func TestPortalPayoutDetailsForm(t *testing.T) {
	s := newMoneyScene(t)
	cid := s.partner(t, "cid@partners.example")
	p := cid.get("/portal/payouts")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, `action="/portal/payouts"`, `name="method" value="" checked`, "No commissions yet")

	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"unknown method", url.Values{"method": {"bitcoin"}, "email": {"cid@wallet.example"}}, "method", "Payment method must be paypal or wise."},
		{"method without email", url.Values{"method": {"paypal"}, "email": {" "}}, "email", "Email is required to be paid by paypal."},
		{"bad email", url.Values{"method": {"wise"}, "email": {"cid-at-example"}}, "email", "Email is not a valid email address."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := cid.submit("/portal/payouts", "/portal/payouts", tc.form)
			expectStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p.Body, `<p class="field-error">`+tc.msg, "Save payout details", `value="`+strings.TrimSpace(tc.form.Get("email"))+`"`)
			if af, _ := s.env.App.Affiliate(s.cid.ID); af.PayoutMethod != "" || af.PayoutEmail != "" {
				t.Fatalf("a refused form stored %q %q", af.PayoutMethod, af.PayoutEmail)
			}
		})
	}

	p = cid.submit("/portal/payouts", "/portal/payouts", url.Values{"method": {"paypal"}, "email": {"cid-pp@partners.example"}})
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/portal/payouts" {
		t.Fatalf("redirect to %q", p.Location)
	}
	if af, _ := s.env.App.Affiliate(s.cid.ID); af.PayoutMethod != "paypal" || af.PayoutEmail != "cid-pp@partners.example" {
		t.Fatalf("stored %q %q", af.PayoutMethod, af.PayoutEmail)
	}
	p = cid.get("/portal/payouts")
	mustContain(t, p.Body, "you will be paid by PayPal", `name="method" value="paypal" checked`, `value="cid-pp@partners.example"`)

	// The details are the session's affiliate's: Ann's are untouched, and a
	// post naming another affiliate changes nothing of theirs.
	p = cid.submit("/portal/payouts", "/portal/payouts", url.Values{"method": {"wise"}, "email": {"x@wise.example"}, "affiliate_id": {s.ann.ID}})
	expectStatus(t, p, http.StatusSeeOther)
	if af, _ := s.env.App.Affiliate(s.cid.ID); af.PayoutMethod != "wise" || af.PayoutEmail != "x@wise.example" {
		t.Fatalf("Cid's details: %q %q", af.PayoutMethod, af.PayoutEmail)
	}
	if af, _ := s.env.App.Affiliate(s.ann.ID); af.PayoutMethod != "paypal" || af.PayoutEmail != "ann-pp@partners.example" {
		t.Fatalf("Ann's details changed: %q %q", af.PayoutMethod, af.PayoutEmail)
	}

	// Signed out, both go to the sign-in page; without a token the post is refused.
	anon := s.partner(t, "bob@partners.example")
	anon.submit("/portal", "/portal/logout", nil)
	p = anon.get("/portal/payouts")
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/portal/login?next="+url.QueryEscape("/portal/payouts") {
		t.Fatalf("redirect to %q", p.Location)
	}
	p = anon.submit("/portal/login", "/portal/payouts", url.Values{"method": {"paypal"}, "email": {"thief@example.com"}})
	expectStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.Location, "/portal/login") {
		t.Fatalf("redirect to %q", p.Location)
	}
	p = cid.post("/portal/payouts", url.Values{"method": {"wise"}, "email": {"thief@example.com"}})
	expectStatus(t, p, http.StatusForbidden)
	if af, _ := s.env.App.Affiliate(s.bob.ID); af.PayoutEmail != "bob-wise@partners.example" {
		t.Fatalf("Bob's details changed: %q", af.PayoutEmail)
	}
	if af, _ := s.env.App.Affiliate(s.cid.ID); af.PayoutEmail != "x@wise.example" {
		t.Fatalf("a post without a token changed Cid's details: %q", af.PayoutEmail)
	}
	// The admin's session opens no portal page.
	p = s.b.get("/portal/payouts")
	expectStatus(t, p, http.StatusSeeOther)
}

func TestPortalProgramShowsCommissionStatus(t *testing.T) {
	s := newMoneyScene(t)
	a1 := s.sale(t, s.shop, "ann", "A-1", "100.00")
	s.sale(t, s.shop, "bob", "B-1", "200.00")
	ann := s.partner(t, "ann@partners.example")
	page := "/portal/programs/" + s.shop.ID + "?list=purchases&from=2026-03-01&to=2026-03-01"
	p := ann.get(page)
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Commission status", "A-1", "on hold", "until 2026-03-31")
	mustNotContain(t, p.Body, "B-1")

	// Approved, paid, then refunded after payment: each shows.
	if _, err := s.env.App.ApproveCommission(s.commissionOf(t, a1).ID); err != nil {
		t.Fatal(err)
	}
	p = ann.get(page)
	mustContain(t, p.Body, `<span class="badge badge-approved">approved</span>`)
	id := s.createPayout(t, url.Values{"currency": {"USD"}})
	p = ann.get(page)
	mustContain(t, p.Body, `<span class="badge badge-processing">being paid</span>`)
	s.b.submit("/payouts/"+id, "/payouts/"+id+"/paid", nil)
	if _, err := s.env.App.RefundPurchase(a1, "50.00"); err != nil {
		t.Fatal(err)
	}
	p = ann.get(page)
	mustContain(t, p.Body, `<span class="badge badge-paid">paid</span>`, "-$15.00 taken back after a refund")

	// A program that does not share purchasers shows no rows at all.
	p = ann.get("/portal/programs/" + s.club.ID + "?list=purchases")
	expectStatus(t, p, http.StatusOK)
	mustNotContain(t, p.Body, "Commission status")

	// Bob sees his own commission, never Ann's.
	bob := s.partner(t, "bob@partners.example")
	p = bob.get(page)
	mustContain(t, p.Body, "B-1", "on hold")
	mustNotContain(t, p.Body, "A-1", "taken back")
}
