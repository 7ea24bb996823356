package ui

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// portalScene is the portal's test world: two programs with different
// sharing (shared: leads and purchases; closed: nothing) and two affiliates
// (alice in both, bob only in shared), each with a browser of its own.
type portalScene struct {
	b              *browser // no one signed in
	env            *apptest.Env
	now            time.Time
	shared, closed *store.Program
	alice, bob     *store.Affiliate
}

const portalPassword = "password123" // apptest.Affiliate's

func newPortalScene(t *testing.T, configure ...func(*config.Config)) *portalScene {
	t.Helper()
	b := newBrowser(t, configure...)
	s := &portalScene{b: b, env: b.env, now: time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)}
	s.env.SetClock(s.now)
	s.shared = s.env.Program("Shared Shop", func(in *app.ProgramInput) {
		in.ShareLeads, in.SharePurchasers = apptest.Ptr(true), apptest.Ptr(true)
		in.Description = apptest.Ptr("Great sneakers for great people.")
		in.CommissionValue = apptest.Ptr("30")
	})
	s.closed = s.env.Program("Closed Club")
	s.alice = s.env.Affiliate("Alice", "alice@partners.example", "alice", s.shared, s.closed)
	s.bob = s.env.Affiliate("Bob", "bob@partners.example", "bob", s.shared)
	return s
}

// fresh is another browser (its own cookie jar) on the same server.
func (s *portalScene) fresh(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, env: s.env, srv: s.b.srv, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// signIn returns a browser signed in to the portal as email.
func (s *portalScene) signIn(t *testing.T, email string) *browser {
	t.Helper()
	b := s.fresh(t)
	p := b.submit("/portal/login", "/portal/login", url.Values{"email": {email}, "password": {portalPassword}})
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/portal" {
		t.Fatalf("after sign-in: redirect to %q", p.Location)
	}
	return b
}

func (s *portalScene) code(t *testing.T, p *store.Program, af *store.Affiliate) string {
	t.Helper()
	e, _, err := s.env.App.Enroll(p.ID, af.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	return e.Code
}

func (s *portalScene) lead(t *testing.T, p *store.Program, af *store.Affiliate, email, name string, at time.Time) {
	t.Helper()
	l := &store.Lead{ID: store.NewID(at), ProgramID: p.ID, Email: email, Name: name, SubID: "spring",
		IP: "198.51.100.23", UserAgent: "MerchantOnlyAgent", CreatedAt: at}
	if af != nil {
		l.AffiliateID, l.Code = af.ID, s.code(t, p, af)
	}
	if err := s.env.DB.Update(func(tx *store.Tx) error { return tx.InsertLead(l) }); err != nil {
		t.Fatal(err)
	}
}

func (s *portalScene) purchase(t *testing.T, p *store.Program, af *store.Affiliate, order, email string, at time.Time, self bool) {
	t.Helper()
	pu := &store.Purchase{ID: store.NewID(at), OrderID: order, ProgramID: p.ID, Email: email, Name: "Buyer " + order,
		Product: "Sneakers", Amount: 12000, Currency: "USD", Commission: 3600, Status: "paid", SelfReferral: self, PurchasedAt: at, CreatedAt: at}
	if af != nil {
		pu.AffiliateID, pu.Code = af.ID, s.code(t, p, af)
	}
	if err := s.env.DB.Update(func(tx *store.Tx) error { return tx.InsertPurchase(pu) }); err != nil {
		t.Fatal(err)
	}
}

func (s *portalScene) click(t *testing.T, p *store.Program, af *store.Affiliate, at time.Time) {
	t.Helper()
	c := &store.Click{ID: store.NewID(at), ProgramID: p.ID, AffiliateID: af.ID, Code: s.code(t, p, af), IP: "198.51.100.23", CreatedAt: at}
	if err := s.env.DB.Update(func(tx *store.Tx) error { return tx.InsertClick(c) }); err != nil {
		t.Fatal(err)
	}
}

// populate gives each affiliate rows in both programs, on 2026-03-10 (the
// `to` day of the tests' range) and 2026-03-01, plus merchant-only rows.
func (s *portalScene) populate(t *testing.T) {
	t.Helper()
	d10, d01 := time.Date(2026, 3, 10, 22, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	s.lead(t, s.shared, s.alice, "ann@customers.example", "Ann Alpha", d10)
	s.lead(t, s.shared, s.alice, "amy@customers.example", "Amy Early", d01)
	s.lead(t, s.shared, s.alice, "=cmd@customers.example", `=HYPERLINK("http://evil.example","x")`, d01.Add(time.Hour))
	s.lead(t, s.shared, s.bob, "ben@customers.example", "Ben Bravo", d10)
	s.lead(t, s.shared, nil, "orphan@customers.example", "Orphan Lead", d10)
	s.lead(t, s.closed, s.alice, "cid@customers.example", "Cid Closed", d10)
	s.purchase(t, s.shared, s.alice, "ORD-A1", "ann@customers.example", d10.Add(time.Hour), false)
	s.purchase(t, s.shared, s.bob, "ORD-B1", "ben@customers.example", d10.Add(time.Hour), false)
	s.purchase(t, s.shared, nil, "ORD-SELF", "alice@partners.example", d10.Add(time.Hour), true)
	s.purchase(t, s.closed, s.alice, "ORD-C1", "cid@customers.example", d10.Add(time.Hour), false)
	for i := 0; i < 4; i++ {
		s.click(t, s.shared, s.alice, d10)
	}
	s.click(t, s.shared, s.bob, d10)
}

func expectRedirect(t *testing.T, p page, prefix string) {
	t.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, prefix) {
		t.Fatalf("status %d to %q, want 303 to %s…; body %.300s", p.Status, p.Location, prefix, p.Body)
	}
}

func expectBody(t *testing.T, p page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.Body, w) {
			t.Fatalf("page lacks %q:\n%.3000s", w, p.Body)
		}
	}
}

