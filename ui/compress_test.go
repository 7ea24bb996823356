package ui

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// getEncoded fetches path with the given Accept-Encoding ("" for none) and
// returns the body as sent, undecoded (setting the header by hand keeps
// Go's transport from decoding it).
func (b *browser) getEncoded(path, acceptEncoding string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	} else {
		req.Header.Set("Accept-Encoding", "identity")
	}
	return b.do(req)
}

// The pages, the stylesheet, the pages' script and the portal's CSV come
// gzipped to a browser that accepts it, and decode to what a client that
// does not gets as is.
func TestPagesAndAssetsAreGzipped(t *testing.T) {
	s := newPortalScene(t)
	for i := range 30 {
		s.lead(t, s.shared, s.alice, fmt.Sprintf("buyer%d@example.com", i), "A Buyer", s.now.Add(-48*time.Hour))
	}
	admin := s.fresh(t)
	admin.signInAdmin()
	alice := s.signIn(t, "alice@partners.example")
	dash := admin.get("/dashboard")
	css := attrAfter(t, dash.Body, `<link rel="stylesheet" href="`)
	js := attrAfter(t, dash.Body, `<script src="`)
	for _, tc := range []struct {
		b                 *browser
		path, contentType string
	}{
		{admin, "/dashboard", "text/html"},
		{admin, "/leads", "text/html"},
		{admin, css, "text/css"},
		{admin, js, "text/javascript"},
		{alice, "/portal/programs/" + s.shared.ID + "/leads.csv?from=2026-01-01&to=2026-03-31", "text/csv"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			plain := tc.b.getEncoded(tc.path, "")
			expectStatus(t, plain, http.StatusOK)
			if ce := plain.Header.Get("Content-Encoding"); ce != "" {
				t.Fatalf("Content-Encoding %q without gzip accepted", ce)
			}
			if len(plain.Body) < 1024 {
				t.Fatalf("fixture too small to be compressed: %d bytes", len(plain.Body))
			}
			gz := tc.b.getEncoded(tc.path, "gzip, deflate, br, zstd")
			expectStatus(t, gz, http.StatusOK)
			if gz.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(gz.Header.Get("Vary"), "Accept-Encoding") {
				t.Fatalf("not gzipped: %v", gz.Header)
			}
			if ct := gz.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Errorf("Content-Type %q", ct)
			}
			zr, err := gzip.NewReader(strings.NewReader(gz.Body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, []byte(plain.Body)) {
				t.Fatalf("decoded %d bytes differ from the %d sent as is", len(got), len(plain.Body))
			}
			t.Logf("%s: %d bytes, %d gzipped", tc.path, len(plain.Body), len(gz.Body))
		})
	}
}

// attrAfter is the URL in the attribute that follows prefix in the page.
func attrAfter(t *testing.T, body, prefix string) string {
	t.Helper()
	i := strings.Index(body, prefix)
	if i < 0 {
		t.Fatalf("no %s in the page", prefix)
	}
	rest := body[i+len(prefix):]
	return rest[:strings.IndexByte(rest, '"')]
}
