package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app/apptest"
)

func TestSetupThenSignInAndOut(t *testing.T) {
	b := newBrowser(t)

	// A fresh server sends every admin page to /setup.
	p := b.get("/")
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/setup" {
		t.Fatalf("redirect to %q, want /setup", p.Location)
	}

	// Bad input re-renders the form with the field's message.
	p = b.submit("/setup", "/setup", url.Values{"email": {"not-an-email"}, "password": {"correct-horse"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	if !strings.Contains(p.Body, "not a valid email") {
		t.Fatalf("no email error in %s", p.Body)
	}
	p = b.submit("/setup", "/setup", url.Values{"email": {"owner@shop.example.com"}, "password": {"short"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	if has, _ := b.env.App.Views().HasAdmin(); has {
		t.Fatal("an invalid setup created an admin")
	}

	p = b.submit("/setup", "/setup", url.Values{"email": {"owner@shop.example.com"}, "password": {"correct-horse"}})
	expectStatus(t, p, http.StatusSeeOther)

	// Setup is closed once an admin exists.
	p = b.get("/setup")
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/login" {
		t.Fatalf("setup after admin redirects to %q", p.Location)
	}

	// Sign out, then the admin area needs signing in again.
	p = b.submit("/login", "/logout", nil)
	expectStatus(t, p, http.StatusSeeOther)
	p = b.get("/")
	expectStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.Location, "/login") {
		t.Fatalf("signed-out redirect to %q", p.Location)
	}

	// Wrong password: a clear message, no session.
	p = b.submit("/login", "/login", url.Values{"email": {"owner@shop.example.com"}, "password": {"wrong-password"}})
	expectStatus(t, p, http.StatusUnauthorized)
	if !strings.Contains(p.Body, "do not match") {
		t.Fatalf("no sign-in error in %s", p.Body)
	}
	p = b.submit("/login", "/login", url.Values{"email": {"owner@shop.example.com"}, "password": {"correct-horse"}, "next": {"/leads?program=x"}})
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/leads?program=x" {
		t.Fatalf("after sign-in redirect to %q, want the next page", p.Location)
	}
	// An off-site next is ignored.
	b.submit("/login", "/logout", nil)
	p = b.submit("/login", "/login", url.Values{"email": {"owner@shop.example.com"}, "password": {"correct-horse"}, "next": {"//evil.example.com/"}})
	if p.Location != "/" {
		t.Fatalf("off-site next followed: %q", p.Location)
	}
}

// attempt posts a sign-in form (/login or /portal/login) from b.
func attempt(b *browser, path, email, password string) page {
	b.t.Helper()
	return b.submit(path, path, url.Values{"email": {email}, "password": {password}})
}

// expectWait checks a refused sign-in: 429, a Retry-After of secs seconds
// and a page that says when to try again.
func expectWait(t *testing.T, p page, secs int) {
	t.Helper()
	expectStatus(t, p, http.StatusTooManyRequests)
	if got := p.Header.Get("Retry-After"); got != strconv.Itoa(secs) {
		t.Fatalf("Retry-After %q, want %d", got, secs)
	}
	expectBody(t, p, "Too many failed attempts. Try again in ")
}

func TestSignInIsThrottled(t *testing.T) {
	b := newBrowser(t)
	advance := b.env.SetClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	b.signInAdmin()
	b.submit("/login", "/logout", nil)
	// Three wrong passwords from an address are free; then it waits 1s,
	// 2s, 4s, … before each next attempt, and waiting is not failing.
	for i := 0; i < 3; i++ {
		expectStatus(t, attempt(b, "/login", "owner@shop.example.com", "wrong-password"), http.StatusUnauthorized)
	}
	for _, wait := range []int{1, 2, 4, 8} {
		expectWait(t, attempt(b, "/login", "owner@shop.example.com", "wrong-password"), wait)
		// Even the right password is refused while the address waits.
		expectWait(t, attempt(b, "/login", "owner@shop.example.com", "correct-horse"), wait)
		advance(time.Duration(wait) * time.Second)
		expectStatus(t, attempt(b, "/login", "owner@shop.example.com", "wrong-password"), http.StatusUnauthorized)
	}
	expectBody(t, attempt(b, "/login", "owner@shop.example.com", "wrong-password"), "Try again in 16 seconds.")
	// Once waited out, the right password works.
	advance(16 * time.Second)
	expectStatus(t, attempt(b, "/login", "owner@shop.example.com", "correct-horse"), http.StatusSeeOther)
}

// The lockout anyone could trigger: five wrong passwords for the admin's
// email refused even the right password, from any address, for 15
// minutes. Now the attacker's address waits, longer and longer, and the
// admin signs in from an address that has not failed.
func TestWrongPasswordsDoNotLockTheOwnerOut(t *testing.T) {
	b := newBrowser(t, trustLoopback)
	advance := b.env.SetClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if _, err := b.env.App.CreateAdmin("owner@shop.example.com", "correct-horse"); err != nil {
		t.Fatal(err)
	}
	attacker := b.from("203.0.113.66")
	for i := 0; i < 5; i++ {
		p := attempt(attacker, "/login", "owner@shop.example.com", "wrong-password")
		if p.Status == http.StatusTooManyRequests {
			wait, _ := strconv.Atoi(p.Header.Get("Retry-After"))
			advance(time.Duration(wait) * time.Second)
			p = attempt(attacker, "/login", "owner@shop.example.com", "wrong-password")
		}
		expectStatus(t, p, http.StatusUnauthorized)
	}
	// The owner, from the office, is let in at once.
	owner := b.from("192.0.2.10")
	p := attempt(owner, "/login", "owner@shop.example.com", "correct-horse")
	expectStatus(t, p, http.StatusSeeOther)
	if p := owner.get("/dashboard"); p.Status != http.StatusOK {
		t.Fatalf("signed-in owner gets %d on the dashboard", p.Status)
	}
	// The attacker's address waits, whatever the password.
	expectWait(t, attempt(attacker, "/login", "owner@shop.example.com", "correct-horse"), 4)
	// Other attackers join in, one guess each.
	for i := 1; i <= 10; i++ {
		expectStatus(t, attempt(b.from("198.51.100."+strconv.Itoa(i)), "/login", "owner@shop.example.com", "wrong-password"), http.StatusUnauthorized)
	}
	// Each of them now waits the account's delay: after 15 failures, the
	// 15 minute cap.
	expectWait(t, attempt(b.from("198.51.100.1"), "/login", "owner@shop.example.com", "wrong-password"), 900)
	expectWait(t, attempt(attacker, "/login", "owner@shop.example.com", "correct-horse"), 900)

	// The owner, from home this time, is let in at once too; signing in
	// does not let the attackers go.
	expectStatus(t, attempt(b.from("192.0.2.20"), "/login", "owner@shop.example.com", "correct-horse"), http.StatusSeeOther)
	expectWait(t, attempt(attacker, "/login", "owner@shop.example.com", "wrong-password"), 900)
}

func TestFormsNeedCSRFToken(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	for _, tc := range []struct{ name, token string }{{"missing", ""}, {"wrong", "forged-token"}} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"email": {"owner@shop.example.com"}, "password": {"correct-horse"}}
			if tc.token != "" {
				form.Set("csrf", tc.token)
			}
			p := b.post("/logout", form)
			expectStatus(t, p, http.StatusForbidden)
			if !strings.Contains(p.Body, "expired") || !strings.Contains(p.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("want a friendly HTML page, got %s: %.300s", p.Header.Get("Content-Type"), p.Body)
			}
		})
	}
	// Still signed in: the forged sign-out did nothing.
	if p := b.get("/"); p.Location != "/dashboard" {
		t.Fatalf("signed out by a forged form: redirect %q", p.Location)
	}
}

