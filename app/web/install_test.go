package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/embedded"
)

func TestInstallCode(t *testing.T) {
	tests := []struct{ base, wantSrc string }{
		{"https://spiffy.example.com", `<script src="https://spiffy.example.com/spiffy.js" async></script>`},
		{"https://spiffy.example.com/", `<script src="https://spiffy.example.com/spiffy.js" async></script>`},
		{`https://x.example/"><b>`, `<script src="https://x.example/&#34;&gt;&lt;b&gt;/spiffy.js" async></script>`},
	}
	for _, tt := range tests {
		code := web.InstallCode(tt.base)
		lines := strings.Split(code, "\n")
		if len(lines) != 2 || lines[0] != tt.wantSrc {
			t.Fatalf("InstallCode(%q) =\n%s\nwant first line %s", tt.base, code, tt.wantSrc)
		}
		stub := lines[1]
		if !strings.HasPrefix(stub, "<script>") || !strings.Contains(stub, "window.spiffy=window.spiffy||function(){") ||
			!strings.Contains(stub, ".q=") || !strings.Contains(stub, "push(arguments)") {
			t.Fatalf("queue stub %q", stub)
		}
	}
}

func TestSpiffyJS(t *testing.T) {
	env, _ := newEnv(t)
	raw, err := embedded.FS.ReadFile("spiffy.js")
	if err != nil {
		t.Fatal(err)
	}

	// Served as embedded, with no tracking.cookie_domain written in.
	raw = bytes.Replace(raw, []byte("''/*cookie_domain*/"), []byte("''"), 1)
	rec := env.Request(http.MethodGet, "/spiffy.js", nil)
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), raw) {
		t.Fatalf("GET /spiffy.js: %d, %d bytes; want 200 and the script", rec.Code, rec.Body.Len())
	}
	h := rec.Header()
	etag := h.Get("ETag")
	if h.Get("Content-Type") != "application/javascript" || h.Get("Cache-Control") != "public, max-age=3600" ||
		!regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(etag) || h.Get("Content-Encoding") != "" {
		t.Fatalf("headers %v", h)
	}

	for _, inm := range []string{etag, `W/` + etag, `"other", ` + etag, "*"} {
		rec = env.Request(http.MethodGet, "/spiffy.js", nil, "If-None-Match", inm)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
			t.Fatalf("If-None-Match %s: %d with %d bytes, want 304 and no body", inm, rec.Code, rec.Body.Len())
		}
	}
	rec = env.Request(http.MethodGet, "/spiffy.js", nil, "If-None-Match", `"stale"`)
	if rec.Code != 200 {
		t.Fatalf("stale If-None-Match: %d", rec.Code)
	}

	// Gzipped for browsers that take it, within the 6 KB budget.
	rec = env.Request(http.MethodGet, "/spiffy.js", nil, "Accept-Encoding", "br, gzip;q=0.8")
	if rec.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip headers %v", rec.Header())
	}
	if n := rec.Body.Len(); n > 6144 || n != web.ScriptGzipSize() {
		t.Fatalf("spiffy.js is %d bytes gzipped, budget 6144", n)
	}
	t.Logf("spiffy.js: %d bytes, %d gzipped", len(raw), rec.Body.Len())
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, raw) {
		t.Fatalf("gzipped body does not decompress to the script: %v", err)
	}
	gzTag := rec.Header().Get("ETag")
	if gzTag == etag {
		t.Fatal("the gzipped and plain bodies share an ETag")
	}
	if rec = env.Request(http.MethodGet, "/spiffy.js", nil, "Accept-Encoding", "gzip", "If-None-Match", gzTag); rec.Code != 304 {
		t.Fatalf("gzip revalidation: %d", rec.Code)
	}
	if rec = env.Request(http.MethodGet, "/spiffy.js", nil, "Accept-Encoding", "gzip;q=0"); rec.Header().Get("Content-Encoding") != "" {
		t.Fatal("gzip;q=0 still got gzip")
	}
	if rec = env.Request(http.MethodHead, "/spiffy.js", nil); rec.Code != 200 || rec.Header().Get("ETag") != etag {
		t.Fatalf("HEAD: %d %v", rec.Code, rec.Header())
	}
}

// TestSpiffyJSIsES5 guards the script against syntax old browsers cannot
// parse (the browser test runs it in a current Chromium only) and against
// dependencies.
func TestSpiffyJSIsES5(t *testing.T) {
	raw, err := embedded.FS.ReadFile("spiffy.js")
	if err != nil {
		t.Fatal(err)
	}
	// Strip comments and string literals first, so prose cannot trip the checks.
	code := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(string(raw), "")
	code = regexp.MustCompile(`(?m)^\s*//.*$`).ReplaceAllString(code, "")
	wrapped := strings.TrimSpace(code)
	code = regexp.MustCompile(`'(?:[^'\\\n]|\\.)*'`).ReplaceAllString(code, "''")
	forbidden := []struct{ what, re string }{
		{"arrow function", `=>`},
		{"let/const", `\b(let|const)\s`},
		{"template literal", "`"},
		{"class", `\bclass\s+\w`},
		{"spread/rest", `\.\.\.`},
		{"async/await", `\b(async\s+function|await\s)`},
		{"import/export/require", `\b(import|export|require)\b`},
		{"for-of", `\bfor\s*\([^)]*\bof\b`},
		{"optional chaining", `\?\.[a-zA-Z_(]`},
		{"nullish coalescing", `\?\?`},
		{"default parameters", `function\s*\w*\([^)]*=`},
		{"Promise/Symbol/Map/Set", `\b(Promise|Symbol|new Map|new Set)\b`},
	}
	for _, f := range forbidden {
		if loc := regexp.MustCompile(f.re).FindStringIndex(code); loc != nil {
			t.Errorf("spiffy.js uses %s (ES2015+): %q", f.what, code[max(0, loc[0]-30):min(len(code), loc[1]+30)])
		}
	}
	// Everything runs inside one try/catch in an IIFE: a broken browser
	// feature must not surface as an error on the merchant's page.
	if !strings.HasPrefix(wrapped, "(function (w, d) {\n  'use strict';\n  try {") || !strings.HasSuffix(wrapped, "} catch (e) {}\n})(window, document);") {
		t.Errorf("spiffy.js is not wrapped in an IIFE with try/catch")
	}
	for _, api := range []string{"sendBeacon", "keepalive: true", "data-spiffy-lead", "data-require-consent", "spiffy_ref", "spiffy_vid", "/t/click", "/t/lead", "'ref'", "'via'", "'aff'", "'sub'"} {
		if !strings.Contains(string(raw), api) {
			t.Errorf("spiffy.js does not mention %s", api)
		}
	}
}
