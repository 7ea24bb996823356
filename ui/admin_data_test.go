package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// dataFixture: Shop (Ann, Bob) and Club (Ann); n leads a day apart from
// 2026-03-01 through Ann in Shop, one through Bob, one through Ann in Club;
// one purchase by the first lead.
type dataFixture struct {
	b          *browser
	shop, club *store.Program
	ann, bob   *store.Affiliate
	leads      []string // ids, oldest first
	purchase   string
}

var dataT0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newDataFixture(t *testing.T, annLeads int) *dataFixture {
	t.Helper()
	b := newBrowser(t, func(c *config.Config) { c.Tracking.RateLimit = 1e6 })
	env := b.env
	f := &dataFixture{b: b}
	f.shop = env.Program("Shop", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	f.club = env.Program("Club", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	f.ann = env.Affiliate("Ann Partner", "ann@partners.example", "ann", f.shop, f.club)
	f.bob = env.Affiliate("Bob Partner", "bob@partners.example", "bob", f.shop)
	annClub := "ann-" + f.club.ID[len(f.club.ID)-4:]
	lead := func(code, email, sub string, at time.Time) string {
		env.Clock.Func(func() time.Time { return at })
		rec := env.Request(http.MethodPost, "/t/click", map[string]string{"ref": code, "sub": sub})
		apptest.Expect(t, rec, http.StatusCreated)
		ref := apptest.Decode[struct{ Referral string }](t, rec).Referral
		rec = env.Request(http.MethodPost, "/t/lead", map[string]string{"email": email, "name": "Person " + email, "referral": ref})
		apptest.Expect(t, rec, http.StatusCreated)
		return apptest.Decode[struct{ Lead string }](t, rec).Lead
	}
	for i := 0; i < annLeads; i++ {
		f.leads = append(f.leads, lead("ann", fmt.Sprintf("shopper%03d@example.com", i), "spring", dataT0.Add(time.Duration(i)*time.Hour)))
	}
	f.leads = append(f.leads, lead("bob", "bea@example.org", "", dataT0.AddDate(0, 0, 3)))
	f.leads = append(f.leads, lead(annClub, "clara@example.net", "", dataT0.AddDate(0, 0, 4)))
	env.Clock.Func(func() time.Time { return dataT0.AddDate(0, 0, 5) })
	rec := env.API(http.MethodPost, "/purchases", map[string]string{
		"order_id": "A-1", "program": f.shop.ID, "email": "shopper000@example.com", "amount": "80.00", "currency": "USD",
		"purchased_at": dataT0.AddDate(0, 0, 4).Format(time.RFC3339),
	})
	apptest.Expect(t, rec, http.StatusCreated)
	f.purchase = apptest.Decode[web.PurchaseJSON](t, rec).ID
	b.signInAdmin()
	return f
}

var rowLinkRe = regexp.MustCompile(`href="/leads/([0-9A-Z]{26})"`)

// leadIDsOn returns the lead ids a Leads page lists, in order.
func leadIDsOn(body string) []string {
	var ids []string
	seen := map[string]bool{}
	for _, m := range rowLinkRe.FindAllStringSubmatch(body, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			ids = append(ids, m[1])
		}
	}
	return ids
}

func TestLeadsPageFilters(t *testing.T) {
	f := newDataFixture(t, 3)
	L := f.leads // 0,1,2 Ann/Shop; 3 Bob/Shop; 4 Ann/Club
	tests := []struct {
		name  string
		query url.Values
		want  []string
		count string
	}{
		{"all", nil, []string{L[4], L[3], L[2], L[1], L[0]}, "5 leads"},
		{"program", url.Values{"program": {f.club.ID}}, []string{L[4]}, "1 lead match"},
		{"affiliate", url.Values{"affiliate": {f.bob.ID}}, []string{L[3]}, "1 lead match"},
		{"program and affiliate", url.Values{"program": {f.shop.ID}, "affiliate": {f.ann.ID}}, []string{L[2], L[1], L[0]}, "3 leads match"},
		{"dates", url.Values{"from": {"2026-03-04"}, "to": {"2026-03-05"}}, []string{L[4], L[3]}, "2 leads match"},
		{"exact email", url.Values{"q": {"Bea@Example.org"}}, []string{L[3]}, "1 lead match"},
		{"email prefix", url.Values{"q": {"shopper00"}}, []string{L[2], L[1], L[0]}, "3 leads match"},
		{"nothing", url.Values{"q": {"zed"}}, nil, "0 leads match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := f.b.get("/leads?" + tt.query.Encode())
			expectStatus(t, p, http.StatusOK)
			if got := leadIDsOn(p.Body); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("rows %v, want %v", got, tt.want)
			}
			if text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(p.Body, ""); !strings.Contains(text, tt.count) {
				t.Errorf("page does not say %q", tt.count)
			}
		})
	}
	// Each row links to its click, sub-id and purchase.
	p := f.b.get("/leads?affiliate=" + f.ann.ID + "&program=" + f.shop.ID)
	for _, want := range []string{`href="/leads/` + L[0] + `#click"`, `spring`, `href="/purchases/` + f.purchase + `"`, `href="/affiliates/` + f.ann.ID + `"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("leads page lacks %s", want)
		}
	}
	// The lead's page shows its click and purchase.
	p = f.b.get("/leads/" + L[0])
	expectStatus(t, p, http.StatusOK)
	for _, want := range []string{"shopper000@example.com", `id="click"`, "spring", "A-1", "Ann Partner", "Shop"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("lead page lacks %q", want)
		}
	}
}

func TestLeadsPagePagesThroughEverything(t *testing.T) {
	f := newDataFixture(t, 57)
	var got []string
	next := "/leads"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		p := f.b.get(next)
		expectStatus(t, p, http.StatusOK)
		got = append(got, leadIDsOn(p.Body)...)
		m := regexp.MustCompile(`href="(/leads\?[^"]*cursor=[^"]*)" rel="next"`).FindStringSubmatch(p.Body)
		next = ""
		if m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
			// A lead arriving between pages shows up on the first page,
			// never in the pages that follow.
			f.b.env.Clock.Func(func() time.Time { return dataT0.AddDate(0, 1, len(got)) })
			rec := f.b.env.Request(http.MethodPost, "/t/click", map[string]string{"ref": "bob"})
			ref := apptest.Decode[struct{ Referral string }](t, rec).Referral
			apptest.Expect(t, f.b.env.Request(http.MethodPost, "/t/lead", map[string]string{"email": fmt.Sprintf("late%d@example.com", len(got)), "referral": ref}), http.StatusCreated)
		}
	}
	if len(got) != 59 {
		t.Fatalf("paged through %d leads, want 59", len(got))
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("lead %s listed twice", id)
		}
		seen[id] = true
	}
	if got[0] != f.leads[len(f.leads)-1] || got[58] != f.leads[0] {
		t.Errorf("not newest first: %s … %s", got[0], got[58])
	}
}

func TestDataPagesBadInput(t *testing.T) {
	f := newDataFixture(t, 1)
	for _, tc := range []struct{ path, says string }{
		{"/leads?from=2026-02-31", "from must be a date"},
		{"/leads?from=2026-03-05&to=2026-03-01", "to must not be before from"},
		{"/leads?program=" + store.NewID(dataT0), "does not exist"},
		{"/leads?affiliate=bogus", "No affiliate matches “bogus”"},
		{"/purchases?affiliate=nobody@example.com", "No affiliate matches “nobody@example.com”"},
		{"/leads?affiliate=" + store.NewID(dataT0), "No affiliate matches"},
		{"/leads?cursor=bogus", "no longer valid"},
		{"/purchases?status=lost", "status must be paid or refunded"},
		{"/purchases?to=tomorrow", "to must be a date"},
		{"/dashboard?from=2026-03-09&to=2026-03-01", "to must not be before from"},
		{"/dashboard?program=nope", "does not exist"},
	} {
		p := f.b.get(tc.path)
		expectStatus(t, p, http.StatusBadRequest)
		if !strings.Contains(p.Body, tc.says) || !strings.Contains(p.Body, "<form") {
			t.Errorf("%s: page lacks %q or its filter form", tc.path, tc.says)
		}
	}
	for _, path := range []string{"/leads/" + store.NewID(dataT0), "/leads/x", "/purchases/" + store.NewID(dataT0), "/exports/" + store.NewID(dataT0) + "/download"} {
		expectStatus(t, f.b.get(path), http.StatusNotFound)
	}
	// A bad filter posted to the export form starts nothing.
	p := f.b.submit("/leads", "/exports", url.Values{"kind": {"leads"}, "from": {"03/01/2026"}})
	expectStatus(t, p, http.StatusBadRequest)
	p = f.b.submit("/leads", "/exports", url.Values{"kind": {"everything"}})
	expectStatus(t, p, http.StatusBadRequest)
	if xs, _ := f.b.env.App.Exports(app.Merchant); len(xs) != 0 {
		t.Errorf("bad posts started exports: %+v", xs)
	}
}

func TestPurchasesPageTotals(t *testing.T) {
	f := newDataFixture(t, 2)
	p := f.b.get("/purchases")
	expectStatus(t, p, http.StatusOK)
	for _, want := range []string{"A-1", "$80.00", "Ann Partner", `href="/purchases/` + f.purchase + `"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("purchases page lacks %q", want)
		}
	}
	// Refund from the purchase's page; the totals move to "refunded".
	p = f.b.submit("/purchases/"+f.purchase, "/purchases/"+f.purchase+"/refund", nil)
	expectStatus(t, p, http.StatusSeeOther)
	p = f.b.get("/purchases?status=refunded")
	if !strings.Contains(p.Body, "A-1") || !strings.Contains(p.Body, "Refunded: $80.00") {
		t.Errorf("refunded filter: %.2000s", p.Body)
	}
	if p := f.b.get("/purchases?status=paid"); strings.Contains(p.Body, "A-1") {
		t.Error("a refunded purchase is listed as paid")
	}
}

