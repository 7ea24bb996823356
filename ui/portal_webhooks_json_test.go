package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/webhook/webhooktest"
)

// The "Send test event" button's script asks for JSON: the post answers
// with the queued message and where to poll it, and the poll shows the
// delivery (status code, time taken) once the dispatcher has tried it. A
// plain form post still redirects with a notice; another affiliate's
// message is not found; errors come as {"error","message"}.
func TestPortalWebhookTestEventAsJSON(t *testing.T) {
	s := newPortalScene(t, apptest.LoopbackWebhooks)
	sink := webhooktest.NewReceiver(t, webhooktest.Answering(200))
	alice := s.signIn(t, "alice@partners.example")
	ep, err := s.env.App.CreateWebhookEndpoint(t.Context(), s.alice.ID, app.WebhookEndpointInput{URL: apptest.Ptr(sink.URL)})
	if err != nil {
		t.Fatal(err)
	}
	send := func(b *browser, path string, form url.Values, accept string) page {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", accept)
		return b.do(req)
	}
	getJSON := func(b *browser, path string) page {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
		req.Header.Set("Accept", "application/json")
		return b.do(req)
	}
	csrf := url.Values{"csrf": {alice.csrf("/portal/webhooks")}}

	p := send(alice, "/portal/webhooks/"+ep.ID+"/test", csrf, "application/json")
	expectStatus(t, p, http.StatusAccepted)
	var d testDeliveryJSON
	if err := json.Unmarshal([]byte(p.Body), &d); err != nil || d.Message == "" || d.StatusURL != "/portal/webhooks/messages/"+d.Message {
		t.Fatalf("answer %s: %v", p.Body, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for d.Status == "pending" && d.Attempts == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		p = getJSON(alice, d.StatusURL)
		expectStatus(t, p, http.StatusOK)
		if err := json.Unmarshal([]byte(p.Body), &d); err != nil {
			t.Fatal(err)
		}
	}
	if d.Status != "delivered" || d.StatusCode != 200 || d.Attempts != 1 || len(sink.Requests()) != 1 {
		t.Fatalf("delivery %+v, %d requests received", d, len(sink.Requests()))
	}

	// Only alice's own message.
	bob := s.signIn(t, "bob@partners.example")
	p = getJSON(bob, d.StatusURL)
	expectStatus(t, p, http.StatusNotFound)
	mustContain(t, p.Body, `"error":"webhook_message_not_found"`)
	// Without JSON, the message's address is its endpoint's log.
	p = alice.get(d.StatusURL)
	if p.Status != http.StatusSeeOther || p.Location != "/portal/webhooks/"+ep.ID {
		t.Errorf("HTML get: %d %q", p.Status, p.Location)
	}
	// A disabled endpoint: a JSON error the page shows, nothing queued.
	if _, err := s.env.App.UpdateWebhookEndpoint(t.Context(), app.AffiliateScope(s.alice.ID), ep.ID, app.WebhookEndpointInput{Disabled: apptest.Ptr(true)}); err != nil {
		t.Fatal(err)
	}
	p = send(alice, "/portal/webhooks/"+ep.ID+"/test", csrf, "application/json")
	expectStatus(t, p, http.StatusBadRequest)
	mustContain(t, p.Body, `"error":"endpoint_disabled"`, `"message":"this endpoint is disabled`)
	// The form without the script: a redirect with a notice, as before.
	if _, err := s.env.App.UpdateWebhookEndpoint(t.Context(), app.AffiliateScope(s.alice.ID), ep.ID, app.WebhookEndpointInput{Disabled: apptest.Ptr(false)}); err != nil {
		t.Fatal(err)
	}
	p = send(alice, "/portal/webhooks/"+ep.ID+"/test", csrf, "text/html")
	if p.Status != http.StatusSeeOther || p.Location != "/portal/webhooks#ep-"+ep.ID {
		t.Errorf("form post: %d %q", p.Status, p.Location)
	}
}