func expectNotInBody(t *testing.T, p page, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(p.Body, w) {
			t.Fatalf("page shows %q:\n%.3000s", w, p.Body)
		}
	}
}

func readCSV(t *testing.T, p page) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, p.Body)
	}
	return rows
}

func TestPortalSignedOutRedirectsToLogin(t *testing.T) {
	s := newPortalScene(t)
	admin := s.fresh(t)
	admin.signInAdmin()
	for _, path := range []string{
		"/portal", "/portal/", "/portal/programs/" + s.shared.ID, "/portal/programs/" + s.shared.ID + "/leads.csv",
		"/portal/programs/" + s.shared.ID + "/purchases.csv?from=2026-03-01&to=2026-03-10", "/portal/no-such-page",
	} {
		t.Run(path, func(t *testing.T) {
			expectRedirect(t, s.b.get(path), "/portal/login")
			// The admin's cookie opens no portal page.
			expectRedirect(t, admin.get(path), "/portal/login")
		})
	}
	// And the portal's cookie opens no admin page.
	alice := s.signIn(t, "alice@partners.example")
	for _, path := range []string{"/", "/programs", "/affiliates"} {
		expectRedirect(t, alice.get(path), "/login")
	}
	// The requested page survives sign-in.
	p := s.b.get("/portal/programs/" + s.shared.ID)
	if want := "/portal/login?next=" + url.QueryEscape("/portal/programs/"+s.shared.ID); p.Location != want {
		t.Fatalf("redirect %q, want %q", p.Location, want)
	}
}

func TestPortalSignIn(t *testing.T) {
	s := newPortalScene(t)
	blocked := s.env.Affiliate("Blair", "blair@partners.example", "", s.shared)
	if _, err := s.env.App.UpdateAffiliate(blocked.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusBlocked)}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, email, password, next string
		status                      int
		want                        string
	}{
		{"wrong password", "alice@partners.example", "wrong-password", "", http.StatusUnauthorized, "do not match"},
		{"unknown email", "nobody@partners.example", "password123", "", http.StatusUnauthorized, "do not match"},
		{"blocked", "blair@partners.example", portalPassword, "", http.StatusForbidden, "blocked"},
		{"ok", "alice@partners.example", portalPassword, "", http.StatusSeeOther, "/portal"},
		{"ok with next", "ALICE@partners.example ", portalPassword, "/portal/programs/" + s.shared.ID, http.StatusSeeOther, "/portal/programs/" + s.shared.ID},
		{"off-site next ignored", "alice@partners.example", portalPassword, "//evil.example/", http.StatusSeeOther, "/portal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := s.fresh(t)
			p := b.submit("/portal/login", "/portal/login", url.Values{"email": {tc.email}, "password": {tc.password}, "next": {tc.next}})
			expectStatus(t, p, tc.status)
			if tc.status == http.StatusSeeOther {
				if p.Location != tc.want {
					t.Fatalf("redirect %q, want %q", p.Location, tc.want)
				}
				expectStatus(t, b.get("/portal"), http.StatusOK)
				return
			}
			expectBody(t, p, tc.want, `name="password"`)
			expectRedirect(t, b.get("/portal"), "/portal/login")
		})
	}

	// Sign out ends the session.
	b := s.signIn(t, "bob@partners.example")
	expectRedirect(t, b.submit("/portal", "/portal/logout", nil), "/portal/login")
	expectRedirect(t, b.get("/portal"), "/portal/login")

	// A session of an affiliate blocked later stops working at once.
	b = s.signIn(t, "bob@partners.example")
	if _, err := s.env.App.UpdateAffiliate(s.bob.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusBlocked)}); err != nil {
		t.Fatal(err)
	}
	expectRedirect(t, b.get("/portal"), "/portal/login")
}