func TestDashboardPage(t *testing.T) {
	f := newDataFixture(t, 3)
	p := f.b.get("/dashboard?from=2026-03-01&to=2026-03-07")
	expectStatus(t, p, http.StatusOK)
	for _, want := range []string{"<svg", `class="day-chart"`, "Top affiliates", "Ann Partner", "Bob Partner", "Last 90 days",
		"2026-03-01: 3 clicks", "2026-03-05: 1 purchase<", "$80.00"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	// One bar group per day and series.
	if n := strings.Count(p.Body, `class="chart-hit"`); n != 7*3 {
		t.Errorf("%d bar groups, want 21", n)
	}
	p = f.b.get("/dashboard?program=" + f.club.ID + "&from=2026-03-01&to=2026-03-07")
	if !strings.Contains(p.Body, "Ann Partner") || strings.Contains(p.Body, "Bob Partner") {
		t.Error("program filter does not narrow the top affiliates")
	}
	// Without a range: the last 30 days up to today.
	f.b.env.Clock.Func(func() time.Time { return dataT0.AddDate(0, 0, 10) })
	p = f.b.get("/dashboard")
	expectStatus(t, p, http.StatusOK)
	if !strings.Contains(p.Body, `value="2026-02-10"`) || !strings.Contains(p.Body, `value="2026-03-11"`) {
		t.Error("default range is not the last 30 days")
	}
}

func TestExportsPages(t *testing.T) {
	f := newDataFixture(t, 4)
	a := f.b.env.App
	p := f.b.submit("/leads", "/exports", url.Values{"kind": {"leads"}, "program": {f.shop.ID}, "affiliate": {f.ann.ID}})
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/exports" {
		t.Fatalf("export redirects to %q", p.Location)
	}
	a.WaitExports()
	p = f.b.get("/exports")
	expectStatus(t, p, http.StatusOK)
	m := regexp.MustCompile(`href="/exports/([0-9A-Z]{26})/download"`).FindStringSubmatch(p.Body)
	if m == nil || !strings.Contains(p.Body, "program Shop, affiliate Ann Partner") || !strings.Contains(p.Body, "4 rows") {
		t.Fatalf("exports page: %.3000s", p.Body)
	}
	if strings.Contains(p.Body, `http-equiv="refresh"`) {
		t.Error("finished exports still refresh the page")
	}
	dl := f.b.get("/exports/" + m[1] + "/download")
	expectStatus(t, dl, http.StatusOK)
	if ct := dl.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("download content type %q", ct)
	}
	if !strings.HasPrefix(dl.Header.Get("Content-Disposition"), `attachment; filename="leads-`) {
		t.Errorf("download disposition %q", dl.Header.Get("Content-Disposition"))
	}
	lines := strings.Split(strings.TrimSuffix(dl.Body, "\r\n"), "\r\n")
	if len(lines) != 5 || lines[0] != "created_at,email,name,program,affiliate,referral_code,sub_id,purchased" ||
		!strings.HasPrefix(lines[1], "2026-03-01T12:00:00Z,shopper003@example.com,") || !strings.HasSuffix(lines[4], ",Shop,Ann Partner,ann,spring,yes") {
		t.Errorf("download:\n%s", dl.Body)
	}
	// Signed out, nothing is served.
	other := newBrowserOn(t, f.b)
	if p := other.get("/exports/" + m[1] + "/download"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
		t.Errorf("signed-out download: %d %q", p.Status, p.Location)
	}
	// Delete.
	p = f.b.submit("/exports", "/exports/"+m[1]+"/delete", nil)
	expectStatus(t, p, http.StatusSeeOther)
	expectStatus(t, f.b.get("/exports/"+m[1]+"/download"), http.StatusNotFound)
	if p := f.b.get("/exports"); !strings.Contains(p.Body, "No exports") {
		t.Error("deleted export still listed")
	}
}

// newBrowserOn is a second, signed-out browser against the same server.
func newBrowserOn(t *testing.T, b *browser) *browser {
	t.Helper()
	return &browser{t: t, env: b.env, srv: b.srv, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}
