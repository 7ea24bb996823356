package ui

import (
	"context"
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
	"github.com/spiffy/spiffy/app/mail"
	"github.com/spiffy/spiffy/app/mail/mailtest"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/app/webhook/webhooktest"
	"github.com/spiffy/spiffy/store"
)

// End to end through a real SMTP server on loopback (mailtest): each mail
// reaches the right person, and the link in it works.

// newMailBrowser starts the whole appliance, background work included,
// sending mail to srv.
func newMailBrowser(t *testing.T, srv *mailtest.Server, configure ...func(*config.Config)) *browser {
	t.Helper()
	b := newBrowser(t, append([]func(*config.Config){srv.Configure, apptest.LoopbackWebhooks, apptest.Unthrottled}, configure...)...)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := b.env.App.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

// fresh is another person's browser on the same server (no cookies).
func (b *browser) fresh() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: b.t, env: b.env, srv: b.srv, client: &http.Client{Jar: jar, CheckRedirect: b.client.CheckRedirect}}
}

// copyCookies is a browser holding a copy of b's cookies, as someone who
// stole them would.
func (b *browser) copyCookies() *browser {
	c := b.fresh()
	u, _ := url.Parse(b.srv.URL)
	c.client.Jar.SetCookies(u, b.client.Jar.Cookies(u))
	return c
}

// linkPath is the path of a mailed link (mail links use base_url).
func linkPath(t *testing.T, link string) string {
	t.Helper()
	p, ok := strings.CutPrefix(link, "http://spiffy.test")
	if !ok || p == "" {
		t.Fatalf("link %q is not under base_url", link)
	}
	return p
}

func mailedLink(t *testing.T, m mailtest.Message, part string) string {
	t.Helper()
	l := m.Link(part)
	if l == "" {
		t.Fatalf("no link with %q in the mail %q:\n%s", part, m.Subject(), m.Text)
	}
	if !strings.Contains(m.HTML, `href="`+l+`"`) {
		t.Errorf("the HTML part of %q lacks the link %s", m.Subject(), l)
	}
	return linkPath(t, l)
}

