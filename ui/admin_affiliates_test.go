package ui

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/web"
)

var inviteLinkRe = regexp.MustCompile(`value="http://spiffy\.test/portal/invite/([A-Za-z0-9_-]+)"`)

// createAffiliate submits the add form and returns the new affiliate's page.
func createAffiliate(t *testing.T, b *browser, form url.Values) string {
	t.Helper()
	p := b.submit("/affiliates/new", "/affiliates", form)
	expectStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.Location, "/affiliates/") {
		t.Fatalf("add redirects to %q", p.Location)
	}
	return p.Location
}

func TestAffiliatesAddWithInviteLink(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()

	p := b.get("/affiliates")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Add your first affiliate", `href="/affiliates/new"`)

	page := createAffiliate(t, b, url.Values{"name": {"Jane Doe"}, "email": {"jane@example.com"}, "status": {"active"}})
	p = b.get(page)
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Jane Doe added", "Invite link for Jane Doe", "resets a forgotten password", "readonly", "Not in any program yet")
	m := inviteLinkRe.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no invite link on the page:\n%.3000s", p.Body)
	}
	af, err := b.env.App.InviteAffiliate(m[1])
	if err != nil || af.Email != "jane@example.com" || af.Status != app.StatusActive {
		t.Fatalf("invite link leads to %+v, %v", af, err)
	}
	// Shown once: a reload does not show it again.
	p = b.get(page)
	if inviteLinkRe.MatchString(p.Body) {
		t.Fatal("invite link shown again on reload")
	}

	// A new invite link (the merchant's password reset) on demand.
	p = b.submit(page, page+"/invite", nil)
	expectStatus(t, p, http.StatusSeeOther)
	p = b.get(page)
	m2 := inviteLinkRe.FindStringSubmatch(p.Body)
	if m2 == nil || m2[1] == m[1] {
		t.Fatalf("no fresh invite link: %v", m2)
	}
	if _, err := b.env.App.InviteAffiliate(m2[1]); err != nil {
		t.Fatalf("fresh invite does not work: %v", err)
	}

	// With a password there is no invite link, and the password works.
	page = createAffiliate(t, b, url.Values{"name": {"Joe"}, "email": {"joe@example.com"}, "status": {"pending"}, "password": {"joe-secret-1"}})
	p = b.get(page)
	mustContain(t, p.Body, "Joe added", `<span class="badge badge-pending">pending</span>`, "waiting for approval")
	if inviteLinkRe.MatchString(p.Body) {
		t.Fatal("invite link shown for an affiliate with a password")
	}
	if _, err := b.env.App.AuthenticateAffiliate("joe@example.com", "joe-secret-1", "192.0.2.1"); err != nil {
		t.Fatalf("password not set: %v", err)
	}

	// The list shows both with their status badges.
	p = b.get("/affiliates")
	mustContain(t, p.Body, "Jane Doe", "jane@example.com", `badge badge-active`, `badge badge-pending`, "No program yet")

	// Unknown affiliate: a friendly 404.
	for _, path := range []string{"/affiliates/01J0000000000000000000ZZZZ", "/affiliates/nope"} {
		p = b.get(path)
		expectStatus(t, p, http.StatusNotFound)
		mustContain(t, p.Body, "affiliate not found", "Back to spiffy.test")
	}
	p = b.submit("/affiliates", "/affiliates/nope/invite", nil)
	expectStatus(t, p, http.StatusNotFound)
}

