package ui

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/web"
)

var newKeyRe = regexp.MustCompile(`value="(spf_[A-Za-z0-9_-]+)"`)

func TestSettingsCreateAndRevokeAPIKey(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()

	p := b.get("/settings")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "API keys", `<td class="strong cell-main">test</td>`, "Never", "badge-active", "http://spiffy.test/api/v1")
	if newKeyRe.MatchString(p.Body) {
		t.Fatal("a secret is shown before any key was created")
	}

	p = b.submit("/settings", "/settings/api-keys", url.Values{"name": {"Checkout server"}})
	expectStatus(t, p, http.StatusSeeOther)
	p = b.get("/settings")
	mustContain(t, p.Body, "API key “Checkout server” created", "Copy your new API key now", "will not be shown again", "Checkout server")
	m := newKeyRe.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("new key not shown:\n%.3000s", p.Body)
	}
	secret := m[1]
	auth := func() int {
		return b.env.Request(http.MethodGet, "/api/v1/programs", nil, "Authorization", "Bearer "+secret).Code
	}
	if code := auth(); code != http.StatusOK {
		t.Fatalf("new key gets %d", code)
	}
	// Shown once.
	if strings.Contains(b.get("/settings").Body, secret) {
		t.Fatal("the secret is shown again")
	}

	keys, _ := b.env.App.Views().APIKeys()
	var id string
	for _, k := range keys {
		if k.Name == "Checkout server" {
			id = k.ID
			if !strings.HasPrefix(secret, k.Prefix) || !strings.Contains(p.Body, "<code>"+k.Prefix+"…</code>") {
				t.Fatalf("prefix %q not listed", k.Prefix)
			}
		}
	}
	confirm := "/settings/api-keys/" + id + "/revoke"
	p = b.get(confirm)
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "Revoke API key “Checkout server”?", `action="`+confirm+`"`)
	if code := auth(); code != http.StatusOK {
		t.Fatalf("the confirmation page revoked the key: %d", code)
	}
	p = b.submit(confirm, confirm, nil)
	expectStatus(t, p, http.StatusSeeOther)
	if code := auth(); code != http.StatusUnauthorized {
		t.Fatalf("revoked key gets %d, want 401", code)
	}
	p = b.get("/settings")
	mustContain(t, p.Body, "API key “Checkout server” revoked", `class="revoked"`, "Revoked ")
	// The other key still works.
	if rec := b.env.API(http.MethodGet, "/programs", nil); rec.Code != http.StatusOK {
		t.Fatalf("other key gets %d", rec.Code)
	}
	// Revoking again is harmless; the confirmation says so.
	mustContain(t, b.get(confirm).Body, "already revoked")
}

func TestSettingsBadInput(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	for _, tc := range []struct {
		name, value, msg string
	}{
		{"empty name", "  ", "Name is required."},
		{"long name", strings.Repeat("k", 101), "Name must be at most 100 characters."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.submit("/settings", "/settings/api-keys", url.Values{"name": {tc.value}})
			expectStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p.Body, `<p class="field-error">`+tc.msg, "Install SpiffyJS")
			if ks, _ := b.env.App.Views().APIKeys(); len(ks) != 1 {
				t.Fatalf("%d keys after a refused create", len(ks))
			}
		})
	}
	for _, path := range []string{"/settings/api-keys/01J0000000000000000000ZZZZ/revoke", "/settings/api-keys/nope/revoke"} {
		p := b.get(path)
		expectStatus(t, p, http.StatusNotFound)
		mustContain(t, p.Body, "API key not found", "Back to spiffy.test")
		p = b.submit("/settings", path, nil)
		expectStatus(t, p, http.StatusNotFound)
	}
}

func TestSettingsEndsWithInstallCode(t *testing.T) {
	b := newBrowser(t, func(c *config.Config) { c.BaseURL = "https://aff.shop.example.com" })
	b.signInAdmin()
	p := b.get("/settings")
	expectStatus(t, p, http.StatusOK)
	mustContain(t, p.Body, "before <code>&lt;/head&gt;</code> on every page", "https://aff.shop.example.com/spiffy.js")
	// The code is shown as text: unescaping the page gives it back verbatim.
	body := html.UnescapeString(p.Body)
	code := web.InstallCode("https://aff.shop.example.com")
	mustContain(t, body, `<pre id="install-code">`+code+`</pre>`, "<form action=\"/signup\" method=\"post\" data-spiffy-lead>", "spiffy('referral')")
	if strings.Contains(p.Body, code) {
		t.Fatal("the install code is not escaped: it would run instead of being shown")
	}
	// The install section comes after the API keys and is the page's last:
	// no card, form or table follows it (the escaped page is searched, so the
	// example snippets do not count as forms).
	const open = `<section class="card" id="install">`
	install := strings.Index(p.Body, open)
	if keys := strings.Index(p.Body, `id="api-keys"`); keys < 0 || install < keys {
		t.Fatal("the install code is not after the API keys")
	}
	if last := strings.LastIndex(p.Body, "<section"); last != install {
		t.Fatal("the install section is not the last one")
	}
	rest := p.Body[install+len(open):]
	if !strings.Contains(html.UnescapeString(rest), code) {
		t.Fatal("the install code is not in the last section")
	}
	for _, s := range []string{"<section", "<form", "<table", `class="card`} {
		if strings.Contains(rest, s) {
			t.Fatalf("%s after the install code", s)
		}
	}
	mustContain(t, rest, "data-copy")
}