func TestFriendlyErrorPage(t *testing.T) {
	b := newBrowser(t)
	p := b.get("/no-such-page")
	expectStatus(t, p, http.StatusNotFound)
	if !strings.Contains(p.Header.Get("Content-Type"), "text/html") || !strings.Contains(p.Body, "Back to spiffy.test") {
		t.Fatalf("not the friendly page: %.300s", p.Body)
	}
	// The API keeps JSON errors.
	p = b.get("/api/v1/programs")
	expectStatus(t, p, http.StatusUnauthorized)
	if !strings.Contains(p.Body, `"error":"unauthorized"`) {
		t.Fatalf("api error not JSON: %s", p.Body)
	}
}

func TestStylesheetIsVersioned(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	p := b.get("/login?next=/x")
	i := strings.Index(p.Body, "/static/spiffy.css?v=")
	if i < 0 {
		t.Fatal("no stylesheet link")
	}
	href := p.Body[i : i+len("/static/spiffy.css?v=")+8]
	css := b.get(href)
	expectStatus(t, css, http.StatusOK)
	if !strings.Contains(css.Header.Get("Cache-Control"), "immutable") || !strings.Contains(css.Body, ".btn") {
		t.Fatalf("stylesheet: %v %.100s", css.Header, css.Body)
	}
}

// TestSignInRefusals runs the sign-in forms' refusals as form posts and as
// JSON (both reach the same handler): a wrong password or an unknown email
// gets the same message and no session.
func TestSignInRefusals(t *testing.T) {
	b := newBrowser(t, trustLoopback)
	// Each attempt from an address of its own: this is about the refusal,
	// not the throttle (TestSignInIsThrottled).
	n := 0
	sender := func(formPage string) apptest.Sender {
		return func(t testing.TB, req *http.Request) (int, string) {
			n++
			return b.from(fmt.Sprintf("192.0.2.%d", n)).sender(formPage)(t, req)
		}
	}
	if _, err := b.env.App.CreateAdmin("owner@shop.example.com", "correct-horse"); err != nil {
		t.Fatal(err)
	}
	b.env.Affiliate("Alice", "alice@partners.example", "alice")
	refused := func(name, path, email, password string) apptest.Scenario {
		return apptest.Scenario{Name: name, Path: path, Body: map[string]string{"email": email, "password": password},
			Status: http.StatusUnauthorized, Want: []string{"do not match"}, NotWant: []string{"Sign out"}}
	}
	apptest.RunScenarios(t, sender("/login"), []apptest.Scenario{
		refused("admin wrong password", "/login", "owner@shop.example.com", "wrong-password"),
		refused("admin unknown email", "/login", "nobody@shop.example.com", "correct-horse"),
	}, apptest.AsForm, apptest.AsJSON)
	apptest.RunScenarios(t, sender("/portal/login"), []apptest.Scenario{
		refused("affiliate wrong password", "/portal/login", "alice@partners.example", "wrong-password"),
		refused("affiliate unknown email", "/portal/login", "nobody@partners.example", "password123"),
	}, apptest.AsForm, apptest.AsJSON)
	for _, path := range []string{"/dashboard", "/portal"} {
		if p := b.get(path); p.Status != http.StatusSeeOther {
			t.Fatalf("%s after refused sign-ins: %d, want a redirect to sign in", path, p.Status)
		}
	}
}
