package ui

import (
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// moneyScene: Shop (USD, 30%, shares purchasers) and Club (EUR, flat
// 5.00); Ann is paid by PayPal, Bob by Wise, Cid has chosen nothing. Sales
// go through the real tracking and purchase API, so each earns its
// commission the way production does.
type moneyScene struct {
	b             *browser // the signed-in admin
	env           *apptest.Env
	now           time.Time
	shop, club    *store.Program
	ann, bob, cid *store.Affiliate
}

func newMoneyScene(t *testing.T) *moneyScene {
	t.Helper()
	b := newBrowser(t, apptest.Unthrottled)
	s := &moneyScene{b: b, env: b.env, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s.env.SetClock(s.now)
	s.shop = s.env.Program("Shop", func(in *app.ProgramInput) {
		in.CommissionValue, in.SharePurchasers = apptest.Ptr("30"), apptest.Ptr(true)
	})
	s.club = s.env.Program("Club", func(in *app.ProgramInput) {
		in.CommissionType, in.CommissionValue, in.Currency = apptest.Ptr("flat"), apptest.Ptr("5.00"), apptest.Ptr("EUR")
	})
	s.ann = s.env.Affiliate("Ann Partner", "ann@partners.example", "ann", s.shop, s.club)
	s.bob = s.env.Affiliate("Bob Partner", "bob@partners.example", "bob", s.shop)
	s.cid = s.env.Affiliate("Cid Partner", "cid@partners.example", "cid", s.shop)
	for _, d := range []struct {
		af            *store.Affiliate
		method, email string
	}{{s.ann, "paypal", "ann-pp@partners.example"}, {s.bob, "wise", "bob-wise@partners.example"}} {
		if _, err := s.env.App.SetPayoutDetails(d.af.ID, d.method, d.email); err != nil {
			t.Fatal(err)
		}
	}
	b.signInAdmin()
	return s
}

// sale reports a purchase referred through code and returns its id.
func (s *moneyScene) sale(t *testing.T, prg *store.Program, code, order, amount string) string {
	t.Helper()
	rec := s.env.Request(http.MethodPost, "/t/click", map[string]string{"ref": code})
	apptest.Expect(t, rec, http.StatusCreated)
	ref := apptest.Decode[struct{ Referral string }](t, rec).Referral
	rec = s.env.API(http.MethodPost, "/purchases", map[string]string{"order_id": order, "program": prg.ID,
		"email": strings.ToLower(order) + "@customers.example", "amount": amount, "currency": prg.Currency, "referral": ref})
	apptest.Expect(t, rec, http.StatusCreated)
	return apptest.Decode[web.PurchaseJSON](t, rec).ID
}

// commissionOf is the (first) commission of a purchase.
func (s *moneyScene) commissionOf(t *testing.T, purchase string) *store.Commission {
	t.Helper()
	cs, _, err := s.env.App.Commissions(app.CommissionFilter{Purchase: purchase}, "", 10)
	if err != nil || len(cs) == 0 {
		t.Fatalf("commissions of %s: %v %v", purchase, cs, err)
	}
	return cs[len(cs)-1]
}

// approveAll ends every hold: the clock moves past it and the approval job runs.
func (s *moneyScene) approveAll(t *testing.T) {
	t.Helper()
	s.env.Clock.Add(31 * 24 * time.Hour)
	if _, err := s.env.App.ApproveDueCommissions(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// populate: Ann 100.00 and 50.00, Bob 200.00 and Cid 10.00 in Shop (30%:
// 45.00, 60.00, 3.00 USD due); Ann one Club sale (5.00 EUR due). All approved.
func (s *moneyScene) populate(t *testing.T) {
	t.Helper()
	s.sale(t, s.shop, "ann", "A-1", "100.00")
	s.sale(t, s.shop, "ann", "A-2", "50.00")
	s.sale(t, s.shop, "bob", "B-1", "200.00")
	s.sale(t, s.shop, "cid", "C-1", "10.00")
	s.sale(t, s.club, "ann-"+s.club.ID[len(s.club.ID)-4:], "A-EUR", "80.00")
	s.approveAll(t)
}

var payoutLocation = regexp.MustCompile(`^/payouts/([0-9A-Z]{26})$`)

// createPayout submits the form and returns the new payout's id.
func (s *moneyScene) createPayout(t *testing.T, form url.Values) string {
	t.Helper()
	p := s.b.submit("/payouts", "/payouts", form)
	expectStatus(t, p, http.StatusSeeOther)
	m := payoutLocation.FindStringSubmatch(p.Location)
	if m == nil {
		t.Fatalf("create payout redirects to %q", p.Location)
	}
	return m[1]
}

func (s *moneyScene) payouts(t *testing.T) []*app.PayoutView {
	t.Helper()
	ps, _, err := s.env.App.Payouts(app.Merchant, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func (s *moneyScene) balances(t *testing.T) []views.BalanceRow {
	t.Helper()
	bs, err := s.env.App.Balances(app.BalanceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

func readRows(t *testing.T, body string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(body))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, body)
	}
	return rows
}

// textOf is a page's text without tags, entities decoded, spaces squeezed.
func textOf(body string) string {
	s := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(body, " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

func TestPayoutsPageShowsBalancesDue(t *testing.T) {
	s := newMoneyScene(t)
	p := s.b.get("/payouts")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Nothing is owed yet", "No balances yet", "No payouts yet", `href="/payouts" class="active" aria-current="page">Payouts</a>`)

	s.populate(t)
	s.sale(t, s.shop, "bob", "B-2", "20.00") // pending: 6.00 on hold
	p = s.b.get("/payouts")
	expectStatus(t, p, http.StatusOK)
	text := textOf(p.Body)
	for _, want := range []string{
		"Due in EUR €5.00 to 1 affiliate", "Due in USD $108.00 to 3 affiliates · $6.00 on hold",
		"Showing 1–4 of 4 balances",
		// EUR first, then USD by amount due, largest first.
		"Ann Partner €0.00 €5.00 €0.00 €0.00 Commissions Bob Partner $6.00 $60.00 $0.00 $0.00 Commissions Ann Partner $0.00 $45.00",
		"Cid Partner $0.00 $3.00",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q:\n%s", want, text)
		}
	}
	mustContain(t, p.Body, `<option value="USD" selected>USD — $108.00 due to 3 affiliates</option>`, `<option value="EUR" >EUR — €5.00 due to 1 affiliate</option>`,
		`<option value="`+s.club.ID+`" >Club</option>`, `href="/commissions?affiliate=`+s.bob.ID+`"`, `href="/payouts?currency=EUR#balances"`)

	// The currency filter keeps one currency's rows and preselects it.
	p = s.b.get("/payouts?currency=eur")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Showing 1–1 of 1 balance", `<option value="EUR" selected>`)
	mustNotContain(t, p.Body, "Bob Partner")

	// A bad filter or history link is a message, not an error page.
	for _, q := range []string{"?currency=dollars", "?history=not-a-cursor"} {
		p = s.b.get("/payouts" + q)
		expectStatus(t, p, http.StatusBadRequest)
		mustContain(t, p.Body, `class="flash flash-error" role="alert"`, "Show all balances")
	}
}

func TestPayoutsBalancesArePagedLargestDueFirst(t *testing.T) {
	s := newMoneyScene(t)
	// 230 affiliates with an approved USD balance each (i+1 dollars), stored
	// directly: the page reads the counters, whatever wrote them.
	const n = 230
	at := s.now
	err := s.env.DB.Update(func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			at = at.Add(time.Millisecond)
			af := &store.Affiliate{ID: store.NewID(at), Name: fmt.Sprintf("Bulk %03d", i), Email: fmt.Sprintf("bulk%03d@partners.example", i),
				Status: app.StatusActive, CreatedAt: at}
			if err := tx.PutAffiliate(af); err != nil {
				return err
			}
			c := &store.Commission{ID: store.NewID(at), PurchaseID: store.NewID(at), ProgramID: s.shop.ID, AffiliateID: af.ID,
				Kind: app.CommissionSale, Amount: int64(i+1) * 100, Currency: "USD", Status: app.CommissionApproved, ApproveAt: at, CreatedAt: at}
			if err := tx.PutCommission(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`>(Bulk \d{3})</a>`)
	var seen []string
	next := "/payouts?currency=USD"
	for page := 1; next != ""; page++ {
		if page > 3 {
			t.Fatal("more than 3 pages")
		}
		p := s.b.get(next)
		expectStatus(t, p, http.StatusOK)
		var rows []string
		for _, m := range names.FindAllStringSubmatch(p.Body, -1) {
			rows = append(rows, m[1])
		}
		if want := min(views.BalancesPageSize, n-len(seen)); len(rows) != want {
			t.Fatalf("page %d: %d rows, want %d", page, len(rows), want)
		}
		mustContain(t, p.Body, fmt.Sprintf("Page %d of 3", page), fmt.Sprintf("Showing %d–%d of 230 balances", len(seen)+1, len(seen)+len(rows)))
		seen = append(seen, rows...)
		next = ""
		if m := regexp.MustCompile(`href="([^"]+)#balances" rel="next"`).FindStringSubmatch(p.Body); m != nil {
			next = html.UnescapeString(m[1])
		}
	}
	for i, name := range seen { // the largest amount due first
		if want := fmt.Sprintf("Bulk %03d", n-1-i); name != want {
			t.Fatalf("row %d is %s, want %s", i, name, want)
		}
	}
	// A page past the end shows the last one.
	p := s.b.get("/payouts?currency=USD&page=99")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Page 3 of 3", `rel="prev"`)
}

func TestPayoutCreateRefusalsStoreNothing(t *testing.T) {
	s := newMoneyScene(t)
	s.populate(t)
	before := s.balances(t)
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"no currency", url.Values{"currency": {""}}, http.StatusUnprocessableEntity, "Currency is required."},
		{"bad currency", url.Values{"currency": {"dollars"}}, http.StatusUnprocessableEntity, "Currency must be an ISO 4217 code such as USD."},
		{"bad minimum", url.Values{"currency": {"USD"}, "minimum": {"fifty"}}, http.StatusUnprocessableEntity, "Minimum must be a non-negative decimal"},
		{"negative minimum", url.Values{"currency": {"USD"}, "minimum": {"-5"}}, http.StatusUnprocessableEntity, "Minimum must be a non-negative decimal"},
		{"unknown program", url.Values{"currency": {"USD"}, "program": {"01J0000000000000000000ZZZZ"}}, http.StatusUnprocessableEntity, "Program &#34;01J0000000000000000000ZZZZ&#34; does not exist."},
		{"minimum above every balance", url.Values{"currency": {"USD"}, "minimum": {"500.00"}}, http.StatusConflict, "No affiliate has at least 500.00 USD approved and unpaid."},
		{"no one due in the currency", url.Values{"currency": {"GBP"}}, http.StatusConflict, "No affiliate has at least 0.00 GBP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := s.b.submit("/payouts", "/payouts", tc.form)
			expectStatus(t, p, tc.status)
			mustContain(t, p.Body, `<p class="field-error">`+tc.msg, "Create payout", "Balances")
			if m := tc.form.Get("minimum"); m != "" {
				mustContain(t, p.Body, `value="`+m+`"`)
			}
			if ps := s.payouts(t); len(ps) != 0 {
				t.Fatalf("a refused payout stored %d payouts", len(ps))
			}
			if after := s.balances(t); !reflect.DeepEqual(before, after) {
				t.Fatalf("a refused payout changed the balances:\n%+v\n%+v", before, after)
			}
		})
	}
}

func TestPayoutCreateDownloadMarkPaid(t *testing.T) {
	s := newMoneyScene(t)
	s.populate(t)

	// USD over 5.00: Ann (45.00, PayPal) and Bob (60.00, Wise); Cid's 3.00 waits.
	id := s.createPayout(t, url.Values{"currency": {"USD"}, "minimum": {"5.00"}})
	p := s.b.get("/payouts/" + id)
	expectStatus(t, p, http.StatusOK)
	text := textOf(p.Body)
	for _, want := range []string{"Payout created.", "Payout of $105.00 open", "2 affiliates · all programs",
		"1 affiliate paid by PayPal", "1 affiliate paid by Wise", "All 2 affiliates",
		"Ann Partner ann@partners.example PayPal ann-pp@partners.example $45.00 2",
		"Bob Partner bob@partners.example Wise bob-wise@partners.example $60.00 1"} {
		if !strings.Contains(strings.Replace(text, "Payout of $105.00 to 2 affiliates created.", "Payout created.", 1), want) {
			t.Errorf("payout page lacks %q:\n%s", want, text)
		}
	}
	mustContain(t, p.Body, `action="/payouts/`+id+`/paid"`, `action="/payouts/`+id+`/cancel"`)
	mustNotContain(t, p.Body, "Cid Partner", "no payout method")

	// The balances page shows the money in the payout, and the history the payout.
	p = s.b.get("/payouts")
	mustContain(t, textOf(p.Body), "Cid Partner $0.00 $3.00 $0.00", "Bob Partner $0.00 $0.00 $60.00 $0.00")
	mustContain(t, p.Body, `href="/payouts/`+id+`"`, `<span class="badge badge-open">open</span>`)

	// The files, served by the UI.
	p = s.b.get("/payouts/" + id + "/file?format=paypal")
	expectStatus(t, p, http.StatusOK)
	if ct, cd := p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" ||
		cd != `attachment; filename="payout-`+id+`-paypal.csv"` {
		t.Fatalf("paypal file headers %q, %q", ct, cd)
	}
	rows := readRows(t, p.Body)
	if len(rows) != 1 || !reflect.DeepEqual(rows[0][:4], []string{"ann-pp@partners.example", "45.00", "USD", s.ann.ID}) ||
		!strings.Contains(rows[0][4], id) || rows[0][5] != "PAYPAL" {
		t.Fatalf("paypal rows %q", rows)
	}
	p = s.b.get("/payouts/" + id + "/file?format=wise")
	expectStatus(t, p, http.StatusOK)
	rows = readRows(t, p.Body)
	if len(rows) != 2 || rows[0][0] != "name" || rows[1][0] != "Bob Partner" || rows[1][1] != "bob-wise@partners.example" || rows[1][5] != "60.00" {
		t.Fatalf("wise rows %q", rows)
	}
	p = s.b.get("/payouts/" + id + "/file")
	expectStatus(t, p, http.StatusOK)
	rows = readRows(t, p.Body)
	if len(rows) != 3 || strings.Join(rows[0], ",") != "affiliate,name,email,method,payout_email,amount,currency,commissions,reference" {
		t.Fatalf("generic rows %q", rows)
	}
	p = s.b.get("/payouts/" + id + "/file?format=excel")
	expectStatus(t, p, http.StatusBadRequest)
	mustContain(t, p.Body, "format must be generic, paypal or wise", "Back to spiffy.test")

	// Mark paid: the commissions are paid, the page says so, the buttons go.
	p = s.b.submit("/payouts/"+id, "/payouts/"+id+"/paid", nil)
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/payouts/"+id {
		t.Fatalf("paid redirects to %q", p.Location)
	}
	p = s.b.get("/payouts/" + id)
	mustContain(t, p.Body, "Payout marked paid: $105.00 to 2 affiliates.", `<span class="badge badge-paid">paid</span>`, "Paid on ")
	mustNotContain(t, p.Body, `action="/payouts/`+id+`/paid"`, `action="/payouts/`+id+`/cancel"`)
	for _, b := range s.balances(t) {
		if b.Currency == "USD" && b.AffiliateID != s.cid.ID && (b.Paid == 0 || b.Processing != 0) {
			t.Fatalf("after paid: %+v", b)
		}
	}

	// A payout that is not open: 409 on a friendly page, and nothing changes.
	before := s.balances(t)
	for _, action := range []string{"paid", "cancel"} {
		p = s.b.submit("/payouts/"+id, "/payouts/"+id+"/"+action, nil)
		expectStatus(t, p, http.StatusConflict)
		mustContain(t, p.Body, "only an open payout can be marked paid or canceled; this one is paid", "Back to spiffy.test")
	}
	if after := s.balances(t); !reflect.DeepEqual(before, after) {
		t.Fatal("a refused action changed the balances")
	}
	if ps := s.payouts(t); len(ps) != 1 || ps[0].Status != store.PayoutPaid {
		t.Fatalf("payouts %+v", ps)
	}
}

func TestPayoutCancelMakesItDueAgain(t *testing.T) {
	s := newMoneyScene(t)
	s.populate(t)
	before := s.balances(t)
	id := s.createPayout(t, url.Values{"currency": {"EUR"}, "program": {s.club.ID}})
	p := s.b.get("/payouts/" + id)
	mustContain(t, textOf(p.Body), "Payout of €5.00 open", "1 affiliate · Club", "1 affiliate paid by PayPal", "0 affiliates paid by Wise")

	p = s.b.submit("/payouts/"+id, "/payouts/"+id+"/cancel", nil)
	expectStatus(t, p, http.StatusSeeOther)
	p = s.b.get(p.Location)
	mustContain(t, p.Body, "Payout canceled. Its commissions are approved again", `<span class="badge badge-canceled">canceled</span>`)
	mustNotContain(t, p.Body, `action="/payouts/`+id+`/paid"`)
	if after := s.balances(t); !reflect.DeepEqual(before, after) {
		t.Fatalf("cancel did not restore the balances:\n%+v\n%+v", before, after)
	}
	p = s.b.submit("/payouts/"+id, "/payouts/"+id+"/paid", nil)
	expectStatus(t, p, http.StatusConflict)
	mustContain(t, p.Body, "this one is canceled")
}

func TestPayoutPagesUnknownIDs(t *testing.T) {
	s := newMoneyScene(t)
	for _, path := range []string{"/payouts/01J0000000000000000000ZZZZ", "/payouts/not-an-id", "/payouts/01J0000000000000000000ZZZZ/file?format=paypal"} {
		p := s.b.get(path)
		expectStatus(t, p, http.StatusNotFound)
		mustContain(t, p.Body, "payout not found")
	}
	for _, action := range []string{"/payouts/01J0000000000000000000ZZZZ/paid", "/payouts/nope/cancel"} {
		p := s.b.submit("/payouts", action, nil)
		expectStatus(t, p, http.StatusNotFound)
		mustContain(t, p.Body, "payout not found")
	}
	for _, action := range []string{"/commissions/01J0000000000000000000ZZZZ/approve", "/commissions/nope/void"} {
		p := s.b.submit("/commissions", action, nil)
		expectStatus(t, p, http.StatusNotFound)
		mustContain(t, p.Body, "commission not found")
	}
}

func TestPayoutItemsArePaged(t *testing.T) {
	s := newMoneyScene(t)
	const n = views.PayoutItemsPageSize + 20
	at := s.now
	err := s.env.DB.Update(func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			at = at.Add(time.Millisecond)
			af := &store.Affiliate{ID: store.NewID(at), Name: fmt.Sprintf("Item %03d", i), Email: fmt.Sprintf("item%03d@partners.example", i),
				Status: app.StatusActive, PayoutMethod: "paypal", PayoutEmail: fmt.Sprintf("pp%03d@partners.example", i), CreatedAt: at}
			if err := tx.PutAffiliate(af); err != nil {
				return err
			}
			c := &store.Commission{ID: store.NewID(at), PurchaseID: store.NewID(at), ProgramID: s.shop.ID, AffiliateID: af.ID,
				Kind: app.CommissionSale, Amount: 1000, Currency: "USD", Status: app.CommissionApproved, ApproveAt: at, CreatedAt: at}
			if err := tx.PutCommission(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	id := s.createPayout(t, url.Values{"currency": {"USD"}})
	items := regexp.MustCompile(`>(Item \d{3})</a>`)
	p := s.b.get("/payouts/" + id)
	first := items.FindAllStringSubmatch(p.Body, -1)
	mustContain(t, p.Body, "120 affiliates paid by PayPal")
	m := regexp.MustCompile(`href="(/payouts/[^"]+after=[^"]+)" rel="next"`).FindStringSubmatch(p.Body)
	if len(first) != views.PayoutItemsPageSize || m == nil {
		t.Fatalf("first page: %d items, next link %v", len(first), m)
	}
	p = s.b.get(html.UnescapeString(m[1]))
	second := items.FindAllStringSubmatch(p.Body, -1)
	mustContain(t, p.Body, "First page")
	mustNotContain(t, p.Body, `rel="next"`)
	if len(second) != 20 || second[0][1] <= first[len(first)-1][1] {
		t.Fatalf("second page: %d items starting %v", len(second), second)
	}
}

func TestCommissionsApproveAndVoid(t *testing.T) {
	s := newMoneyScene(t)
	a1 := s.sale(t, s.shop, "ann", "A-1", "100.00")
	a2 := s.sale(t, s.shop, "ann", "A-2", "50.00")
	c1, c2 := s.commissionOf(t, a1), s.commissionOf(t, a2)

	p := s.b.get("/commissions?status=pending")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "A-1", "A-2", "30.00", "15.00", "Ann Partner", "approves 2026-03-31",
		`action="/commissions/`+c1.ID+`/approve"`, `action="/commissions/`+c1.ID+`/void"`, `class="active" aria-current="page">pending`)
	p = s.b.get("/commissions?status=paid")
	mustContain(t, p.Body, "No paid commissions")

	// Approve one from the list: back to the list, approved, due now.
	p = s.b.submit("/commissions?status=pending", "/commissions/"+c1.ID+"/approve", url.Values{"next": {"/commissions?status=pending"}})
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/commissions?status=pending" {
		t.Fatalf("approve redirects to %q", p.Location)
	}
	p = s.b.get(p.Location)
	mustContain(t, p.Body, "Commission approved: it is due in the next payout.")
	mustNotContain(t, p.Body, "A-1")
	if c, _ := s.env.App.Commission(c1.ID); c.Status != app.CommissionApproved {
		t.Fatalf("status %s", c.Status)
	}
	// Approving it again: 409 on a friendly page.
	p = s.b.submit("/commissions", "/commissions/"+c1.ID+"/approve", nil)
	expectStatus(t, p, http.StatusConflict)
	mustContain(t, p.Body, "only a pending commission can be approved; this one is approved")

	// Void the other from its purchase's page, which lists it; back there.
	p = s.b.get("/purchases/" + a2)
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, `id="commissions"`, `action="/commissions/`+c2.ID+`/void"`, "approves 2026-03-31")
	p = s.b.submit("/purchases/"+a2, "/commissions/"+c2.ID+"/void", url.Values{"next": {"/purchases/" + a2 + "#commissions"}})
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/purchases/"+a2+"#commissions" {
		t.Fatalf("void redirects to %q", p.Location)
	}
	p = s.b.get("/purchases/" + a2)
	mustContain(t, p.Body, "Commission voided: it will not be paid.", `<span class="badge badge-voided">voided</span>`)
	mustNotContain(t, p.Body, `action="/commissions/`+c2.ID+`/void"`)
	p = s.b.submit("/commissions", "/commissions/"+c2.ID+"/void", nil)
	expectStatus(t, p, http.StatusConflict)
	mustContain(t, p.Body, "only a pending or approved commission can be voided; this one is voided")

	// A next that leaves the site goes to the list instead.
	a3 := s.sale(t, s.shop, "bob", "B-1", "10.00")
	p = s.b.submit("/commissions", "/commissions/"+s.commissionOf(t, a3).ID+"/approve", url.Values{"next": {"//evil.example/"}})
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/commissions" {
		t.Fatalf("redirect to %q", p.Location)
	}

	// Filters: by affiliate (linked from the balances), by purchase; bad ones are a message.
	p = s.b.get("/commissions?affiliate=" + s.bob.ID)
	mustContain(t, p.Body, "B-1", "affiliate <strong>Bob Partner</strong>")
	mustNotContain(t, p.Body, "A-1")
	p = s.b.get("/commissions?purchase=" + a1)
	mustContain(t, p.Body, "A-1", `purchase <strong class="mono">A-1</strong>`)
	mustNotContain(t, p.Body, "A-2")
	for _, q := range []string{"status=lost", "affiliate=nope", "cursor=garbage"} {
		p = s.b.get("/commissions?" + q)
		expectStatus(t, p, http.StatusBadRequest)
		mustContain(t, p.Body, `class="flash flash-error" role="alert"`)
	}
}