func TestMailedInvitesApplicationsApprovalsAndTestsArriveWithWorkingLinks(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("spiffy", "s3cret-smtp"))
	b := newMailBrowser(t, srv)
	b.signInAdmin()
	prg := b.env.Program("Acme Shop")

	// The merchant adds an affiliate without a password: the invite is mailed.
	p := b.submit("/affiliates/new", "/affiliates", url.Values{"name": {"Paula Partner"}, "email": {"paula@partners.example"}})
	expectStatus(t, p, http.StatusSeeOther)
	affID := strings.TrimPrefix(p.Location, "/affiliates/")
	expectBody(t, b.get(p.Location), "We emailed them an invite link", "/portal/invite/")
	invite := srv.WaitFor("paula@partners.example", "invited to join Acme Partners")
	paula := b.fresh()
	link := mailedLink(t, invite, "/portal/invite/")
	expectBody(t, paula.get(link), "Welcome, Paula Partner!")
	expectStatus(t, paula.submit(link, link, url.Values{"password": {"paula-password"}}), http.StatusSeeOther)
	expectStatus(t, paula.get("/portal"), http.StatusOK)

	// A fresh invite (the merchant's reset) is mailed too, and works.
	expectStatus(t, b.submit("/affiliates/"+affID, "/affiliates/"+affID+"/invite", nil), http.StatusSeeOther)
	srv.Wait(2, 10*time.Second)
	again := srv.To("paula@partners.example")
	if len(again) != 2 {
		t.Fatalf("%d mails to Paula, want 2 invites", len(again))
	}
	expectBody(t, paula.fresh().get(mailedLink(t, again[1], "/portal/invite/")), "Set your password")

	// Someone joins: they hear their application arrived, the admin hears
	// of it, and approving them mails "approved".
	jo := b.fresh()
	p = jo.submit("/join/"+prg.ID, "/join/"+prg.ID, url.Values{"name": {"Jo Joiner"}, "email": {"jo@partners.example"},
		"password": {"jo-password"}, "terms": {"on"}})
	expectStatus(t, p, http.StatusSeeOther)
	received := srv.WaitFor("jo@partners.example", "We received your application to Acme Shop")
	expectStatus(t, jo.get(mailedLink(t, received, "/portal/login")), http.StatusOK)
	notice := srv.WaitFor("owner@shop.example.com", "New affiliate application: Jo Joiner")
	review := mailedLink(t, notice, "/affiliates/")
	expectBody(t, b.get(review), "Jo Joiner", "jo@partners.example")
	joID := strings.TrimPrefix(review, "/affiliates/")
	expectStatus(t, b.submit(review, "/affiliates/"+joID+"/status", url.Values{"status": {"active"}}), http.StatusSeeOther)
	approved := srv.WaitFor("jo@partners.example", "You're approved")
	expectStatus(t, jo.fresh().get(mailedLink(t, approved, "/portal/login")), http.StatusOK)

	// Another admin is invited by email and sets a password with the link.
	p = b.submit("/settings/admins", "/settings/admins", url.Values{"email": {"colleague@shop.example.com"}})
	expectStatus(t, p, http.StatusSeeOther)
	adminInvite := srv.WaitFor("colleague@shop.example.com", "invited to manage")
	colleague := b.fresh()
	link = mailedLink(t, adminInvite, "/reset/")
	expectBody(t, colleague.get(link), "Set your password", "colleague@shop.example.com")
	expectStatus(t, colleague.submit(link, link, url.Values{"password": {"colleague-password"}}), http.StatusSeeOther)
	expectStatus(t, colleague.get("/dashboard"), http.StatusOK)

	// The test message from Settings → Email.
	expectStatus(t, b.submit("/settings/email", "/settings/email/test", url.Values{"to": {""}}), http.StatusSeeOther)
	srv.WaitFor("owner@shop.example.com", "Test message")

	// Every mail: one Message-ID each, both parts, the owner's name, no
	// unsubscribe on mail nobody may opt out of.
	msgs := srv.Messages()
	if len(msgs) != 7 {
		t.Fatalf("%d mails, want 7", len(msgs))
	}
	ids := map[string]bool{}
	for _, m := range msgs {
		id := m.Header.Get("Message-Id")
		if id == "" || ids[id] {
			t.Errorf("%q: Message-ID %q missing or repeated", m.Subject(), id)
		}
		ids[id] = true
		if !strings.Contains(m.Header.Get("From"), "Acme Partners") || m.Text == "" || !strings.Contains(m.HTML, "Acme Partners") {
			t.Errorf("%q: From %q, text %d bytes, html %d bytes", m.Subject(), m.Header.Get("From"), len(m.Text), len(m.HTML))
		}
		if m.Header.Get("List-Unsubscribe") != "" {
			t.Errorf("%q has List-Unsubscribe", m.Subject())
		}
	}

	// Settings → Email shows the setup without the password, and the log.
	p = b.get("/settings/email")
	expectBody(t, p, "127.0.0.1:", "STARTTLS", "spiffy", "Admin invite", "Sent", "paula@partners.example", "New affiliate application")
	if strings.Contains(p.Body, "s3cret-smtp") {
		t.Fatal("Settings → Email shows the SMTP password")
	}
}