func TestPortalSignInIsThrottled(t *testing.T) {
	s := newPortalScene(t)
	b := s.fresh(t)
	var p page
	for i := 0; i < 6; i++ {
		p = b.submit("/portal/login", "/portal/login", url.Values{"email": {"alice@partners.example"}, "password": {"wrong-password"}})
	}
	expectStatus(t, p, http.StatusTooManyRequests)
	p = b.submit("/portal/login", "/portal/login", url.Values{"email": {"alice@partners.example"}, "password": {portalPassword}})
	expectStatus(t, p, http.StatusTooManyRequests)
	expectBody(t, p, "Too many failed attempts")
}

// An affiliate's account is not locked out by others' wrong passwords
// either: the attacker's address waits, a clean one signs in.
func TestPortalWrongPasswordsDoNotLockTheOwnerOut(t *testing.T) {
	s := newPortalScene(t, trustLoopback)
	attacker := s.b.from("203.0.113.66")
	for i := 0; i < 3; i++ {
		expectStatus(t, attempt(attacker, "/portal/login", "alice@partners.example", "wrong-password"), http.StatusUnauthorized)
	}
	for i := 1; i <= 2; i++ {
		expectStatus(t, attempt(s.b.from("198.51.100."+strconv.Itoa(i)), "/portal/login", "alice@partners.example", "wrong-password"), http.StatusUnauthorized)
	}
	// Five failures on the account: Alice still signs in from an address
	// that has not failed.
	p := attempt(s.b.from("192.0.2.10"), "/portal/login", "alice@partners.example", portalPassword)
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/portal" {
		t.Fatalf("signed in to %q, want /portal", p.Location)
	}
	// A sixth failure: addresses that failed wait the account's 2s, longer
	// than the attacker's own 1s.
	expectStatus(t, attempt(s.b.from("198.51.100.3"), "/portal/login", "alice@partners.example", "wrong-password"), http.StatusUnauthorized)
	expectWait(t, attempt(attacker, "/portal/login", "alice@partners.example", portalPassword), 2)
	expectWait(t, attempt(s.b.from("198.51.100.1"), "/portal/login", "alice@partners.example", portalPassword), 2)
}

