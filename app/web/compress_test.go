package web_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app/apptest"
)

// gunzip decodes a gzip body, failing the test when it is not one.
func gunzip(t *testing.T, body []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}

// The JSON API and the CSV downloads come gzipped to a client that asks
// (Vary: Accept-Encoding), and decode to exactly what a client that does
// not ask gets as is; q=0 refuses gzip.
func TestAPIAnswersAreGzipped(t *testing.T) {
	env, _ := newEnv(t)
	var prg = env.Program("Shoes")
	for i := range 12 {
		env.Program(fmt.Sprintf("Program number %d with a long enough name", i))
	}
	env.Affiliate("Ann", "ann@partners.example", "ann", prg)
	for i := range 20 {
		env.AttributedPurchase(prg, "ann", fmt.Sprintf("order-%03d", i), fmt.Sprintf("buyer%d@example.com", i))
	}
	auth := []string{"Authorization", "Bearer " + env.APIKey}
	for _, tc := range []struct{ path, contentType string }{
		{"/api/v1/programs?limit=50", "application/json"},
		{"/api/v1/purchases.csv", "text/csv"},
		{"/api/v1/leads.csv", "text/csv"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			plain := env.Request(http.MethodGet, tc.path, nil, auth...)
			apptest.Expect(t, plain, http.StatusOK)
			if ce := plain.Header().Get("Content-Encoding"); ce != "" {
				t.Fatalf("Content-Encoding %q without Accept-Encoding", ce)
			}
			if !strings.Contains(plain.Header().Get("Vary"), "Accept-Encoding") {
				t.Errorf("identity answer without Vary: Accept-Encoding: %v", plain.Header())
			}
			if plain.Body.Len() < 1024 && tc.path != "/api/v1/leads.csv" {
				t.Fatalf("fixture too small to be compressed (%d bytes)", plain.Body.Len())
			}
			refused := env.Request(http.MethodGet, tc.path, nil, append(auth, "Accept-Encoding", "gzip;q=0, identity")...)
			if ce := refused.Header().Get("Content-Encoding"); ce != "" || refused.Body.String() != plain.Body.String() {
				t.Fatalf("gzip;q=0: Content-Encoding %q", ce)
			}

			gz := env.Request(http.MethodGet, tc.path, nil, append(auth, "Accept-Encoding", "gzip, deflate, br")...)
			apptest.Expect(t, gz, http.StatusOK)
			if !strings.HasPrefix(gz.Header().Get("Content-Type"), tc.contentType) {
				t.Errorf("Content-Type %q", gz.Header().Get("Content-Type"))
			}
			if plain.Body.Len() < 1024 {
				// A tiny answer is not worth compressing.
				if ce := gz.Header().Get("Content-Encoding"); ce != "" || gz.Body.String() != plain.Body.String() {
					t.Fatalf("small answer: Content-Encoding %q", ce)
				}
				return
			}
			if ce := gz.Header().Get("Content-Encoding"); ce != "gzip" {
				t.Fatalf("Content-Encoding %q, want gzip; headers %v", ce, gz.Header())
			}
			if !strings.Contains(gz.Header().Get("Vary"), "Accept-Encoding") {
				t.Errorf("no Vary: Accept-Encoding: %v", gz.Header())
			}
			if gz.Body.Len() >= plain.Body.Len() {
				t.Errorf("gzip %d bytes, plain %d", gz.Body.Len(), plain.Body.Len())
			}
			if got := gunzip(t, gz.Body.Bytes()); !bytes.Equal(got, plain.Body.Bytes()) {
				t.Fatalf("decoded body differs:\n got %.300q\nwant %.300q", got, plain.Body.Bytes())
			}
		})
	}
}

// What is left out: the tracking endpoints' tiny answers, /spiffy.js (its
// own precompressed copy, gzipped once), /metrics (Prometheus' own
// encoding) and a JSON error (small).
func TestCompressionLeavesOutTrackingAndTheScript(t *testing.T) {
	env, _ := newEnv(t)
	prg := env.Program("Shoes")
	env.Affiliate("Ann", "ann@partners.example", "ann", prg)
	ae := []string{"Accept-Encoding", "gzip"}

	click := env.Request(http.MethodPost, "/t/click", map[string]string{"ref": "ann"}, ae...)
	apptest.Expect(t, click, http.StatusCreated)
	if ce := click.Header().Get("Content-Encoding"); ce != "" || !strings.Contains(click.Body.String(), `"referral"`) {
		t.Fatalf("/t/click: Content-Encoding %q, body %s", ce, click.Body)
	}

	js := env.Request(http.MethodGet, "/spiffy.js", nil, ae...)
	apptest.Expect(t, js, http.StatusOK)
	if js.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("/spiffy.js not gzipped: %v", js.Header())
	}
	plain := env.Request(http.MethodGet, "/spiffy.js", nil)
	if got := gunzip(t, js.Body.Bytes()); !bytes.Equal(got, plain.Body.Bytes()) || !bytes.Contains(got, []byte("spiffy")) {
		t.Fatalf("/spiffy.js decodes to %.100q: compressed twice?", got)
	}

	m := env.Request(http.MethodGet, "/metrics", nil, ae...)
	apptest.Expect(t, m, http.StatusOK)
	body := m.Body.Bytes()
	if m.Header().Get("Content-Encoding") == "gzip" {
		body = gunzip(t, body)
	}
	if !bytes.Contains(body, []byte("spiffy_http_requests_total")) {
		t.Fatalf("/metrics unreadable: %.200q", body)
	}

	e := env.Request(http.MethodGet, "/api/v1/programs?limit=0", nil, "Authorization", "Bearer "+env.APIKey, "Accept-Encoding", "gzip")
	apptest.Expect(t, e, http.StatusBadRequest)
	if ce := e.Header().Get("Content-Encoding"); ce != "" || !strings.Contains(e.Body.String(), `"error"`) {
		t.Fatalf("JSON error: Content-Encoding %q, body %s", ce, e.Body)
	}
}
