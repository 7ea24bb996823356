package ui

import (
	"html"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/store"
)

// programValues is a complete, valid program form; set overrides fields
// ("" deletes one, as an unchecked box would).
func programValues(set ...string) url.Values {
	v := url.Values{
		"name":             {"Partner program"},
		"description":      {"Earn 30% on every order."},
		"landing_url":      {"https://shop.example.com/"},
		"cookie_days":      {"30"},
		"attribution":      {"last_click"},
		"commission_type":  {"percent"},
		"commission_value": {"30"},
		"currency":         {"USD"},
		"hold_days":        {"30"},
		"recurring_months": {"0"},
	}
	for i := 0; i+1 < len(set); i += 2 {
		if set[i+1] == "" && strings.HasPrefix(set[i], "-") {
			v.Del(set[i][1:])
			continue
		}
		v.Set(set[i], set[i+1])
	}
	return v
}

var programLocation = regexp.MustCompile(`^/programs/([0-9A-Z]{26})$`)

// createProgram submits the new-program form and returns the new id.
func createProgram(t *testing.T, b *browser, form url.Values) string {
	t.Helper()
	p := b.submit("/programs/new", "/programs", form)
	expectStatus(t, p, http.StatusSeeOther)
	m := programLocation.FindStringSubmatch(p.Location)
	if m == nil {
		t.Fatalf("created program redirects to %q", p.Location)
	}
	return m[1]
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Fatalf("page lacks %q:\n%.3000s", w, body)
		}
	}
}

// csrfValue matches a page's CSRF tokens: random, so by chance they may
// hold any short string a test says a page must not show ("Ann" once).
var csrfValue = regexp.MustCompile(`name="csrf" value="[^"]*"`)

func mustNotContain(t *testing.T, body string, bads ...string) {
	t.Helper()
	body = csrfValue.ReplaceAllString(body, `name="csrf" value=""`)
	for _, w := range bads {
		if strings.Contains(body, w) {
			t.Fatalf("page should not contain %q:\n%.3000s", w, body)
		}
	}
}