func TestPortalInvite(t *testing.T) {
	s := newPortalScene(t)
	_, inviteURL, err := s.env.App.CreateAffiliate(app.AffiliateInput{Name: apptest.Ptr("Ivy Invited"), Email: apptest.Ptr("ivy@partners.example")})
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(inviteURL, s.env.Config.BaseURL)
	if !strings.HasPrefix(path, "/portal/invite/") {
		t.Fatalf("invite url %q", inviteURL)
	}
	b := s.fresh(t)
	p := b.get(path)
	expectStatus(t, p, http.StatusOK)
	expectBody(t, p, "Ivy Invited", `name="password"`, "ivy@partners.example")

	p = b.submit(path, path, url.Values{"password": {"short"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	expectBody(t, p, "at least 8 characters")

	p = b.submit(path, path, url.Values{"password": {"ivy-secret-1"}})
	expectRedirect(t, p, "/portal")
	p = b.get("/portal")
	expectStatus(t, p, http.StatusOK)
	expectBody(t, p, "Your password is set", "Hi Ivy Invited")

	// The password works for signing in; the link is used up.
	other := s.fresh(t)
	p = other.submit("/portal/login", "/portal/login", url.Values{"email": {"ivy@partners.example"}, "password": {"ivy-secret-1"}})
	expectRedirect(t, p, "/portal")
	for _, bad := range []string{path, "/portal/invite/not-a-token", "/portal/invite/" + strings.Repeat("A", 300)} {
		p = s.fresh(t).get(bad)
		expectStatus(t, p, http.StatusNotFound)
		expectBody(t, p, "This link has expired", "/portal/login")
	}
	// Posting to a used link changes nothing.
	p = s.fresh(t).submit("/portal/login", path, url.Values{"password": {"attacker-pass"}})
	expectStatus(t, p, http.StatusNotFound)
	if _, err := s.env.App.AuthenticateAffiliate("ivy@partners.example", "attacker-pass", "10.0.0.1"); err == nil {
		t.Fatal("a used invite link set a password")
	}

	// An expired link: a friendly page, and the password is not set.
	link, err := s.env.App.IssueInvite(s.bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.env.SetClock(s.now.Add(app.InviteTTL + time.Hour))
	path = strings.TrimPrefix(link, s.env.Config.BaseURL)
	p = s.fresh(t).get(path)
	expectStatus(t, p, http.StatusNotFound)
	expectBody(t, p, "This link has expired", "fresh invite link")
	p = s.fresh(t).submit("/portal/login", path, url.Values{"password": {"new-password-9"}})
	expectStatus(t, p, http.StatusNotFound)
	if _, err := s.env.App.AuthenticateAffiliate("bob@partners.example", "new-password-9", "10.0.0.2"); err == nil {
		t.Fatal("an expired invite set a password")
	}
}

// /join had no limit: each sign-up costs a bcrypt hash and leaves a pending
// account. Five from one address at once, then one per six minutes.
func TestJoinIsRateLimitedPerIP(t *testing.T) {
	s := newPortalScene(t, trustLoopback)
	advance := s.env.SetClock(s.now)
	joinPath := "/join/" + s.shared.ID
	join := func(b *browser, email string) page {
		return b.submit(joinPath, joinPath, url.Values{"name": {"Sam Signup"}, "email": {email}, "password": {"sam-secret-1"}, "terms": {"on"}})
	}
	pending := func() int {
		n := 0
		all, err := s.env.App.Views().Affiliates()
		if err != nil {
			t.Fatal(err)
		}
		for _, af := range all {
			if af.Status == app.StatusPending {
				n++
			}
		}
		return n
	}
	before := pending()
	for i := 0; i < 5; i++ {
		expectRedirect(t, join(s.b.from("203.0.113.5"), fmt.Sprintf("sam%d@partners.example", i)), "/portal")
	}
	if got := pending(); got != before+5 {
		t.Fatalf("%d pending affiliates, want %d", got, before+5)
	}
	p := join(s.b.from("203.0.113.5"), "sam5@partners.example")
	expectStatus(t, p, http.StatusTooManyRequests)
	expectBody(t, p, "Too many sign-ups from your network. Try again in 6 minutes.", "Shared Shop", "sam5@partners.example")
	expectNotInBody(t, p, "sam-secret-1")
	if ra := p.Header.Get("Retry-After"); ra != "360" {
		t.Fatalf("Retry-After %q, want 360", ra)
	}
	if got := pending(); got != before+5 {
		t.Fatalf("a refused sign-up stored an affiliate: %d pending, want %d", got, before+5)
	}
	if _, err := s.env.App.AuthenticateAffiliate("sam5@partners.example", "sam-secret-1", "192.0.2.99"); err == nil {
		t.Fatal("the refused sign-up can sign in")
	}
	// Another address is not held up; the first one is again after six minutes.
	expectRedirect(t, join(s.b.from("198.51.100.5"), "sam5@partners.example"), "/portal")
	advance(6 * time.Minute)
	expectRedirect(t, join(s.b.from("203.0.113.5"), "sam6@partners.example"), "/portal")
	expectStatus(t, join(s.b.from("203.0.113.5"), "sam7@partners.example"), http.StatusTooManyRequests)
	if got := pending(); got != before+7 {
		t.Fatalf("%d pending affiliates, want %d", got, before+7)
	}
}

func TestPortalJoin(t *testing.T) {
	s := newPortalScene(t)
	auto := s.env.Program("Open House", func(in *app.ProgramInput) {
		in.AutoApprove = apptest.Ptr(true)
		in.CommissionType, in.CommissionValue = apptest.Ptr("flat"), apptest.Ptr("5.00")
	})
	affiliates := func() int {
		all, err := s.env.App.Views().Affiliates()
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	joinPath := "/join/" + s.shared.ID
	p := s.fresh(t).get(joinPath)
	expectStatus(t, p, http.StatusOK)
	expectBody(t, p, "Shared Shop", "Great sneakers for great people.", "30%", `name="name"`, `name="email"`, `name="password"`, `name="terms"`)
	expectBody(t, s.fresh(t).get("/join/"+auto.ID), "Open House", "$5.00")

	for _, path := range []string{"/join/" + store.NewID(s.now), "/join/nope"} {
		expectStatus(t, s.fresh(t).get(path), http.StatusNotFound)
	}
	deleted := s.env.Program("Deleted")
	if err := s.env.App.DeleteProgram(deleted.ID); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, s.fresh(t).get("/join/"+deleted.ID), http.StatusNotFound)

	before := affiliates()
	form := func(mutate func(url.Values)) url.Values {
		v := url.Values{"name": {"Nina Newcomer"}, "email": {"nina@partners.example"}, "password": {"nina-secret-1"}, "terms": {"on"}}
		mutate(v)
		return v
	}
	bad := []struct {
		name string
		form url.Values
		want string
	}{
		{"terms unchecked", form(func(v url.Values) { v.Del("terms") }), "accept the program terms"},
		{"no name", form(func(v url.Values) { v.Set("name", "") }), "name is required"},
		{"bad email", form(func(v url.Values) { v.Set("email", "nina") }), "not a valid email"},
		{"short password", form(func(v url.Values) { v.Set("password", "short") }), "at least 8"},
		{"existing account", form(func(v url.Values) { v.Set("email", "Alice@Partners.example") }), "already exists"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			b := s.fresh(t)
			p := b.submit(joinPath, joinPath, tc.form)
			expectStatus(t, p, http.StatusUnprocessableEntity)
			expectBody(t, p, tc.want, "Shared Shop")
			expectNotInBody(t, p, "nina-secret-1")
			if affiliates() != before {
				t.Fatal("a refused sign-up stored an affiliate")
			}
			expectRedirect(t, b.get("/portal"), "/portal/login")
		})
	}

	// Joining a program that reviews partners: pending, signed in, told to wait.
	b := s.fresh(t)
	p = b.submit(joinPath, joinPath, form(func(url.Values) {}))
	expectRedirect(t, p, "/portal")
	p = b.get("/portal")
	expectStatus(t, p, http.StatusOK)
	expectBody(t, p, "awaiting approval", "Shared Shop")
	expectNotInBody(t, p, "?ref=", "Copy")
	nina, err := s.env.App.AuthenticateAffiliate("nina@partners.example", "nina-secret-1", "10.0.0.3")
	if err != nil || nina.Status != app.StatusPending {
		t.Fatalf("nina: %v %+v", err, nina)
	}
	// No links or stats while pending.
	expectRedirect(t, b.get("/portal/programs/"+s.shared.ID), "/portal")
	expectStatus(t, b.get("/portal/programs/"+s.shared.ID+"/leads.csv"), http.StatusForbidden)

	// Once approved, the link appears.
	if _, err := s.env.App.UpdateAffiliate(nina.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusActive)}); err != nil {
		t.Fatal(err)
	}
	p = b.get("/portal")
	expectBody(t, p, "https://shop.example.com/?ref=ninanewcomer")
	expectNotInBody(t, p, "awaiting approval")

	// Joining an auto-approving program: active at once.
	b = s.fresh(t)
	p = b.submit("/join/"+auto.ID, "/join/"+auto.ID, form(func(v url.Values) { v.Set("email", "otto@partners.example"); v.Set("name", "Otto") }))
	expectRedirect(t, p, "/portal")
	p = b.get("/portal")
	expectBody(t, p, "Welcome aboard", "Open House", "?ref=otto")
	expectNotInBody(t, p, "awaiting approval")
}

func TestPortalHome(t *testing.T) {
	s := newPortalScene(t)
	s.populate(t)
	cases := []struct {
		email      string
		want, hide []string
	}{
		{"alice@partners.example", []string{"Shared Shop", "Closed Club", "?ref=alice", "/portal/programs/" + s.shared.ID, "/portal/programs/" + s.closed.ID, "$36.00"},
			[]string{"?ref=bob", "Bob"}},
		{"bob@partners.example", []string{"Shared Shop", "?ref=bob"},
			[]string{"Closed Club", "?ref=alice", s.closed.ID, "Alice"}},
	}
	for _, tc := range cases {
		t.Run(tc.email, func(t *testing.T) {
			p := s.signIn(t, tc.email).get("/portal")
			expectStatus(t, p, http.StatusOK)
			expectBody(t, p, tc.want...)
			expectNotInBody(t, p, tc.hide...)
		})
	}
	// An affiliate in no program gets a friendly empty state.
	s.env.Affiliate("Lonely", "lonely@partners.example", "")
	expectBody(t, s.signIn(t, "lonely@partners.example").get("/portal"), "not in any program yet")
}

// rowsRe pulls the email cells out of a program page's table.
var rowsRe = regexp.MustCompile(`data-label="Email">([^<]*)<|<span class="muted small">([^<]*)</span>`)

func pageEmails(p page) []string {
	var out []string
	for _, m := range rowsRe.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1]+m[2])
	}
	return out
}

