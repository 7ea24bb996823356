package ui

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/store"
)

// scaleFixture is a program with more affiliates than one page holds, one
// of them (Zoë) with clicks, a lead and two purchases.
type scaleFixture struct {
	b       *browser
	shop    *store.Program
	zoe     *store.Affiliate
	members []*store.Affiliate // oldest first
}

const scaleMembers = 60

func newScaleFixture(t *testing.T) *scaleFixture {
	t.Helper()
	b := newBrowser(t, apptest.Unthrottled)
	b.signInAdmin()
	f := &scaleFixture{b: b}
	f.shop = b.env.Program("Shop", func(in *app.ProgramInput) {
		in.TrackLeads, in.CommissionType, in.CommissionValue = apptest.Ptr(true), apptest.Ptr("percent"), apptest.Ptr("30")
	})
	// A clock a second on per affiliate, so that newest first is the
	// order they were added in (ids made in one millisecond have no order).
	tick := b.env.SetClock(time.Now().UTC().Truncate(time.Second))
	add := func(name, email, code string) *store.Affiliate {
		tick(time.Second)
		// No password: an invite, so the fixture spends no time hashing.
		af, _, err := b.env.App.CreateAffiliate(app.AffiliateInput{Name: &name, Email: &email})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.env.App.Enroll(f.shop.ID, af.ID, code); err != nil {
			t.Fatal(err)
		}
		return af
	}
	for i := 0; i < scaleMembers; i++ {
		f.members = append(f.members, add(fmt.Sprintf("Member %02d", i), fmt.Sprintf("member%02d@example.com", i), fmt.Sprintf("m%02d", i)))
	}
	f.zoe = add("Zoë Núñez", "zoe@nunez.example", "ZOE-SPRING")
	// A click and a lead, then two purchases each through its own click.
	env := b.env
	rec := env.Request(http.MethodPost, "/t/click", map[string]string{"ref": "ZOE-SPRING"})
	apptest.Expect(t, rec, http.StatusCreated)
	ref := apptest.Decode[struct{ Referral string }](t, rec).Referral
	apptest.Expect(t, env.Request(http.MethodPost, "/t/lead", map[string]string{"email": "lead@buyer.example", "referral": ref}), http.StatusCreated)
	env.AttributedPurchase(f.shop, "ZOE-SPRING", "ORD-1", "one@buyer.example")
	env.AttributedPurchase(f.shop, "zoe-spring", "ORD-2", "two@buyer.example")
	return f
}

var (
	nextLink = regexp.MustCompile(`href="([^"]+)" rel="next"`)
	prevLink = regexp.MustCompile(`href="([^"]+)" rel="prev"`)
	rowLink  = regexp.MustCompile(`<td class="cell-main"><a class="strong" href="/affiliates/([0-9A-Z]{26})">`)
)

// rowIDs are the affiliates listed on a page, in order.
func rowIDs(body string) []string {
	var ids []string
	for _, m := range rowLink.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func link(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s link", re)
	}
	return html.UnescapeString(m[1])
}

