package ui

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/spiffy/spiffy/app/config"
)

func TestIntegrationsSecrets(t *testing.T) {
	b := newBrowser(t, func(c *config.Config) { c.Integrations.Paddle.WebhookSecret = "pdl_ntfset_from_config" })
	b.signInAdmin()

	p := b.get("/settings/integrations")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "http://spiffy.test/integrations/stripe", "http://spiffy.test/integrations/lemonsqueezy",
		"Stripe-Signature", "integrations.paddle.webhook_secret", "Not connected")

	// A secret pasted here connects the provider: its endpoint now verifies.
	p = b.submit("/settings/integrations", "/settings/integrations/stripe", url.Values{"secret": {" whsec_test123 "}})
	expectStatus(t, p, http.StatusSeeOther)
	if secret, source, err := b.env.App.IntegrationSecret("stripe"); err != nil || secret != "whsec_test123" || source != "settings" {
		t.Fatalf("stripe secret %q from %q (%v)", secret, source, err)
	}
	mustContain(t, b.get("/settings/integrations").Body, "Stripe is connected")
	if rec := b.env.Request(http.MethodPost, "/integrations/stripe", "{}", "Stripe-Signature", "t=1,v1=00"); rec.Code != http.StatusBadRequest {
		t.Fatalf("a connected endpoint with a bad signature answers %d, want 400", rec.Code)
	}

	// Bad input keeps what was there.
	p = b.submit("/settings/integrations", "/settings/integrations/stripe", url.Values{"secret": {"two words"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p.Body, "the signing secret exactly as the provider shows it")
	if secret, _, _ := b.env.App.IntegrationSecret("stripe"); secret != "whsec_test123" {
		t.Fatalf("a refused secret replaced the stored one: %q", secret)
	}
	// The config's secret cannot be changed here.
	p = b.submit("/settings/integrations", "/settings/integrations/paddle", url.Values{"secret": {"other"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p.Body, "set in the config")
	if secret, source, _ := b.env.App.IntegrationSecret("paddle"); secret != "pdl_ntfset_from_config" || source != "config" {
		t.Fatalf("paddle secret %q from %q", secret, source)
	}
	p = b.submit("/settings/integrations", "/settings/integrations/square", url.Values{"secret": {"x"}})
	expectStatus(t, p, http.StatusNotFound)

	// An empty secret disconnects: the endpoint answers 404 again.
	p = b.submit("/settings/integrations", "/settings/integrations/stripe", url.Values{"secret": {""}})
	expectStatus(t, p, http.StatusSeeOther)
	if rec := b.env.Request(http.MethodPost, "/integrations/stripe", "{}"); rec.Code != http.StatusNotFound {
		t.Fatalf("a disconnected endpoint answers %d, want 404", rec.Code)
	}
}