func TestPayoutAndWebhookNoticesCanBeUnsubscribedInOneClick(t *testing.T) {
	srv := mailtest.Start(t)
	b := newMailBrowser(t, srv)
	env := b.env
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	env.Clock.Set(t0)
	prg := env.Program("Acme Shop")
	af := env.Affiliate("Paula Partner", "paula@partners.example", "paula", prg)
	paula := b.fresh()
	expectStatus(t, paula.submit("/portal/login", "/portal/login", url.Values{"email": {"paula@partners.example"}, "password": {"password123"}}), http.StatusSeeOther)

	pay := func() {
		t.Helper()
		err := env.DB.Update(func(tx *store.Tx) error {
			return tx.PutCommission(&store.Commission{ID: store.NewID(t0), PurchaseID: store.NewID(t0), ProgramID: prg.ID, AffiliateID: af.ID,
				Kind: app.CommissionSale, Amount: 4900, Currency: "USD", Status: app.CommissionApproved, ApproveAt: t0, CreatedAt: t0})
		})
		if err != nil {
			t.Fatal(err)
		}
		p, err := env.App.CreatePayout(app.PayoutInput{Currency: "USD", Program: prg.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.MarkPayoutPaid(p.ID); err != nil {
			t.Fatal(err)
		}
	}
	pay()
	paid := srv.WaitFor("paula@partners.example", "Acme Partners paid you $49.00")
	expectBody(t, paula.get(mailedLink(t, paid, "/portal")), "Acme Shop")
	unsubscribe := paid.Header.Get("List-Unsubscribe")
	if !strings.HasPrefix(unsubscribe, "<http://spiffy.test/portal/unsubscribe/") || paid.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("unsubscribe headers %q, %q", unsubscribe, paid.Header.Get("List-Unsubscribe-Post"))
	}

	// The webhook endpoint fails for 5 days and is disabled: Paula hears.
	rc := webhooktest.NewReceiver(t, func(int, *http.Request) int { return http.StatusInternalServerError })
	ep := env.WebhookEndpoint(af.ID, map[string]any{"url": rc.URL})
	fail := func() {
		apptest.Expect(t, env.API(http.MethodPost, "/webhooks/"+ep.ID+"/test", nil), http.StatusCreated)
		env.WaitWebhooks()
	}
	fail()
	env.Clock.Add(5*24*time.Hour + time.Minute)
	fail()
	disabled := srv.WaitFor("paula@partners.example", "Your webhook endpoint was disabled")
	if !strings.Contains(disabled.Text, rc.URL) || disabled.Header.Get("List-Unsubscribe") != unsubscribe {
		t.Fatalf("webhook notice: %q, unsubscribe %q", disabled.Text, disabled.Header.Get("List-Unsubscribe"))
	}
	expectBody(t, paula.get(mailedLink(t, disabled, "/portal/webhooks")), rc.URL)

	// One click, as a mail client does it (RFC 8058): a POST without a
	// cookie or a CSRF token.
	target := strings.Trim(unsubscribe, "<>")
	resp, err := http.Post(b.srv.URL+linkPath(t, target), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click unsubscribe: %d", resp.StatusCode)
	}
	before := len(srv.Messages())
	pay()
	log, err := env.App.RecentMail(50)
	if err != nil {
		t.Fatal(err)
	}
	if n := countKind(log, mail.KindPayoutPaid); n != 1 {
		t.Fatalf("%d payout notices in the log after unsubscribing, want the first one only", n)
	}
	// An invite is not optional: it still arrives.
	if _, err := env.App.IssueInvite(af.ID); err != nil {
		t.Fatal(err)
	}
	srv.Wait(before+1, 10*time.Second)
	if got := srv.Messages()[before]; !strings.Contains(got.Subject(), "invited") {
		t.Fatalf("after unsubscribing, got %q", got.Subject())
	}

	// The page behind the link says so, and subscribing again works.
	page := paula.fresh()
	link := linkPath(t, target)
	expectBody(t, page.get(link), "no longer gets emails")
	expectBody(t, page.submit(link, strings.Replace(link, "/unsubscribe/", "/resubscribe/", 1), nil), "again")
	pay()
	srv.WaitFor("paula@partners.example", "paid you $49.00") // the first one matches too: count them
	waitCount(t, srv, "paula@partners.example", "paid you", 2)

	// A tampered link is refused.
	bad := strings.TrimSuffix(link, link[len(link)-3:]) + "xyz"
	if p := page.get(bad); p.Status != http.StatusNotFound {
		t.Fatalf("tampered unsubscribe link: %d", p.Status)
	}
}

func countKind(log []views.MailLogEntry, kind string) int {
	n := 0
	for _, m := range log {
		if m.Kind == kind {
			n++
		}
	}
	return n
}

// waitCount waits until n mails to rcpt have subject in their subject.
func waitCount(t *testing.T, srv *mailtest.Server, rcpt, subject string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := 0
		for _, m := range srv.To(rcpt) {
			if strings.Contains(m.Subject(), subject) {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails to %s about %q, want %d", got, rcpt, subject, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var csrfValueRe = regexp.MustCompile(`value="[A-Za-z0-9_-]{40,}"`)

func TestPasswordResetEndToEnd(t *testing.T) {
	srv := mailtest.Start(t)
	b := newMailBrowser(t, srv)
	b.env.Affiliate("Alice", "alice@partners.example", "alice")
	signIn := func(br *browser, path, email, password string) page {
		return br.submit(path, path, url.Values{"email": {email}, "password": {password}})
	}
	laptop, phone := b.fresh(), b.fresh()
	for _, d := range []*browser{laptop, phone} {
		expectStatus(t, signIn(d, "/portal/login", "alice@partners.example", "password123"), http.StatusSeeOther)
	}

	// The form answers the same for an account and for nobody.
	forgot := b.fresh()
	known := forgot.submit("/portal/forgot", "/portal/forgot", url.Values{"email": {"alice@partners.example"}})
	unknown := forgot.submit("/portal/forgot", "/portal/forgot", url.Values{"email": {"nobody@partners.example"}})
	expectStatus(t, known, http.StatusOK)
	expectStatus(t, unknown, http.StatusOK)
	norm := func(p page, email string) string {
		return csrfValueRe.ReplaceAllString(strings.ReplaceAll(p.Body, email, "EMAIL"), `value="TOKEN"`)
	}
	if norm(known, "alice@partners.example") != norm(unknown, "nobody@partners.example") {
		t.Fatalf("the forgot page differs for an account and for nobody:\n%s\n---\n%s", known.Body, unknown.Body)
	}
	expectBody(t, known, "If an account uses")

	reset := srv.WaitFor("alice@partners.example", "Reset your password")
	link := mailedLink(t, reset, "/portal/reset/")
	expectBody(t, forgot.get(link), "Choose a new password", "alice@partners.example")
	expectStatus(t, forgot.submit(link, link, url.Values{"password": {"short"}}), http.StatusUnprocessableEntity)
	p := forgot.submit(link, link, url.Values{"password": {"alice-new-password"}})
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/portal" {
		t.Fatalf("after the reset: redirect to %q", p.Location)
	}
	expectStatus(t, forgot.get("/portal"), http.StatusOK)

	// Every other session ended; the old password is refused, the new one works.
	for _, d := range []*browser{laptop, phone} {
		if p := d.get("/portal"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/portal/login") {
			t.Fatalf("a session from before the reset still works: %d %q", p.Status, p.Location)
		}
	}
	expectStatus(t, signIn(b.fresh(), "/portal/login", "alice@partners.example", "password123"), http.StatusUnauthorized)
	expectStatus(t, signIn(b.fresh(), "/portal/login", "alice@partners.example", "alice-new-password"), http.StatusSeeOther)

	// The link works once.
	p = b.fresh().get(link)
	expectStatus(t, p, http.StatusNotFound)
	expectBody(t, p, "This link has expired", `href="/portal/forgot"`)
	expectStatus(t, b.fresh().submit("/portal/forgot", link, url.Values{"password": {"another-password"}}), http.StatusNotFound)
	if n := len(srv.To("nobody@partners.example")); n != 0 {
		t.Fatalf("%d mails to an address with no account", n)
	}

	// The admin side: the same flow at /forgot and /reset/{token}.
	b.signInAdmin()
	other := b.fresh()
	expectStatus(t, signIn(other, "/login", "owner@shop.example.com", "correct-horse"), http.StatusSeeOther)
	expectBody(t, b.fresh().submit("/forgot", "/forgot", url.Values{"email": {"owner@shop.example.com"}}), "If an account uses")
	adminReset := srv.WaitFor("owner@shop.example.com", "Reset your password")
	link = mailedLink(t, adminReset, "/reset/")
	if strings.HasPrefix(link, "/portal/") {
		t.Fatalf("admin reset link %q leads to the portal", link)
	}
	fb := b.fresh()
	expectStatus(t, fb.submit(link, link, url.Values{"password": {"horse-battery"}}), http.StatusSeeOther)
	expectStatus(t, fb.get("/dashboard"), http.StatusOK)
	for _, d := range []*browser{b, other} {
		if p := d.get("/dashboard"); p.Status != http.StatusSeeOther {
			t.Fatalf("an admin session from before the reset still works: %d", p.Status)
		}
	}
	expectStatus(t, signIn(b.fresh(), "/login", "owner@shop.example.com", "correct-horse"), http.StatusUnauthorized)
	expectStatus(t, signIn(b.fresh(), "/login", "owner@shop.example.com", "horse-battery"), http.StatusSeeOther)
	// An affiliate's reset link does not open the admin side, nor the reverse.
	expectStatus(t, b.fresh().get("/reset/"+strings.TrimPrefix(mailedLink(t, reset, "/portal/reset/"), "/portal/reset/")), http.StatusNotFound)
}

func TestForgotPasswordIsRateLimitedPerIP(t *testing.T) {
	srv := mailtest.Start(t)
	b := newMailBrowser(t, srv, trustLoopback)
	var p page
	for i := 0; i < 11; i++ {
		p = b.submit("/portal/forgot", "/portal/forgot", url.Values{"email": {"someone@partners.example"}})
		if i < 10 {
			expectStatus(t, p, http.StatusOK)
		}
	}
	expectStatus(t, p, http.StatusTooManyRequests)
	expectBody(t, p, "Too many requests from your network. Try again in 6 minutes.")
	// One more per six minutes (sessions' real clock: a little less has passed).
	if ra, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || ra < 300 || ra > 360 {
		t.Fatalf("Retry-After %q, want about 360 seconds", p.Header.Get("Retry-After"))
	}
	// The admin form shares the limit: it is the same person at the same address.
	expectStatus(t, b.submit("/forgot", "/forgot", url.Values{"email": {"owner@shop.example.com"}}), http.StatusTooManyRequests)
	// Per address: another one is answered as usual, on both forms.
	other := b.from("198.51.100.7")
	expectStatus(t, other.submit("/portal/forgot", "/portal/forgot", url.Values{"email": {"someone@partners.example"}}), http.StatusOK)
	expectStatus(t, other.submit("/forgot", "/forgot", url.Values{"email": {"owner@shop.example.com"}}), http.StatusOK)
}

func TestWithoutSMTPNothingIsMailedAndLinksAreShown(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	p := b.submit("/affiliates/new", "/affiliates", url.Values{"name": {"Paula Partner"}, "email": {"paula@partners.example"}})
	expectStatus(t, p, http.StatusSeeOther)
	expectBody(t, b.get(p.Location), "/portal/invite/")
	log, err := b.env.App.RecentMail(10)
	if err != nil || len(log) != 0 {
		t.Fatalf("mail queued without SMTP: %v %v", log, err)
	}
	expectBody(t, b.fresh().get("/portal/forgot"), "does not send email")
	expectBody(t, b.get("/settings/email"), "Not set up")
	p = b.submit("/settings/email", "/settings/email/test", url.Values{"to": {""}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	expectBody(t, p, "email is not set up")
	// Admins can still be invited: the link is shown to copy.
	p = b.submit("/settings/admins", "/settings/admins", url.Values{"email": {"colleague@shop.example.com"}})
	expectStatus(t, p, http.StatusSeeOther)
	expectBody(t, b.get("/settings/admins"), "http://spiffy.test/reset/", "Invited")
}

// Signing out ends the session in the store: a copy of the cookie taken
// before stops working, on both sides. So do a password change and
// blocking an affiliate.
func TestSignOutEndsCopiedSessions(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	stolen := b.copyCookies()
	expectStatus(t, stolen.get("/dashboard"), http.StatusOK)
	expectStatus(t, b.submit("/dashboard", "/logout", nil), http.StatusSeeOther)
	if p := stolen.get("/dashboard"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
		t.Fatalf("a copied admin cookie works after sign-out: %d %q", p.Status, p.Location)
	}

	af := b.env.Affiliate("Alice", "alice@partners.example", "alice")
	alice := b.fresh()
	expectStatus(t, alice.submit("/portal/login", "/portal/login", url.Values{"email": {"alice@partners.example"}, "password": {"password123"}}), http.StatusSeeOther)
	copied := alice.copyCookies()
	expectStatus(t, copied.get("/portal"), http.StatusOK)
	expectStatus(t, alice.submit("/portal", "/portal/logout", nil), http.StatusSeeOther)
	if p := copied.get("/portal"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/portal/login") {
		t.Fatalf("a copied portal cookie works after sign-out: %d %q", p.Status, p.Location)
	}

	// Blocking ends the affiliate's sessions.
	expectStatus(t, alice.submit("/portal/login", "/portal/login", url.Values{"email": {"alice@partners.example"}, "password": {"password123"}}), http.StatusSeeOther)
	if n, _ := b.env.App.AccountSessions(app.SessionAffiliate, af.ID); n != 1 {
		t.Fatalf("%d sessions for Alice, want 1", n)
	}
	b.signInAdmin()
	expectStatus(t, b.submit("/affiliates/"+af.ID, "/affiliates/"+af.ID+"/status", url.Values{"status": {"blocked"}}), http.StatusSeeOther)
	if n, _ := b.env.App.AccountSessions(app.SessionAffiliate, af.ID); n != 0 {
		t.Fatalf("%d sessions for Alice after blocking, want 0", n)
	}

	// A password change ends the admin's other sessions and keeps this one.
	other := b.fresh()
	expectStatus(t, other.submit("/login", "/login", url.Values{"email": {"owner@shop.example.com"}, "password": {"correct-horse"}}), http.StatusSeeOther)
	p := b.submit("/settings/admins", "/settings/password", url.Values{"current_password": {"wrong-password"}, "password": {"new-horse-battery"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	expectBody(t, p, "not your current password")
	expectStatus(t, b.submit("/settings/admins", "/settings/password", url.Values{"current_password": {"correct-horse"}, "password": {"new-horse-battery"}}), http.StatusSeeOther)
	expectStatus(t, b.get("/dashboard"), http.StatusOK)
	if p := other.get("/dashboard"); p.Status != http.StatusSeeOther {
		t.Fatalf("another session survived the password change: %d", p.Status)
	}
}

// Removing an admin signs it out at once; nobody can remove themselves.
func TestRemovingAnAdminEndsItsSessions(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	adm, err := b.env.App.CreateAdmin("colleague@shop.example.com", "colleague-password")
	if err != nil {
		t.Fatal(err)
	}
	colleague := b.fresh()
	expectStatus(t, colleague.submit("/login", "/login", url.Values{"email": {"colleague@shop.example.com"}, "password": {"colleague-password"}}), http.StatusSeeOther)
	expectStatus(t, colleague.get("/dashboard"), http.StatusOK)
	me := b.get("/settings/admins")
	expectBody(t, me, "colleague@shop.example.com", "(you)")
	expectStatus(t, b.submit("/settings/admins", "/settings/admins/"+adm.ID+"/remove", nil), http.StatusSeeOther)
	if p := colleague.get("/dashboard"); p.Status != http.StatusSeeOther {
		t.Fatalf("a removed admin is still signed in: %d", p.Status)
	}
	self := currentAdminID(t, b)
	expectStatus(t, b.submit("/settings/admins", "/settings/admins/"+self+"/remove", nil), http.StatusConflict)
}

func currentAdminID(t *testing.T, b *browser) string {
	t.Helper()
	admins, err := b.env.App.Views().Admins()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range admins {
		if a.Email == "owner@shop.example.com" {
			return a.ID
		}
	}
	t.Fatal("no owner admin")
	return ""
}