// TestAffiliatesPageSearchPagingAndResults: search by name, email and
// code; Next and Previous across the page boundary; each row's results and
// commission due from the events.
func TestAffiliatesPageSearchPagingAndResults(t *testing.T) {
	f := newScaleFixture(t)
	b := f.b
	zoeRow := []string{"Zoë Núñez", `data-label="Clicks">3</td>`, `data-label="Leads">1</td>`, `data-label="Purchases">2</td>`,
		"98.00 <span class=\"cur\">USD</span>", // revenue
		"29.40 <span class=\"cur\">USD</span>", // commission due: 30% of 98.00, pending
	}
	get := func(name, path string, status int, want, notWant []string) apptest.Scenario {
		return apptest.Scenario{Name: name, Method: http.MethodGet, Path: path, Status: status, Want: want, NotWant: notWant}
	}
	apptest.RunScenarios(t, b.sender("/affiliates"), []apptest.Scenario{
		get("name word", "/affiliates?q=nunez", 200, zoeRow, []string{"Member 0"}),
		get("accented name, any case", "/affiliates?q=Z%C3%96E", 200, zoeRow, []string{"Member 0"}),
		get("whole name", "/affiliates?q=zoe+nu", 200, zoeRow, nil),
		get("email prefix", "/affiliates?q=zoe%40nun", 200, zoeRow, nil),
		get("referral code prefix", "/affiliates?q=zoe-spr", 200, zoeRow, nil),
		get("code of a member", "/affiliates?q=m07", 200, []string{"Member 07"}, []string{"Member 06", "Zoë"}),
		get("many matches", "/affiliates?q=member+0", 200, []string{"Member 00", "Member 09"}, []string{"Member 10", "rel=\"next\""}),
		get("no match", "/affiliates?q=nobody", 200, []string{"No affiliates match “nobody”", "Show all affiliates"}, nil),
		get("search and status", "/affiliates?q=zoe&status=pending", 200, []string{"No affiliates match"}, nil),
		get("status tab counts", "/affiliates", 200, []string{`All <span class="tab-count">61</span>`, `Active <span class="tab-count">61</span>`}, nil),
		get("bad cursor", "/affiliates?after=bogus", 400, []string{"That page link is no longer valid", "Zoë Núñez"}, nil),
		get("bad status", "/affiliates?status=gone", 400, []string{"There is no such status"}, nil),
		get("search too long", "/affiliates?q="+strings.Repeat("a", 101), 400, []string{"Search for at most 100 characters"}, nil),
	})

	// Paging: 61 affiliates, 50 a page, newest first.
	p := b.get("/affiliates")
	expectStatus(t, p, http.StatusOK)
	first := rowIDs(p.Body)
	if len(first) != 50 || first[0] != f.zoe.ID || first[49] != f.members[scaleMembers-49].ID {
		t.Fatalf("first page: %d rows starting %v", len(first), first[:1])
	}
	mustNotContain(t, p.Body, `rel="prev"`)
	p = b.get(link(t, nextLink, p.Body))
	second := rowIDs(p.Body)
	if len(second) != 11 || second[0] != f.members[scaleMembers-50].ID || second[10] != f.members[0].ID {
		t.Fatalf("second page: %d rows", len(second))
	}
	mustNotContain(t, p.Body, `rel="next"`)
	p = b.get(link(t, prevLink, p.Body))
	if back := rowIDs(p.Body); fmt.Sprint(back) != fmt.Sprint(first) {
		t.Fatalf("previous page differs from the first")
	}

	// The affiliate's own page: results by program and balances.
	p = b.get("/affiliates/" + f.zoe.ID)
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Results", "Commission balances", `data-label="Pending">29.40</td>`, `data-label="Approved (due)">0.00</td>`,
		`<a class="strong" href="/programs/`+f.shop.ID+`">Shop</a>`, "98.00", "/leads?affiliate="+f.zoe.ID, "/commissions?affiliate="+f.zoe.ID)
	p = b.get("/affiliates/" + f.members[0].ID)
	mustContain(t, p.Body, "No clicks, leads or purchases yet.", "No commission yet.")
}

// TestProgramAffiliatesPagedAndSearched: a program's affiliates page and
// search like the Affiliates page, with results in that program.
func TestProgramAffiliatesPagedAndSearched(t *testing.T) {
	f := newScaleFixture(t)
	b := f.b
	other := b.env.Program("Other")
	if _, _, err := b.env.App.Enroll(other.ID, f.members[3].ID, "m03-other"); err != nil {
		t.Fatal(err)
	}
	page := "/programs/" + f.shop.ID
	p := b.get(page)
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "30-day cookie · 61 affiliates", "<code>ZOE-SPRING</code>", `data-label="Clicks">3</td>`)
	if ids := rowIDs(p.Body); len(ids) != 50 {
		t.Fatalf("%d rows on the first page", len(ids))
	}
	p = b.get(link(t, nextLink, p.Body))
	if ids := rowIDs(p.Body); len(ids) != 11 || ids[10] != f.members[0].ID {
		t.Fatalf("second page: %d rows", len(ids))
	}
	p = b.get(page + "?q=zoe")
	mustContain(t, p.Body, "Zoë Núñez", "98.00", "29.40")
	if ids := rowIDs(p.Body); len(ids) != 1 {
		t.Fatalf("search: %d rows", len(ids))
	}
	// The other program lists its one affiliate, with none of Shop's results.
	p = b.get("/programs/" + other.ID + "?q=member")
	if ids := rowIDs(p.Body); len(ids) != 1 || ids[0] != f.members[3].ID {
		t.Fatalf("other program: %v", ids)
	}
	mustContain(t, p.Body, "<code>m03-other</code>", `data-label="Clicks">0</td>`)
	p = b.get("/programs/" + other.ID + "?q=zoe")
	mustContain(t, p.Body, "No affiliate of this program matches “zoe”")
	// Enrolling by a typed referral code of another program.
	p = b.submit("/programs/"+other.ID, "/programs/"+other.ID+"/affiliates", map[string][]string{"affiliate_id": {"ZOE-spring"}, "code": {"zoe-other"}})
	expectStatus(t, p, http.StatusSeeOther)
	p = b.get("/programs/" + other.ID)
	mustContain(t, p.Body, "Zoë Núñez", "<code>zoe-other</code>", "· 2 affiliates")
}