// toggleOn reports whether the page's checkbox for field is checked.
func toggleOn(t *testing.T, body, field string) bool {
	t.Helper()
	m := regexp.MustCompile(`<input type="checkbox" name="` + field + `" value="true"\s*(checked)?>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s toggle on the page", field)
	}
	return m[1] != ""
}

func TestProgramsCreateEditDelete(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()

	p := b.get("/programs")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Create your first program", `href="/programs/new"`)

	p = b.get("/programs/new")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "More Settings", "Data Sharing", "Track Leads", "Share Leads", "Share Purchasers", `value="30"`,
		"<legend>Commissions</legend>", `name="hold_days" value="30"`, `name="recurring_months" value="0"`, "Your refund window")

	id := createProgram(t, b, programValues("track_leads", "true", "share_leads", "true"))
	got, err := b.env.App.Program(id)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Program{ID: id, Name: "Partner program", Description: "Earn 30% on every order.", LandingURL: "https://shop.example.com/",
		CookieDays: 30, Attribution: "last_click", TrackLeads: true, ShareLeads: true, CommissionType: "percent", CommissionValue: 3000,
		Currency: "USD", HoldDays: 30, CreatedAt: got.CreatedAt}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("stored %+v\nwant %+v", *got, want)
	}

	// The edit page: settings, the two parts with their toggles, the join link.
	p = b.get("/programs/" + id)
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Program “Partner program” created", "<legend>More Settings</legend>", "<legend>Data Sharing</legend>",
		`<button class="btn btn-primary" type="submit">Save Settings</button>`, "http://spiffy.test/join/"+id,
		"No affiliates in this program yet")
	for field, on := range map[string]bool{"track_leads": true, "share_leads": true, "share_purchasers": false, "auto_approve": false} {
		if toggleOn(t, p.Body, field) != on {
			t.Errorf("%s toggle shown %v, want %v", field, !on, on)
		}
	}

	// The list shows it with its numbers and links.
	p = b.get("/programs")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Partner program", "https://shop.example.com/", "30%", "30 days", `<td class="num" data-label="Affiliates">0</td>`,
		`href="/programs/`+id+`"`, "http://spiffy.test/join/"+id)
	mustNotContain(t, p.Body, "Create your first program")

	// Edit everything: flat EUR commission, first click, toggles swapped.
	p = b.submit("/programs/"+id, "/programs/"+id, programValues("name", "Partners EU", "landing_url", "https://shop.example.eu/start?lang=de",
		"cookie_days", "60", "attribution", "first_click", "commission_type", "flat", "commission_value", "5", "currency", "eur",
		"share_purchasers", "true", "auto_approve", "true", "hold_days", "0", "recurring_months", "12"))
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/programs/"+id {
		t.Fatalf("save redirects to %q", p.Location)
	}
	got, _ = b.env.App.Program(id)
	if got.Name != "Partners EU" || got.CookieDays != 60 || got.Attribution != "first_click" || got.CommissionType != "flat" ||
		got.CommissionValue != 500 || got.Currency != "EUR" || got.TrackLeads || got.ShareLeads || !got.SharePurchasers || !got.AutoApprove ||
		got.LandingURL != "https://shop.example.eu/start?lang=de" || got.HoldDays != 0 || got.RecurringMonths != 12 {
		t.Fatalf("after edit: %+v", got)
	}
	p = b.get("/programs/" + id)
	mustContain(t, p.Body, "Settings saved.", `value="5.00"`, `value="EUR"`, `<option value="first_click" selected>`, `<option value="flat" selected>`,
		`name="hold_days" value="0"`, `name="recurring_months" value="12"`)

	// Delete asks first, then removes it from the list.
	p = b.get("/programs/" + id + "/delete")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Delete “Partners EU”?", `action="/programs/`+id+`/delete"`)
	if _, err := b.env.App.Program(id); err != nil {
		t.Fatal("the confirmation page deleted the program")
	}
	p = b.submit("/programs/"+id+"/delete", "/programs/"+id+"/delete", nil)
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/programs" {
		t.Fatalf("delete redirects to %q", p.Location)
	}
	if _, err := b.env.App.Program(id); err == nil {
		t.Fatal("program still there after delete")
	}
	p = b.get("/programs")
	mustContain(t, p.Body, "Program “Partners EU” deleted", "Create your first program")
	p = b.get("/programs/" + id)
	expectStatus(t, p, http.StatusNotFound)
}

func TestProgramsTogglesOnAndOff(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	id := createProgram(t, b, programValues())
	fields := []string{"track_leads", "share_leads", "share_purchasers", "auto_approve"}
	for _, tc := range []struct {
		name string
		on   []string
	}{
		{"all on", fields},
		{"all off", nil},
		{"track leads only", []string{"track_leads"}},
		{"sharing only", []string{"share_leads", "share_purchasers"}},
		{"browser sends on", []string{"auto_approve"}},
		{"off again", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := programValues()
			for _, f := range tc.on {
				form.Set(f, "true")
				if tc.name == "browser sends on" {
					form.Set(f, "on")
				}
			}
			expectStatus(t, b.submit("/programs/"+id, "/programs/"+id, form), http.StatusSeeOther)
			got, err := b.env.App.Program(id)
			if err != nil {
				t.Fatal(err)
			}
			stored := map[string]bool{"track_leads": got.TrackLeads, "share_leads": got.ShareLeads,
				"share_purchasers": got.SharePurchasers, "auto_approve": got.AutoApprove}
			page := b.get("/programs/" + id).Body
			for _, f := range fields {
				want := false
				for _, o := range tc.on {
					want = want || o == f
				}
				if stored[f] != want {
					t.Errorf("%s stored %v, want %v", f, stored[f], want)
				}
				if toggleOn(t, page, f) != want {
					t.Errorf("%s shown %v, want %v", f, !want, want)
				}
			}
		})
	}
}

func TestProgramsSettingsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	sameDir := func(c *config.Config) { c.DataDir = dir }
	var id string
	ok := t.Run("save", func(t *testing.T) {
		b := newBrowser(t, sameDir)
		b.signInAdmin()
		id = createProgram(t, b, programValues("track_leads", "true"))
		p := b.submit("/programs/"+id, "/programs/"+id, programValues("name", "Kept", "cookie_days", "90",
			"commission_value", "12.5", "share_leads", "true"))
		expectStatus(t, p, http.StatusSeeOther)
	})
	if !ok {
		return
	}
	// The first server and its store are closed now; open them again.
	b := newBrowser(t, sameDir)
	b.signInAdmin()
	got, err := b.env.App.Program(id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Kept" || got.CookieDays != 90 || got.CommissionValue != 1250 || got.TrackLeads || !got.ShareLeads {
		t.Fatalf("after restart: %+v", got)
	}
	p := b.get("/programs/" + id)
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, `value="Kept"`, `value="90"`, `value="12.5"`)
	if toggleOn(t, p.Body, "track_leads") || !toggleOn(t, p.Body, "share_leads") {
		t.Fatal("toggles not as saved after restart")
	}
}

func TestProgramsBadInput(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	id := createProgram(t, b, programValues("track_leads", "true"))
	before, _ := b.env.App.Program(id)

	for _, tc := range []struct {
		name string
		set  []string
		msg  string
	}{
		{"empty name", []string{"name", "  "}, "Name is required."},
		{"long name", []string{"name", strings.Repeat("n", 101)}, "Name must be at most 100 characters."},
		{"cookie window 0", []string{"cookie_days", "0"}, "Cookie window must be between 1 and 365."},
		{"cookie window 400", []string{"cookie_days", "400"}, "Cookie window must be between 1 and 365."},
		{"cookie window words", []string{"cookie_days", "thirty"}, "Cookie window must be a whole number of days"},
		{"no cookie window", []string{"-cookie_days", ""}, "Cookie window must be a whole number of days"},
		{"bad url", []string{"landing_url", "shop.example.com"}, "Landing page URL must be an absolute http or https URL."},
		{"ftp url", []string{"landing_url", "ftp://shop.example.com/"}, "Landing page URL must be an absolute http or https URL."},
		{"commission words", []string{"commission_value", "thirty"}, "Commission must be a percentage from 0 to 100"},
		{"commission over 100%", []string{"commission_value", "150"}, "Commission must be a percentage from 0 to 100"},
		{"no commission", []string{"commission_value", ""}, "Commission must be a percentage from 0 to 100"},
		{"negative flat commission", []string{"commission_type", "flat", "commission_value", "-5"}, "Commission must be a non-negative decimal"},
		{"bad commission type", []string{"commission_type", "bribe"}, "Commission type must be percent or flat."},
		{"bad currency", []string{"commission_type", "flat", "commission_value", "5", "currency", "dollars"}, "Currency must be an ISO 4217 code"},
		{"bad attribution", []string{"attribution", "random"}, "Attribution must be last_click or first_click."},
		{"hold -1", []string{"hold_days", "-1"}, "Hold period must be between 0 and 365."},
		{"hold 366", []string{"hold_days", "366"}, "Hold period must be between 0 and 365."},
		{"hold words", []string{"hold_days", "a month"}, "Hold period must be a whole number of days, from 0 to 365."},
		{"no hold", []string{"-hold_days", ""}, "Hold period must be a whole number of days"},
		{"recurring 1201", []string{"recurring_months", "1201"}, "Recurring commissions must be between 0 and 1200."},
		{"recurring -1", []string{"recurring_months", "-1"}, "Recurring commissions must be between 0 and 1200."},
		{"recurring words", []string{"recurring_months", "forever"}, "Recurring commissions must be a whole number of months"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := programValues(append([]string{"name", "Typed name"}, tc.set...)...)
			// Editing: the form comes back with the message and what was typed.
			p := b.submit("/programs/"+id, "/programs/"+id, form)
			expectStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p.Body, `<p class="field-error">`+tc.msg, "Save Settings")
			if form.Get("name") == "Typed name" {
				mustContain(t, p.Body, `value="Typed name"`)
			}
			after, _ := b.env.App.Program(id)
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("a refused edit changed the program:\n%+v\n%+v", before, after)
			}
			// Creating: the same message, and no program is made.
			p = b.submit("/programs/new", "/programs", form)
			expectStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p.Body, `<p class="field-error">`+tc.msg, "Create program")
			if ps, _ := b.env.App.Views().Programs(); len(ps) != 1 {
				t.Fatalf("%d programs after a refused create", len(ps))
			}
		})
	}
}

func TestProgramsUnknownID(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	id := createProgram(t, b, programValues())
	for _, path := range []string{"/programs/01J0000000000000000000ZZZZ", "/programs/not-an-id", "/programs/not-an-id/delete"} {
		t.Run("GET "+path, func(t *testing.T) {
			p := b.get(path)
			expectStatus(t, p, http.StatusNotFound)
			mustContain(t, p.Body, "program not found", "Back to spiffy.test")
		})
	}
	for _, path := range []string{"/programs/not-an-id", "/programs/not-an-id/delete", "/programs/not-an-id/affiliates"} {
		t.Run("POST "+path, func(t *testing.T) {
			p := b.submit("/programs/"+id, path, programValues("affiliate_id", "x"))
			expectStatus(t, p, http.StatusNotFound)
			mustContain(t, p.Body, "not found", "Back to spiffy.test")
		})
	}
}

func TestProgramsEnrolAffiliates(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	prog := b.env.Program("Shop", func(in *app.ProgramInput) { in.LandingURL = new("https://shop.example.com/buy?plan=pro") })
	jane := b.env.Affiliate("Jane Doe", "jane@example.com", "")
	joe := b.env.Affiliate("Joe Bloggs", "joe@example.com", "")
	page := "/programs/" + prog.ID

	// The affiliate is typed (an id, an email or a referral code) with the
	// server's suggestions, never a select of every affiliate.
	p := b.get(page)
	mustContain(t, p.Body, `name="affiliate_id"`, `data-suggest="/affiliates/suggest"`, `list="enroll-affiliate-list"`)
	mustNotContain(t, p.Body, `<option value="`+jane.ID+`"`)

	p = b.submit(page, page+"/affiliates", url.Values{"affiliate_id": {jane.ID}, "code": {"JANE10"}})
	expectStatus(t, p, http.StatusSeeOther)
	p = b.get(page)
	mustContain(t, p.Body, "with referral code JANE10", "<code>JANE10</code>",
		`value="https://shop.example.com/buy?plan=pro&amp;ref=JANE10"`, "data-copy", `<script src="/static/ui.js?v=`)
	mustNotContain(t, p.Body, `<option value="`+jane.ID+`"`)

	refused := func(name string, form url.Values, msg string) apptest.Scenario {
		return apptest.Scenario{Name: name, Path: page + "/affiliates", Body: form, Status: http.StatusUnprocessableEntity,
			Want: []string{`<p class="field-error">` + msg, "Save Settings"}}
	}
	apptest.RunScenarios(t, b.sender(page), []apptest.Scenario{
		refused("duplicate code, other case", url.Values{"affiliate_id": {joe.ID}, "code": {"jane10"}}, "Referral code &#34;jane10&#34; is already taken."),
		refused("code with spaces", url.Values{"affiliate_id": {joe.ID}, "code": {"joe 10"}}, "Referral code may contain only letters, digits"),
		refused("code too short", url.Values{"affiliate_id": {joe.ID}, "code": {"j"}}, "Referral code must be 2 to 64 characters."),
		refused("no affiliate", url.Values{"code": {"JOE"}}, "Choose an affiliate to add."),
		refused("unknown affiliate", url.Values{"affiliate_id": {"nobody@example.com"}}, "No affiliate matches “nobody@example.com”"),
	}, apptest.AsForm)
	if es, _ := b.env.App.Views().EnrollmentsOfAffiliate(joe.ID); len(es) != 0 {
		t.Fatalf("refused enrolment stored: %+v", es[0])
	}

	// Without a code one is made from the name; the affiliate typed as an
	// email, in any case.
	p = b.submit(page, page+"/affiliates", url.Values{"affiliate_id": {" JOE@example.com "}})
	expectStatus(t, p, http.StatusSeeOther)
	p = b.get(page)
	mustContain(t, p.Body, "<code>joebloggs</code>", "&amp;ref=joebloggs")
	p = b.get("/programs")
	mustContain(t, p.Body, `<td class="num" data-label="Affiliates">2</td>`)

	// An id that names no affiliate: said on the form.
	p = b.submit(page, page+"/affiliates", url.Values{"affiliate_id": {"01J0000000000000000000ZZZZ"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p.Body, "No affiliate matches “01J0000000000000000000ZZZZ”")
}

// TestProgramsNeedSignIn also covers the other admin pages of this area.
func TestProgramsNeedSignIn(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	prog := b.env.Program("Shop")
	af := b.env.Affiliate("Jane", "jane@example.com", "")
	b.submit("/programs", "/logout", nil)
	for _, path := range []string{"/programs", "/programs/new", "/programs/" + prog.ID, "/programs/" + prog.ID + "/delete",
		"/affiliates", "/affiliates/new", "/affiliates/" + af.ID, "/settings", "/settings/api-keys/x/revoke"} {
		t.Run(path, func(t *testing.T) {
			p := b.get(path)
			expectStatus(t, p, http.StatusSeeOther)
			if p.Location != "/login?next="+url.QueryEscape(path) {
				t.Fatalf("redirect to %q", p.Location)
			}
		})
	}
	// A signed-out form post with a valid token changes nothing either.
	for _, action := range []string{"/programs", "/programs/" + prog.ID + "/delete", "/affiliates", "/settings/api-keys",
		"/affiliates/" + af.ID + "/status"} {
		t.Run("POST "+action, func(t *testing.T) {
			p := b.submit("/login", action, programValues("email", "x@example.com", "status", "blocked"))
			expectStatus(t, p, http.StatusSeeOther)
			if !strings.HasPrefix(p.Location, "/login") {
				t.Fatalf("redirect to %q", p.Location)
			}
		})
	}
	if ps, _ := b.env.App.Views().Programs(); len(ps) != 1 {
		t.Fatalf("%d programs", len(ps))
	}
	if got, _ := b.env.App.Affiliate(af.ID); got.Status != app.StatusActive {
		t.Fatalf("status changed to %s", got.Status)
	}
	if ks, _ := b.env.App.Views().APIKeys(); len(ks) != 1 {
		t.Fatalf("%d api keys", len(ks))
	}
}

// TestProgramsFormsNeedCSRF checks every form of this area refuses a post
// without the token, and changes nothing.
func TestProgramsFormsNeedCSRF(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	prog := b.env.Program("Shop")
	af := b.env.Affiliate("Jane", "jane@example.com", "")
	keys, _ := b.env.App.Views().APIKeys()
	for _, tc := range []struct {
		action string
		form   url.Values
	}{
		{"/programs", programValues()},
		{"/programs/" + prog.ID, programValues("name", "Hijacked")},
		{"/programs/" + prog.ID + "/delete", nil},
		{"/programs/" + prog.ID + "/affiliates", url.Values{"affiliate_id": {af.ID}}},
		{"/affiliates", url.Values{"name": {"Eve"}, "email": {"eve@example.com"}}},
		{"/affiliates/" + af.ID, url.Values{"name": {"Eve"}, "email": {"eve@example.com"}, "status": {"active"}}},
		{"/affiliates/" + af.ID + "/status", url.Values{"status": {"blocked"}}},
		{"/affiliates/" + af.ID + "/programs", url.Values{"program_id": {prog.ID}}},
		{"/affiliates/" + af.ID + "/invite", nil},
		{"/settings/api-keys", url.Values{"name": {"Stolen"}}},
		{"/settings/api-keys/" + keys[0].ID + "/revoke", nil},
	} {
		t.Run(tc.action, func(t *testing.T) {
			if tc.form == nil {
				tc.form = url.Values{}
			}
			p := b.post(tc.action, tc.form)
			expectStatus(t, p, http.StatusForbidden)
			mustContain(t, html.UnescapeString(p.Body), "This form has expired")
		})
	}
	if got, err := b.env.App.Program(prog.ID); err != nil || got.Name != "Shop" {
		t.Fatalf("program changed: %+v %v", got, err)
	}
	if ps, _ := b.env.App.Views().Programs(); len(ps) != 1 {
		t.Fatalf("%d programs", len(ps))
	}
	if got, _ := b.env.App.Affiliate(af.ID); got.Name != "Jane" || got.Status != app.StatusActive {
		t.Fatalf("affiliate changed: %+v", got)
	}
	if es, _ := b.env.App.Views().EnrollmentsOfAffiliate(af.ID); len(es) != 0 {
		t.Fatal("enrolled without a token")
	}
	if ks, _ := b.env.App.Views().APIKeys(); len(ks) != 1 || ks[0].RevokedAt != nil {
		t.Fatalf("api keys changed: %+v", ks)
	}
}

// TestMustNotContainIgnoresCSRFTokens: a token that happens to hold a
// forbidden string is not the page showing it.
func TestMustNotContainIgnoresCSRFTokens(t *testing.T) {
	mustNotContain(t, `<input type="hidden" name="csrf" value="0w8oyafCWumR816ad6GeVd-EvdfBlA2_4tAnnYQWUKo"><p>Cid</p>`, "Ann", "A-1")
}