func TestPortalProgramPageAndCSVIsolation(t *testing.T) {
	s := newPortalScene(t)
	s.populate(t)
	alice, bob := s.signIn(t, "alice@partners.example"), s.signIn(t, "bob@partners.example")
	rng := "from=2026-03-01&to=2026-03-10"
	sharedPage := "/portal/programs/" + s.shared.ID
	secrets := []string{"198.51.100.23", "MerchantOnlyAgent", "Orphan Lead", "orphan@", "ORD-SELF", "alice@partners.example"}

	cases := []struct {
		name       string
		b          *browser
		path       string
		wantRows   []string
		wantInPage []string
		hide       []string
	}{
		{"alice leads", alice, sharedPage + "?" + rng + "&list=leads",
			[]string{"ann@customers.example", "=cmd@customers.example", "amy@customers.example"},
			[]string{"Ann Alpha", "Export CSV", "leads.csv?from=2026-03-01&amp;to=2026-03-10", "list=purchases", ">Clicks<", ">4<"},
			[]string{"ben@", "Ben Bravo", "cid@"}},
		{"alice purchases", alice, sharedPage + "?" + rng + "&list=purchases",
			[]string{"ann@customers.example"},
			[]string{"ORD-A1", "$120.00", "$36.00", "purchases.csv?from=2026-03-01&amp;to=2026-03-10"},
			[]string{"ORD-B1", "ORD-C1", "ben@"}},
		{"bob leads", bob, sharedPage + "?" + rng,
			[]string{"ben@customers.example"},
			[]string{"Ben Bravo", "?ref=bob"},
			[]string{"ann@", "amy@", "Ann Alpha", "?ref=alice", "cmd@"}},
		{"bob purchases", bob, sharedPage + "?" + rng + "&list=purchases",
			[]string{"ben@customers.example"},
			[]string{"ORD-B1"},
			[]string{"ORD-A1", "ann@"}},
		{"the to day is included", alice, sharedPage + "?from=2026-03-10&to=2026-03-10",
			[]string{"ann@customers.example"},
			[]string{"Ann Alpha", "1 day,"},
			[]string{"amy@"}},
		{"a range before the data", alice, sharedPage + "?from=2026-02-01&to=2026-02-28",
			nil,
			[]string{"No leads in this period", "No activity in this period"},
			[]string{"ann@", "amy@"}},
		{"an affiliate id in the URL is ignored", alice, sharedPage + "?" + rng + "&affiliate=" + s.bob.ID + "&affiliate_id=" + s.bob.ID,
			[]string{"ann@customers.example", "=cmd@customers.example", "amy@customers.example"},
			nil,
			[]string{"ben@"}},
		{"closed program: stats, no toggle", alice, "/portal/programs/" + s.closed.ID + "?" + rng + "&list=leads",
			nil,
			[]string{"Closed Club", "keeps the details", "?ref=alice-"},
			[]string{"Export CSV", "list=leads", "list=purchases", "cid@", ".csv"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.b.get(tc.path)
			expectStatus(t, p, http.StatusOK)
			if got := pageEmails(p); fmt.Sprint(got) != fmt.Sprint(tc.wantRows) {
				t.Fatalf("rows %v, want %v", got, tc.wantRows)
			}
			expectBody(t, p, tc.wantInPage...)
			expectNotInBody(t, p, append(tc.hide, secrets...)...)
		})
	}

	csvCases := []struct {
		name   string
		b      *browser
		path   string
		status int
		rows   [][]string
	}{
		{"alice leads", alice, sharedPage + "/leads.csv?" + rng, 200, [][]string{
			{"created_at", "email", "name", "program", "referral_code", "sub_id", "purchased"},
			{"2026-03-10T22:00:00Z", "ann@customers.example", "Ann Alpha", "Shared Shop", "alice", "spring", "no"},
			{"2026-03-01T09:00:00Z", "'=cmd@customers.example", `'=HYPERLINK("http://evil.example","x")`, "Shared Shop", "alice", "spring", "no"},
			{"2026-03-01T08:00:00Z", "amy@customers.example", "Amy Early", "Shared Shop", "alice", "spring", "no"},
		}},
		{"alice leads, to day only", alice, sharedPage + "/leads.csv?from=2026-03-10&to=2026-03-10", 200, [][]string{
			{"created_at", "email", "name", "program", "referral_code", "sub_id", "purchased"},
			{"2026-03-10T22:00:00Z", "ann@customers.example", "Ann Alpha", "Shared Shop", "alice", "spring", "no"},
		}},
		{"alice purchases", alice, sharedPage + "/purchases.csv?" + rng, 200, [][]string{
			{"purchased_at", "order_id", "email", "name", "product", "amount", "currency", "commission", "status", "sub_id"},
			{"2026-03-10T23:00:00Z", "ORD-A1", "ann@customers.example", "Buyer ORD-A1", "Sneakers", "120.00", "USD", "36.00", "paid", ""},
		}},
		{"bob leads", bob, sharedPage + "/leads.csv?" + rng, 200, [][]string{
			{"created_at", "email", "name", "program", "referral_code", "sub_id", "purchased"},
			{"2026-03-10T22:00:00Z", "ben@customers.example", "Ben Bravo", "Shared Shop", "bob", "spring", "no"},
		}},
		{"alice, closed program leads", alice, "/portal/programs/" + s.closed.ID + "/leads.csv?" + rng, 403, nil},
		{"alice, closed program purchases", alice, "/portal/programs/" + s.closed.ID + "/purchases.csv?" + rng, 403, nil},
		{"bob, a program he is not in", bob, "/portal/programs/" + s.closed.ID + "/leads.csv?" + rng, 404, nil},
		{"bob, a made-up program", bob, "/portal/programs/" + store.NewID(s.now) + "/leads.csv", 404, nil},
		{"bob, a garbage program id", bob, "/portal/programs/%2e%2e%2f/purchases.csv", 404, nil},
		{"bad date", alice, sharedPage + "/leads.csv?from=2026-02-30&to=2026-03-10", 400, nil},
		{"reversed dates", alice, sharedPage + "/leads.csv?from=2026-03-10&to=2026-03-01", 400, nil},
	}
	for _, tc := range csvCases {
		t.Run("csv "+tc.name, func(t *testing.T) {
			p := tc.b.get(tc.path)
			expectStatus(t, p, tc.status)
			if tc.status != http.StatusOK {
				if !strings.Contains(p.Header.Get("Content-Type"), "text/html") || strings.Contains(p.Body, "@customers") {
					t.Fatalf("refusal is not a friendly page: %s %.300s", p.Header.Get("Content-Type"), p.Body)
				}
				return
			}
			if ct := p.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.Contains(p.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("headers %v", p.Header)
			}
			if got := readCSV(t, p); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.rows) {
				t.Fatalf("csv\n%q\nwant\n%q", got, tc.rows)
			}
		})
	}

	// Other programs' pages: not found, with a friendly page.
	for _, path := range []string{"/portal/programs/" + s.closed.ID, "/portal/programs/" + store.NewID(s.now), "/portal/programs/x"} {
		p := bob.get(path)
		expectStatus(t, p, http.StatusNotFound)
		expectNotInBody(t, p, "Closed Club", "cid@")
	}
}