func TestAffiliatesBadInput(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	existing := b.env.Affiliate("Jane", "jane@example.com", "")
	for _, tc := range []struct {
		name string
		form url.Values
		msg  string
	}{
		{"empty name", url.Values{"name": {""}, "email": {"eve@example.com"}}, "Name is required."},
		{"bad email", url.Values{"name": {"Eve"}, "email": {"eve-at-example"}}, "Email is not a valid email address."},
		{"duplicate email", url.Values{"name": {"Eve"}, "email": {"JANE@example.com"}}, "An affiliate with this email already exists."},
		{"short password", url.Values{"name": {"Eve"}, "email": {"eve@example.com"}, "password": {"short"}}, "Password must be at least 8 characters."},
		{"bad status", url.Values{"name": {"Eve"}, "email": {"eve@example.com"}, "status": {"vip"}}, "Status must be pending, active or blocked."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.submit("/affiliates/new", "/affiliates", tc.form)
			expectStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p.Body, `<p class="field-error">`+tc.msg, `value="`+tc.form.Get("email")+`"`)
			if pw := tc.form.Get("password"); pw != "" && strings.Contains(p.Body, pw) {
				t.Fatal("the password is echoed back")
			}
			if all, _ := b.env.App.Views().Affiliates(); len(all) != 1 {
				t.Fatalf("%d affiliates after a refused add", len(all))
			}
		})
	}

	// The details form: same checks, nothing changed.
	other := b.env.Affiliate("Joe", "joe@example.com", "")
	page := "/affiliates/" + other.ID
	p := b.submit(page, page, url.Values{"name": {"Joe"}, "email": {existing.Email}, "status": {"active"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p.Body, "An affiliate with this email already exists.", "Save details")
	p = b.submit(page, page, url.Values{"name": {" "}, "email": {"joe@example.com"}, "status": {"active"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p.Body, "Name is required.")
	if got, _ := b.env.App.Affiliate(other.ID); got.Name != "Joe" || got.Email != "joe@example.com" {
		t.Fatalf("refused edit changed %+v", got)
	}
	p = b.submit(page, page, url.Values{"name": {"Joe Bloggs"}, "email": {"joe@bloggs.example.com"}, "status": {"active"}})
	expectStatus(t, p, http.StatusSeeOther)
	if got, _ := b.env.App.Affiliate(other.ID); got.Name != "Joe Bloggs" || got.Email != "joe@bloggs.example.com" {
		t.Fatalf("edit not saved: %+v", got)
	}
}

func TestAffiliatesStatusChanges(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	pending := "pending"
	af, _, err := b.env.App.CreateAffiliate(app.AffiliateInput{Name: new("Pat"), Email: new("pat@example.com"), Status: &pending})
	if err != nil {
		t.Fatal(err)
	}
	b.env.Affiliate("Active Andy", "andy@example.com", "")
	page := "/affiliates/" + af.ID

	// The Pending tab lists Pat with an Approve button.
	p := b.get("/affiliates?status=pending")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Pat", `action="/affiliates/`+af.ID+`/status"`, ">Approve</button>")
	mustNotContain(t, p.Body, "Active Andy")

	for _, tc := range []struct {
		name, status, next, location, flash string
	}{
		{"approve from the list", "active", "/affiliates?status=pending", "/affiliates?status=pending", "Pat is approved"},
		{"block", "blocked", "", page, "Pat is blocked"},
		{"unblock", "active", "", page, "Pat is unblocked"},
		{"back to pending", "pending", "", page, "Pat is now pending"},
		{"off-site next is ignored", "active", "https://evil.example.com/", page, "Pat is approved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.submit(page, page+"/status", url.Values{"status": {tc.status}, "next": {tc.next}})
			expectStatus(t, p, http.StatusSeeOther)
			if p.Location != tc.location {
				t.Fatalf("redirect to %q, want %q", p.Location, tc.location)
			}
			if got, _ := b.env.App.Affiliate(af.ID); got.Status != tc.status {
				t.Fatalf("status %s, want %s", got.Status, tc.status)
			}
			mustContain(t, b.get(p.Location).Body, tc.flash)
		})
	}
	// A made-up status: a friendly page, nothing changed.
	p = b.submit(page, page+"/status", url.Values{"status": {"superuser"}})
	expectStatus(t, p, http.StatusBadRequest)
	mustContain(t, p.Body, "status must be pending, active or blocked", "Back to spiffy.test")
	if got, _ := b.env.App.Affiliate(af.ID); got.Status != app.StatusActive {
		t.Fatalf("status %s after a refused change", got.Status)
	}
	// The details form changes status too.
	p = b.submit(page, page, url.Values{"name": {"Pat"}, "email": {"pat@example.com"}, "status": {"blocked"}})
	expectStatus(t, p, http.StatusSeeOther)
	if got, _ := b.env.App.Affiliate(af.ID); got.Status != app.StatusBlocked {
		t.Fatalf("status %s, want blocked", got.Status)
	}
	mustContain(t, b.get(page).Body, `<span class="badge badge-blocked">blocked</span>`, ">Unblock</button>")
}

func TestAffiliatesEnrolAndReferralLinks(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	shop := b.env.Program("Shop")
	course := b.env.Program("Course", func(in *app.ProgramInput) { in.LandingURL = new("https://learn.example.com/course#pricing") })
	taken := b.env.Affiliate("Taken", "taken@example.com", "TAKEN", shop)
	af := b.env.Affiliate("Mia Wong", "mia@example.com", "")
	page := "/affiliates/" + af.ID

	p := b.get(page)
	mustContain(t, p.Body, "Not in any program yet", `<option value="`+shop.ID+`"`, `<option value="`+course.ID+`"`)

	// Refused codes: a message next to the field, nothing stored.
	for _, tc := range []struct {
		name string
		form url.Values
		msg  string
	}{
		{"duplicate code", url.Values{"program_id": {course.ID}, "code": {"taken"}}, "Referral code &#34;taken&#34; is already taken."},
		{"bad code", url.Values{"program_id": {course.ID}, "code": {"mia/10"}}, "Referral code may contain only letters"},
		{"no program", url.Values{"code": {"MIA"}}, "Choose a program."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.submit(page, page+"/programs", tc.form)
			expectStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p.Body, `<p class="field-error">`+tc.msg, "Add to a program")
			if es, _ := b.env.App.Views().EnrollmentsOfAffiliate(af.ID); len(es) != 0 {
				t.Fatalf("refused enrolment stored: %+v", es[0])
			}
		})
	}

	p = b.submit(page, page+"/programs", url.Values{"program_id": {shop.ID}, "code": {"MIA10"}})
	expectStatus(t, p, http.StatusSeeOther)
	p = b.submit(page, page+"/programs", url.Values{"program_id": {course.ID}})
	expectStatus(t, p, http.StatusSeeOther)
	p = b.get(page)
	mustContain(t, p.Body, "<code>MIA10</code>", `value="https://shop.example.com/?ref=MIA10"`,
		"<code>miawong</code>", `value="https://learn.example.com/course?ref=miawong#pricing"`,
		`<button class="btn btn-sm" type="button" data-copy hidden>Copy</button>`, `<script src="/static/ui.js?v=`)
	mustNotContain(t, p.Body, "Not in any program yet", "Add to a program")

	// The list shows the programs; the program page shows the affiliate.
	p = b.get("/affiliates")
	mustContain(t, p.Body, `<span class="chip">Shop</span><span class="chip">Course</span>`)
	p = b.get("/programs/" + shop.ID)
	mustContain(t, p.Body, "Mia Wong", "<code>MIA10</code>", "<code>TAKEN</code>", `href="/affiliates/`+taken.ID+`"`)

	// Deleted programs leave the affiliate's page.
	if err := b.env.App.DeleteProgram(course.ID); err != nil {
		t.Fatal(err)
	}
	mustNotContain(t, b.get(page).Body, "miawong")
	// Unknown program: a friendly 404.
	p = b.submit(page, page+"/programs", url.Values{"program_id": {"nope"}})
	expectStatus(t, p, http.StatusNotFound)
	mustContain(t, p.Body, "program not found")
}

