package ui

import (
	"net/http"
	"strings"
	"testing"
)

// cspDirectives splits a Content-Security-Policy header into its
// directives: name → sources.
func cspDirectives(header string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(header, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			out[strings.ToLower(f[0])] = f[1:]
		}
	}
	return out
}

// Every kind of HTML page — admin, portal, sign-in, join, error pages —
// carries a policy that runs scripts from the site only (no
// 'unsafe-inline') and lets no one frame it; the pages it serves need
// nothing more: no inline code, and their one script loads.
func TestPagesCarryTheContentSecurityPolicy(t *testing.T) {
	s := newPortalScene(t)
	admin := s.fresh(t)
	admin.signInAdmin()
	alice := s.signIn(t, "alice@partners.example")
	anon := s.fresh(t)
	pages := []struct {
		b      *browser
		path   string
		status int
	}{
		{admin, "/dashboard", http.StatusOK},
		{admin, "/programs/" + s.shared.ID, http.StatusOK},
		{admin, "/settings", http.StatusOK},
		{admin, "/programs/nope", http.StatusNotFound}, // the error page
		{alice, "/portal", http.StatusOK},
		{alice, "/portal/programs/" + s.shared.ID, http.StatusOK},
		{alice, "/portal/webhooks", http.StatusOK},
		{anon, "/login", http.StatusOK},
		{anon, "/portal/login", http.StatusOK},
		{anon, "/join/" + s.shared.ID, http.StatusOK},
		{anon, "/join/nope", http.StatusNotFound},
		{anon, "/no/such/page", http.StatusNotFound},
	}
	for _, pg := range pages {
		t.Run(pg.path, func(t *testing.T) {
			p := pg.b.get(pg.path)
			expectStatus(t, p, pg.status)
			if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Fatalf("Content-Type %q", ct)
			}
			csp := p.Header.Get("Content-Security-Policy")
			d := cspDirectives(csp)
			script, ok := d["script-src"]
			if !ok {
				script, ok = d["default-src"]
			}
			if !ok || strings.Join(script, " ") != "'self'" {
				t.Errorf("script-src %q in %q: want 'self' only", script, csp)
			}
			if strings.Join(d["frame-ancestors"], " ") != "'none'" {
				t.Errorf("frame-ancestors %q in %q", d["frame-ancestors"], csp)
			}
			if strings.Join(d["object-src"], " ") != "'none'" || strings.Join(d["base-uri"], " ") != "'self'" {
				t.Errorf("object-src or base-uri missing in %q", csp)
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("unsafe source in %q", csp)
			}
			if xfo := p.Header.Get("X-Frame-Options"); xfo != "DENY" {
				t.Errorf("X-Frame-Options %q, want DENY (as frame-ancestors 'none')", xfo)
			}
			for _, bad := range inlineCode(p.Body) {
				t.Errorf("blocked by the policy: %s", bad)
			}
			i := strings.Index(p.Body, `<script src="/static/ui.js?v=`)
			if i < 0 {
				t.Fatal("the page does not load /static/ui.js")
			}
			src := p.Body[i+len(`<script src="`):]
			src = src[:strings.IndexByte(src, '"')]
			js := pg.b.get(src)
			expectStatus(t, js, http.StatusOK)
			if ct := js.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") ||
				!strings.Contains(js.Body, "data-confirm") || !strings.Contains(js.Header.Get("Cache-Control"), "immutable") {
				t.Fatalf("%s: %q %v %.100s", src, ct, js.Header, js.Body)
			}
		})
	}
}