func TestPortalPagingCursorStaysWithTheAffiliate(t *testing.T) {
	s := newPortalScene(t)
	base := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	for i := 0; i < views.PortalPageSize+5; i++ {
		at := base.Add(time.Duration(i) * time.Minute)
		s.lead(t, s.shared, s.alice, fmt.Sprintf("a%02d@customers.example", i), "A", at)
		s.lead(t, s.shared, s.bob, fmt.Sprintf("b%02d@customers.example", i), "B", at.Add(time.Second))
	}
	alice, bob := s.signIn(t, "alice@partners.example"), s.signIn(t, "bob@partners.example")
	path := "/portal/programs/" + s.shared.ID + "?from=2026-03-05&to=2026-03-05&list=leads"
	nextRe := regexp.MustCompile(`rel="next" href="([^"]+)"`)

	seen := map[string]bool{}
	p := alice.get(path)
	for i := 0; ; i++ {
		expectStatus(t, p, http.StatusOK)
		for _, e := range pageEmails(p) {
			if !strings.HasPrefix(e, "a") || seen[e] {
				t.Fatalf("page %d: row %s", i, e)
			}
			seen[e] = true
		}
		m := nextRe.FindStringSubmatch(p.Body)
		if m == nil {
			break
		}
		if i > 3 {
			t.Fatal("paging does not end")
		}
		p = alice.get(strings.ReplaceAll(m[1], "&amp;", "&"))
		expectBody(t, p, "Newest")
	}
	if len(seen) != views.PortalPageSize+5 {
		t.Fatalf("alice saw %d leads over the pages", len(seen))
	}

	// Bob's next-page link opened by Alice shows Alice's rows only.
	m := nextRe.FindStringSubmatch(bob.get(path).Body)
	if m == nil {
		t.Fatal("bob has no next page")
	}
	p = alice.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	expectStatus(t, p, http.StatusOK)
	for _, e := range pageEmails(p) {
		if !strings.HasPrefix(e, "a") {
			t.Fatalf("bob's row %s through his cursor", e)
		}
	}
	// A forged cursor is a friendly 400.
	p = alice.get(path + "&cursor=forged")
	expectStatus(t, p, http.StatusBadRequest)
	expectBody(t, p, "not valid")
}