// TestAffiliateSuggestAndTypedFilters: the picker's endpoint, and Leads and
// Purchases filtered by an affiliate typed as a code or an email.
func TestAffiliateSuggestAndTypedFilters(t *testing.T) {
	f := newScaleFixture(t)
	b := f.b
	suggest := func(q string) (int, []map[string]string) {
		p := b.get("/affiliates/suggest?q=" + q)
		var body struct{ Data []map[string]string }
		if p.Status == http.StatusOK {
			if err := json.Unmarshal([]byte(p.Body), &body); err != nil {
				t.Fatalf("suggest %q: %v: %s", q, err, p.Body)
			}
		}
		return p.Status, body.Data
	}
	if st, got := suggest("zoe"); st != 200 || len(got) != 1 || got[0]["email"] != "zoe@nunez.example" || got[0]["code"] != "ZOE-SPRING" || got[0]["id"] != f.zoe.ID {
		t.Errorf("suggest zoe: %d %v", st, got)
	}
	if _, got := suggest("member"); len(got) != suggestLimit || got[0]["name"] != "Member 59" {
		t.Errorf("suggest member: %d, first %v", len(got), got)
	}
	if st, got := suggest(""); st != 200 || len(got) != 0 {
		t.Errorf("empty suggest: %d %v", st, got)
	}
	p := b.get("/affiliates/suggest?q=" + strings.Repeat("x", 101))
	expectStatus(t, p, http.StatusBadRequest)
	mustContain(t, p.Body, `"error":"invalid_q"`)

	apptest.RunScenarios(t, b.sender("/leads"), []apptest.Scenario{
		{Name: "leads by code", Method: http.MethodGet, Path: "/leads?affiliate=zoe-SPRING", Status: 200,
			Want: []string{"lead@buyer.example", `value="zoe-SPRING"`, `<input type="hidden" name="affiliate" value="` + f.zoe.ID + `">`}},
		{Name: "purchases by email", Method: http.MethodGet, Path: "/purchases?affiliate=ZOE%40nunez.example", Status: 200,
			Want: []string{"ORD-1", "ORD-2"}},
		{Name: "purchases by id shows the email", Method: http.MethodGet, Path: "/purchases?affiliate=" + f.zoe.ID, Status: 200,
			Want: []string{"ORD-1", `value="zoe@nunez.example"`}},
		{Name: "another affiliate has none", Method: http.MethodGet, Path: "/purchases?affiliate=m05", Status: 200,
			NotWant: []string{"ORD-1"}},
		{Name: "unknown", Method: http.MethodGet, Path: "/leads?affiliate=nobody", Status: 400,
			Want: []string{"No affiliate matches “nobody”", `name="affiliate"`}, NotWant: []string{"lead@buyer.example"}},
		{Name: "no select of every affiliate", Method: http.MethodGet, Path: "/leads", Status: 200,
			Want: []string{`data-suggest="/affiliates/suggest"`, `<datalist id="f-affiliate-list">`}, NotWant: []string{`<option value="` + f.zoe.ID}},
	})

	// The page links the picker's script as a file (no inline code), and
	// it is served.
	page := b.get("/leads").Body
	var found bool
	for _, m := range scriptSrc.FindAllStringSubmatch(page, -1) {
		if js := b.get(html.UnescapeString(m[1])); js.Status == http.StatusOK && strings.Contains(js.Body, "input[data-suggest][list]") {
			found = true
		}
	}
	if !found {
		t.Error("no script of the page wires the affiliate picker")
	}
}

var scriptSrc = regexp.MustCompile(`<script src="([^"]+)"`)
