//go:build browser

package browser

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
)

// watchCSP makes every page of the tab record the Content-Security-Policy
// violations it reports (added through DevTools, so the policy itself does
// not block it); cspViolations reads them.
func watchCSP(t *testing.T, b *Browser) {
	t.Helper()
	if _, err := chromedp.Call(b.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener('securitypolicyviolation', function (e) {
			window.__csp.push(e.effectiveDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber); });`,
	}); err != nil {
		t.Fatalf("watch csp: %v", err)
	}
}

func cspViolations(t *testing.T, b *Browser) []string {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`window.__csp || ['the watcher did not run']`))
	if err != nil {
		t.Fatalf("read csp violations: %v", err)
	}
	return v
}

// The portal's and the admin's scripts work under the pages' policy
// (script-src 'self', no 'unsafe-inline'): the sub-ID link builder and the
// copy buttons, the confirm before a webhook endpoint is deleted (dismissed:
// nothing happens; accepted: it is gone), and the admin's copy fields; and
// the browser reports no violation on any page.
func TestPortalAndAdminScriptsUnderTheCSP(t *testing.T) {
	s := StartSpiffy(t, func(c *config.Config) { c.Webhooks.AllowPrivateTargets = true })
	prg := s.Program("Shoes", func(in *app.ProgramInput) { in.SharePurchasers = apptest.Ptr(true) })
	af := s.Affiliate("Carla Copy", "carla@partners.example", "carla", prg)
	receiver := StartSite(t, HTML("ok"))
	s.WebhookEndpoint(af.ID, map[string]any{"url": receiver + "/hook"})

	b := NewBrowser(t, 0)
	watchCSP(t, b)
	portalGo(t, b, portalPath("/portal/login"), chromedp.Navigate(s.URL+"/portal/programs/"+prg.ID))
	portalGo(t, b, portalPath("/portal/programs/"+prg.ID),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "carla@partners.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "password123"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))

	// The sub-ID field builds the link as one types, and Copy copies it.
	portalGo(t, b, `!document.getElementById('sub-out').hidden && document.getElementById('sub-link').value.includes('&sub=spring')`,
		chromedp.SendKeys(chromedp.CSS(`#sub`), "spring"))
	portalGo(t, b, `document.querySelector('[data-portal-copy="sub-link"]').textContent === 'Copied!'`,
		chromedp.Click(chromedp.CSS(`[data-portal-copy="sub-link"]`)))
	b.Screenshot("program")
	if v := cspViolations(t, b); len(v) > 0 {
		t.Fatalf("policy violations on the program page: %v", v)
	}

	// Deleting an endpoint asks first.
	answers := make(chan bool, 2)
	answers <- false
	answers <- true
	asked := make(chan string, 2)
	go func() {
		for ev, err := range chromedp.Events(b.Ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			asked <- ev.Message
			accept := <-answers
			go func() {
				_, _ = chromedp.Call(b.Ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
			}()
		}
	}()
	deleteButton := `form[action$="/delete"] button`
	portalGo(t, b, portalPath("/portal/webhooks")+` && !!document.querySelector('`+deleteButton+`')`,
		chromedp.Navigate(s.URL+"/portal/webhooks"))
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(deleteButton))); err != nil {
		t.Fatal(err)
	}
	select {
	case q := <-asked:
		if !strings.Contains(q, "Delete this endpoint") {
			t.Fatalf("asked %q", q)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no confirm before deleting: data-confirm is not wired")
	}
	time.Sleep(300 * time.Millisecond) // a dismissed confirm must not submit
	if eps, err := s.App.WebhookEndpoints(app.AffiliateScope(af.ID)); err != nil || len(eps) != 1 {
		t.Fatalf("after dismissing the confirm: %d endpoints, %v", len(eps), err)
	}
	portalGo(t, b, `document.readyState === 'complete' && !document.querySelector('`+deleteButton+`')`,
		chromedp.Click(chromedp.CSS(deleteButton)))
	if q := <-asked; !strings.Contains(q, "Delete this endpoint") {
		t.Fatalf("asked %q", q)
	}
	if eps, err := s.App.WebhookEndpoints(app.AffiliateScope(af.ID)); err != nil || len(eps) != 0 {
		t.Fatalf("after accepting the confirm: %d endpoints, %v", len(eps), err)
	}
	if v := cspViolations(t, b); len(v) > 0 {
		t.Fatalf("policy violations on the webhooks page: %v", v)
	}

	// The admin's copy fields: the Copy buttons show (the clipboard API is
	// there on 127.0.0.1) and a field selects itself when focused.
	if _, err := s.App.CreateAdmin("owner@shop.example", "correct-horse-battery"); err != nil {
		t.Fatal(err)
	}
	a := NewBrowser(t, 0)
	watchCSP(t, a)
	portalGo(t, a, portalPath("/login"), chromedp.Navigate(s.URL+"/programs/"+prg.ID))
	portalGo(t, a, portalPath("/programs/"+prg.ID),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "owner@shop.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct-horse-battery"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	portalGo(t, a, `(() => { const i = document.querySelector('input[data-select]');
			return !!i && document.activeElement === i && i.selectionStart === 0 && i.selectionEnd === i.value.length && i.value.length > 0; })()`,
		chromedp.Focus(chromedp.CSS(`input[data-select]`)))
	if shown, err := chromedp.Run(a.Ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll('[data-copy]')].every(b => !b.hidden)`)); err != nil || !shown {
		t.Fatalf("copy buttons still hidden: %v", err)
	}
	if v := cspViolations(t, a); len(v) > 0 {
		t.Fatalf("policy violations on the admin page: %v", v)
	}
	if ex := append(b.Exceptions(), a.Exceptions()...); len(ex) > 0 {
		t.Fatalf("page errors: %v", ex)
	}
}
