package ui

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/webhook/webhooktest"
	"github.com/spiffy/spiffy/store"
)

var secretRe = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)

func TestPortalWebhooks(t *testing.T) {
	// Loopback targets are refused unless allowed; nothing is stored.
	refusing := newPortalScene(t)
	sinkURL := webhooktest.NewReceiver(t, nil).URL
	p := refusing.signIn(t, "alice@partners.example").submit("/portal/webhooks", "/portal/webhooks", url.Values{"url": {sinkURL}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	if !strings.Contains(p.Body, "not allowed") {
		t.Fatalf("refusal not shown: %.800s", p.Body)
	}
	if eps, _ := refusing.env.App.WebhookEndpoints(app.Merchant); len(eps) != 0 {
		t.Fatalf("refused endpoint stored")
	}

	s := newPortalScene(t, apptest.LoopbackWebhooks)
	sink := webhooktest.NewReceiver(t, webhooktest.Answering(200))
	sinkURL = sink.URL
	alice := s.signIn(t, "alice@partners.example")

	// Signed out, the page sends to sign-in.
	if p := s.fresh(t).get("/portal/webhooks"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/portal/login") {
		t.Fatalf("signed out: %d %q", p.Status, p.Location)
	}
	p = alice.get("/portal/webhooks")
	expectStatus(t, p, 200)
	if !strings.Contains(p.Body, "Add your first endpoint") || !strings.Contains(p.Body, `name="url"`) {
		t.Fatalf("empty page: %.500s", p.Body)
	}
	// A form with every event unticked is refused, the URL kept.
	p = alice.submit("/portal/webhooks", "/portal/webhooks", url.Values{"url": {sinkURL}, "events_shown": {"1"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	if !strings.Contains(p.Body, "choose at least one event") || !strings.Contains(p.Body, sinkURL) {
		t.Fatalf("no-event form: %.800s", p.Body)
	}
	// Just the url field: every event.
	p = alice.submit("/portal/webhooks", "/portal/webhooks", url.Values{"url": {sinkURL + "/zap"}})
	expectStatus(t, p, http.StatusSeeOther)
	eps, _ := s.env.App.WebhookEndpoints(app.AffiliateScope(s.alice.ID))
	if len(eps) != 1 || eps[0].URL != sinkURL+"/zap" || len(eps[0].Events) != 3 {
		t.Fatalf("endpoints %+v", eps)
	}
	ep := eps[0]
	p = alice.get("/portal/webhooks")
	if got := secretRe.FindString(p.Body); got != ep.Secret {
		t.Fatalf("secret on the page %q, want %q", got, ep.Secret)
	}
	if !strings.Contains(p.Body, "Endpoint added") || !strings.Contains(p.Body, "Nothing sent yet") {
		t.Fatalf("page after adding: %.800s", p.Body)
	}

	// Test event: delivered, signed, shown in the log.
	expectStatus(t, alice.submit("/portal/webhooks", "/portal/webhooks/"+ep.ID+"/test", nil), http.StatusSeeOther)
	s.env.WaitWebhooks()
	if len(sink.Requests()) != 1 {
		t.Fatalf("receiver got %d requests", len(sink.Requests()))
	}
	webhooktest.Verify(t, ep.Secret, sink.Requests()[0], false) // the scene's clock is fixed
	p = alice.get("/portal/webhooks")
	for _, want := range []string{"<code>test</code>", `badge-delivered">delivered`, `wh-code-ok">200`, "Resend"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("delivery log lacks %q", want)
		}
	}
	ms, _, _ := s.env.App.WebhookMessages(app.WebhookMessageQuery{Scope: app.AffiliateScope(s.alice.ID)})
	if len(ms) != 1 {
		t.Fatalf("%d messages", len(ms))
	}
	// Resend: the same message id again.
	expectStatus(t, alice.submit("/portal/webhooks", "/portal/webhooks/messages/"+ms[0].ID+"/resend", url.Values{"next": {"/portal/webhooks#ep-" + ep.ID}}), http.StatusSeeOther)
	s.env.WaitWebhooks()
	if len(sink.Requests()) != 2 || sink.Requests()[1].Header.Get("webhook-id") != ms[0].ID {
		t.Fatalf("resend: %d requests", len(sink.Requests()))
	}
	if p := alice.get("/portal/webhooks/" + ep.ID); p.Status != 200 || !strings.Contains(p.Body, ms[0].ID) {
		t.Fatalf("delivery log page: %d", p.Status)
	}

	// Another affiliate sees none of it and cannot act on it.
	bob := s.signIn(t, "bob@partners.example")
	if p := bob.get("/portal/webhooks"); strings.Contains(p.Body, ep.Secret) || strings.Contains(p.Body, sinkURL) {
		t.Fatalf("bob sees alice's endpoint")
	}
	for _, action := range []string{"/portal/webhooks/" + ep.ID + "/test", "/portal/webhooks/" + ep.ID + "/rotate",
		"/portal/webhooks/" + ep.ID + "/delete", "/portal/webhooks/messages/" + ms[0].ID + "/resend"} {
		if p := bob.submit("/portal/webhooks", action, nil); p.Status != http.StatusNotFound {
			t.Errorf("bob %s: %d", action, p.Status)
		}
	}
	if p := bob.get("/portal/webhooks/" + ep.ID); p.Status != http.StatusNotFound {
		t.Errorf("bob reads alice's log: %d", p.Status)
	}
	if len(sink.Requests()) != 2 {
		t.Fatalf("bob's posts sent something")
	}
	// Without the CSRF token nothing happens.
	if p := alice.post("/portal/webhooks/"+ep.ID+"/delete", url.Values{}); p.Status != http.StatusForbidden {
		t.Fatalf("delete without csrf: %d", p.Status)
	}

	// Rotate, edit, disable, delete.
	expectStatus(t, alice.submit("/portal/webhooks", "/portal/webhooks/"+ep.ID+"/rotate", nil), http.StatusSeeOther)
	p = alice.get("/portal/webhooks")
	if got := secretRe.FindString(p.Body); got == ep.Secret || got == "" {
		t.Fatalf("secret after rotation %q", got)
	}
	p = alice.submit("/portal/webhooks", "/portal/webhooks/"+ep.ID, url.Values{"url": {sinkURL + "/v2"}, "events_shown": {"1"}, "events": {"purchase.created"}})
	expectStatus(t, p, http.StatusSeeOther)
	if e, _ := s.env.App.WebhookEndpoint(app.Merchant, ep.ID); e.URL != sinkURL+"/v2" || len(e.Events) != 1 {
		t.Fatalf("after edit %+v", e)
	}
	p = alice.submit("/portal/webhooks", "/portal/webhooks/"+ep.ID, url.Values{"url": {"nope"}, "events_shown": {"1"}, "events": {"purchase.created"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	expectStatus(t, alice.submit("/portal/webhooks", "/portal/webhooks/"+ep.ID+"/state", url.Values{"enabled": {"false"}}), http.StatusSeeOther)
	p = alice.get("/portal/webhooks")
	if !strings.Contains(p.Body, "Disabled by you") || strings.Contains(p.Body, "Send test event") {
		t.Fatalf("disabled endpoint page: %.1200s", p.Body)
	}
	expectStatus(t, alice.submit("/portal/webhooks", "/portal/webhooks/"+ep.ID+"/delete", nil), http.StatusSeeOther)
	if eps, _ := s.env.App.WebhookEndpoints(app.AffiliateScope(s.alice.ID)); len(eps) != 0 {
		t.Fatalf("not deleted")
	}
}

func TestAdminWebhooks(t *testing.T) {
	s := newPortalScene(t, apptest.LoopbackWebhooks)
	sink := webhooktest.NewReceiver(t, webhooktest.Answering(500))
	sinkURL := sink.URL
	ok := webhooktest.NewReceiver(t, webhooktest.Answering(204))
	okURL := ok.URL
	failing, err := s.env.App.CreateWebhookEndpoint(context.Background(), s.alice.ID, app.WebhookEndpointInput{URL: &sinkURL})
	if err != nil {
		t.Fatal(err)
	}
	healthy, err := s.env.App.CreateWebhookEndpoint(context.Background(), s.bob.ID, app.WebhookEndpointInput{URL: &okURL})
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range []*store.WebhookEndpoint{failing, healthy} {
		if _, err := s.env.App.SendTestWebhook(app.Merchant, ep.ID); err != nil {
			t.Fatal(err)
		}
	}
	s.env.WaitWebhooks()
	if len(sink.Requests()) != 1 || len(ok.Requests()) != 1 {
		t.Fatalf("deliveries %d %d", len(sink.Requests()), len(ok.Requests()))
	}
	admin := s.fresh(t)
	admin.signInAdmin()
	p := admin.get("/webhooks")
	expectStatus(t, p, 200)
	for _, want := range []string{`class="active" aria-current="page">Webhooks`, "1 endpoint is failing", `class="wh-failing" id="ep-` + failing.ID,
		"Failing since", "HTTP 500", "Alice", "Bob", `badge-pending">pending`, `badge-delivered">delivered`, "in 5 s"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("admin page lacks %q", want)
		}
	}
	if strings.Index(p.Body, `id="ep-`+failing.ID) > strings.Index(p.Body, `id="ep-`+healthy.ID) {
		t.Errorf("failing endpoint not listed first")
	}
	if p := admin.get("/webhooks?status=delivered"); strings.Contains(p.Body, `badge-pending">pending`) {
		t.Errorf("status filter shows pending deliveries")
	}
	if p := admin.get("/webhooks?cursor=garbage"); p.Status != 200 {
		t.Errorf("bad cursor: %d", p.Status)
	}
	// Disable the failing endpoint: its affiliate sees why and cannot undo it.
	p = admin.submit("/webhooks", "/webhooks/"+failing.ID+"/state", url.Values{"enabled": {"false"}, "next": {"/webhooks"}})
	expectStatus(t, p, http.StatusSeeOther)
	if e, _ := s.env.App.WebhookEndpoint(app.Merchant, failing.ID); !e.Disabled || e.DisabledBy != app.DisabledByMerchant {
		t.Fatalf("after disable %+v", e)
	}
	alice := s.signIn(t, "alice@partners.example")
	if p := alice.get("/portal/webhooks"); !strings.Contains(p.Body, "Disabled by the program owner") {
		t.Fatalf("alice does not see the reason")
	}
	p = alice.submit("/portal/webhooks", "/portal/webhooks/"+failing.ID+"/state", url.Values{"enabled": {"true"}})
	expectStatus(t, p, http.StatusSeeOther)
	if e, _ := s.env.App.WebhookEndpoint(app.Merchant, failing.ID); !e.Disabled {
		t.Fatalf("alice re-enabled an endpoint the merchant disabled")
	}
	if p := alice.get("/portal/webhooks"); !strings.Contains(p.Body, "ask them to enable it") {
		t.Fatalf("refusal not shown to alice")
	}
	// The merchant can resend any delivery.
	ms, _, _ := s.env.App.WebhookMessages(app.WebhookMessageQuery{Scope: app.AffiliateScope(s.bob.ID)})
	expectStatus(t, admin.submit("/webhooks", "/webhooks/messages/"+ms[0].ID+"/resend", url.Values{"next": {"/webhooks"}}), http.StatusSeeOther)
	s.env.WaitWebhooks()
	if len(ok.Requests()) != 2 {
		t.Fatalf("resend from admin: %d", len(ok.Requests()))
	}
	// Signed-out visitors are sent to sign in.
	if p := s.fresh(t).get("/webhooks"); p.Status != http.StatusSeeOther {
		t.Fatalf("signed out admin page: %d", p.Status)
	}
}