func TestPurchaseRefundForm(t *testing.T) {
	s := newMoneyScene(t)
	id := s.sale(t, s.shop, "ann", "A-1", "100.00")
	com := s.commissionOf(t, id)
	p := s.b.get("/purchases/" + id)
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, `action="/purchases/`+id+`/refund"`, `name="amount"`, "refund all that is left: $100.00")

	// Refused amounts: the form again with the message, nothing refunded.
	for _, tc := range []struct{ amount, msg string }{
		{"lots", "Amount must be a non-negative decimal"},
		{"0", "Amount must be more than zero."},
		{"100.01", "Amount is more than the 100.00 left to refund."},
	} {
		p = s.b.submit("/purchases/"+id, "/purchases/"+id+"/refund", url.Values{"amount": {tc.amount}})
		expectStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p.Body, `<p class="field-error">`+tc.msg, `value="`+tc.amount+`"`)
		if got, _ := s.env.App.Purchase(id); got.RefundedAmount != 0 || got.Status != app.PurchasePaid {
			t.Fatalf("a refused refund changed the purchase: %+v", got)
		}
	}

	// A partial refund lowers the pending commission by its share.
	p = s.b.submit("/purchases/"+id, "/purchases/"+id+"/refund", url.Values{"amount": {"40.00"}})
	expectStatus(t, p, http.StatusSeeOther)
	p = s.b.get("/purchases/" + id)
	mustContain(t, p.Body, "Refunded $40.00 of purchase A-1; $60.00 is left.", "$40.00 refunded", "refund all that is left: $60.00")
	if c, _ := s.env.App.Commission(com.ID); c.Amount != 1800 || c.Status != app.CommissionPending {
		t.Fatalf("after a 40%% refund the commission is %+v", c)
	}
	// Blank: everything left; the form goes away.
	p = s.b.submit("/purchases/"+id, "/purchases/"+id+"/refund", url.Values{"amount": {""}})
	expectStatus(t, p, http.StatusSeeOther)
	p = s.b.get("/purchases/" + id)
	mustContain(t, p.Body, "Purchase A-1 is refunded", "Fully refunded on", `<span class="badge badge-voided">voided</span>`)
	mustNotContain(t, p.Body, `name="amount"`)
}