func TestPortalSharingSwitchedOff(t *testing.T) {
	s := newPortalScene(t)
	s.populate(t)
	alice := s.signIn(t, "alice@partners.example")
	page := "/portal/programs/" + s.shared.ID + "?from=2026-03-01&to=2026-03-10"
	csvs := []string{"/portal/programs/" + s.shared.ID + "/leads.csv", "/portal/programs/" + s.shared.ID + "/purchases.csv"}
	expectBody(t, alice.get(page), "list=leads", "list=purchases", "ann@customers.example")

	off := false
	if _, err := s.env.App.UpdateProgram(s.shared.ID, app.ProgramInput{ShareLeads: &off}); err != nil {
		t.Fatal(err)
	}
	p := alice.get(page + "&list=leads")
	expectStatus(t, p, http.StatusOK)
	expectBody(t, p, "ORD-A1", "purchases.csv")
	expectNotInBody(t, p, "list=leads", "leads.csv", "Ann Alpha")
	expectStatus(t, alice.get(csvs[0]), http.StatusForbidden)
	expectStatus(t, alice.get(csvs[1]), http.StatusOK)

	if _, err := s.env.App.UpdateProgram(s.shared.ID, app.ProgramInput{SharePurchasers: &off}); err != nil {
		t.Fatal(err)
	}
	p = alice.get(page + "&list=purchases")
	expectStatus(t, p, http.StatusOK)
	expectNotInBody(t, p, "Export CSV", "list=", ".csv", "ann@customers.example", "ORD-A1")
	expectBody(t, p, "keeps the details")
	for _, c := range csvs {
		p := alice.get(c)
		expectStatus(t, p, http.StatusForbidden)
		expectBody(t, p, "does not share")
	}
}

