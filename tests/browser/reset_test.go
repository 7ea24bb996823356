//go:build browser

package browser

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/spiffy/spiffy/app/mail/mailtest"
)

// A partner who forgot the password resets it the way a person does: from
// the sign-in page, through the link in the email (a real SMTP server on
// loopback), into the portal; then signs out and back in with the new
// password, and finds the used link dead.
func TestForgotPasswordResetInTheBrowser(t *testing.T) {
	smtp := mailtest.Start(t)
	s := StartSpiffy(t, smtp.Configure)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := s.App.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s.Affiliate("Paula Partner", "paula@partners.example", "paula")
	b := NewBrowser(t, 0)
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}

	portalGo(t, b, portalPath("/portal/login"), chromedp.Navigate(s.URL+"/portal/login"))
	portalGo(t, b, portalPath("/portal/forgot"), chromedp.Click(chromedp.CSS(`a[href="/portal/forgot"]`)))
	portalGo(t, b, `document.querySelector('.portal-notice') !== null`,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "paula@partners.example"),
		chromedp.Click(chromedp.CSS(`form.form button[type="submit"]`)))
	b.Screenshot("check-your-email")
	if notice := text(`.portal-notice`); !strings.Contains(notice, "paula@partners.example") {
		t.Fatalf("after asking for a link: %q", notice)
	}

	m := smtp.WaitFor("paula@partners.example", "Reset your password")
	link := m.Link("/portal/reset/")
	if !strings.HasPrefix(link, s.URL+"/portal/reset/") {
		t.Fatalf("mailed link %q", link)
	}
	portalGo(t, b, `document.querySelector('input[name="password"]') !== null`, chromedp.Navigate(link))
	b.Screenshot("choose-a-new-password")
	portalGo(t, b, portalPath("/portal"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "paula-new-password"),
		chromedp.Click(chromedp.CSS(`form.form button[type="submit"]`)))
	b.Screenshot("password-set")
	if flash := text(`.flash-success`); !strings.Contains(flash, "new password is set") {
		t.Fatalf("after the reset: flash %q", flash)
	}

	// Sign out, then in with the new password.
	portalGo(t, b, portalPath("/portal/login"), chromedp.Click(chromedp.CSS(`form.signout button`)))
	portalGo(t, b, portalPath("/portal"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "paula@partners.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "paula-new-password"),
		chromedp.Click(chromedp.CSS(`form.form button[type="submit"]`)))

	// The link worked once.
	portalGo(t, b, `document.querySelector('.portal-notice h1') !== null`, chromedp.Navigate(link))
	b.Screenshot("link-used")
	if h := text(`.portal-notice h1`); h != "This link has expired" {
		t.Fatalf("the used link shows %q", h)
	}
}