func TestMoneyPagesNeedSignIn(t *testing.T) {
	s := newMoneyScene(t)
	s.populate(t)
	id := s.createPayout(t, url.Values{"currency": {"USD"}})
	com := s.commissionOf(t, s.sale(t, s.shop, "ann", "A-9", "10.00"))
	s.b.submit("/payouts", "/logout", nil)
	for _, path := range []string{"/payouts", "/payouts/" + id, "/payouts/" + id + "/file?format=paypal", "/commissions?status=pending"} {
		p := s.b.get(path)
		expectStatus(t, p, http.StatusSeeOther)
		if p.Location != "/login?next="+url.QueryEscape(path) {
			t.Fatalf("%s redirects to %q", path, p.Location)
		}
	}
	for _, action := range []string{"/payouts", "/payouts/" + id + "/paid", "/payouts/" + id + "/cancel", "/commissions/" + com.ID + "/approve"} {
		p := s.b.submit("/login", action, url.Values{"currency": {"USD"}})
		expectStatus(t, p, http.StatusSeeOther)
		if !strings.HasPrefix(p.Location, "/login") {
			t.Fatalf("%s redirects to %q", action, p.Location)
		}
	}
	// Without the form's token, a signed-in admin's post is refused too.
	s.b.signInAdmin()
	for _, action := range []string{"/payouts", "/payouts/" + id + "/paid", "/payouts/" + id + "/cancel", "/commissions/" + com.ID + "/approve"} {
		p := s.b.post(action, url.Values{"currency": {"USD"}})
		expectStatus(t, p, http.StatusForbidden)
	}
	if ps := s.payouts(t); len(ps) != 1 || ps[0].Status != store.PayoutOpen {
		t.Fatalf("payouts changed: %+v", ps)
	}
	if c, _ := s.env.App.Commission(com.ID); c.Status != app.CommissionPending {
		t.Fatalf("commission changed: %+v", c)
	}
}