// The merchant gives an affiliate a coupon on its page; a purchase with
// it is the affiliate's without any cookie, and the affiliate sees its
// coupon in the portal.
func TestAffiliateCoupon(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	shop := b.env.Program("Shop", func(in *app.ProgramInput) { in.CommissionValue = new("10") })
	other := b.env.Program("Other")
	af := b.env.Affiliate("Mia Wong", "mia@example.com", "mia", shop)
	b.env.Affiliate("Taken", "taken@example.com", "taken", other)
	if _, _, err := b.env.App.EnrollWithCoupon(other.ID, b.env.Affiliate("Zed", "zed@example.com", "zed", other).ID, "", "ZED5"); err != nil {
		t.Fatal(err)
	}
	page := "/affiliates/" + af.ID

	p := b.submit(page, page+"/programs", url.Values{"program_id": {shop.ID}, "coupon": {"zed5"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p.Body, `Coupon &#34;zed5&#34; is already taken.`)
	p = b.submit(page, page+"/programs", url.Values{"program_id": {shop.ID}, "coupon": {"mia 20"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p.Body, "Coupon may contain only letters")

	p = b.submit(page, page+"/programs", url.Values{"program_id": {shop.ID}, "coupon": {"MIA20"}})
	expectStatus(t, p, http.StatusSeeOther)
	mustContain(t, b.get(page).Body, `value="MIA20"`, "Coupon MIA20 now credits")
	mustContain(t, b.get("/programs/"+shop.ID).Body, "<code>MIA20</code>", "<code>mia</code>")

	// A purchase with the coupon (any case), no referral, no visitor.
	rec := b.env.API(http.MethodPost, "/purchases", map[string]string{"order_id": "o-1", "program": shop.ID,
		"email": "buyer@example.com", "amount": "100.00", "currency": "USD", "coupon": "mia20"})
	apptest.Expect(t, rec, http.StatusCreated)
	pur := apptest.Decode[web.PurchaseJSON](t, rec)
	if pur.Affiliate == nil || *pur.Affiliate != af.ID || pur.ReferralCode != "mia" || pur.Commission != "10.00" {
		t.Fatalf("purchase with the coupon %+v", pur)
	}
	// Another program's coupon does not credit this program.
	rec = b.env.API(http.MethodPost, "/purchases", map[string]string{"order_id": "o-2", "program": shop.ID,
		"email": "buyer2@example.com", "amount": "100.00", "currency": "USD", "coupon": "ZED5"})
	apptest.Expect(t, rec, http.StatusCreated)
	if pur := apptest.Decode[web.PurchaseJSON](t, rec); pur.Affiliate != nil {
		t.Fatalf("another program's coupon attributed %+v", pur)
	}

	s := &portalScene{b: b, env: b.env}
	portal := s.signIn(t, "mia@example.com")
	mustContain(t, portal.get("/portal/programs/"+shop.ID).Body, "coupon <code>MIA20</code>")
}