func TestPortalProgramPageTools(t *testing.T) {
	s := newPortalScene(t)
	alice := s.signIn(t, "alice@partners.example")
	base := "/portal/programs/" + s.shared.ID
	cases := []struct {
		name   string
		query  string
		status int
		want   []string
	}{
		{"default range is the last 30 days", "", 200, []string{`value="2026-02-14"`, `value="2026-03-15"`, "30 days", "https://shop.example.com/?ref=alice"}},
		{"sub-id builder without JS", "?sub=spring+newsletter", 200, []string{`value="https://shop.example.com/?ref=alice&amp;sub=spring&#43;newsletter"`, `value="spring newsletter"`}},
		{"sub-id with markup", "?sub=%3Cscript%3E", 200, []string{"sub=%3Cscript%3E", `value="&lt;script&gt;"`}},
		{"bad date: message and the default range", "?from=tomorrow", 400, []string{"from must be a date", `value="2026-02-14"`}},
		{"range too long", "?from=2020-01-01&to=2026-01-01", 400, []string{"at most 366 days"}},
		{"chart", "?from=2026-03-01&to=2026-03-03", 200, []string{"<svg", "<rect", "2026-03-01: 0 clicks, 0 leads, 0 purchases", ">03-01<", ">03-03<"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := alice.get(base + tc.query)
			expectStatus(t, p, tc.status)
			expectBody(t, p, tc.want...)
			expectNotInBody(t, p, "<script>alert", "sub=<script>")
		})
	}
}
