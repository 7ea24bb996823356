package web_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
)

// The client IP comes from X-Forwarded-For only when the peer is a
// configured proxy.
func TestClientIPBehindProxy(t *testing.T) {
	_, proxy, _ := net.ParseCIDR("10.1.0.0/16")
	cases := []struct {
		name    string
		trusted []*net.IPNet
		peer    string
		xff     string
		want    string
	}{
		{"no proxies: header ignored", nil, "203.0.113.5:1234", "198.51.100.1", "203.0.113.5"},
		{"trusted proxy", []*net.IPNet{proxy}, "10.1.2.3:1234", "198.51.100.1", "198.51.100.1"},
		{"untrusted peer", []*net.IPNet{proxy}, "203.0.113.5:1234", "198.51.100.1", "203.0.113.5"},
		{"spoofed chain", []*net.IPNet{proxy}, "10.1.2.3:1234", "1.2.3.4, 198.51.100.1", "198.51.100.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := apptest.New(t, func(c *config.Config) { c.TrustedProxies = tc.trusted })
			var got string
			env.Server.Echo.GET("/test-ip", func(c echo.Context) error { got = c.RealIP(); return nil })
			req := httptest.NewRequest(http.MethodGet, "/test-ip", nil)
			req.RemoteAddr = tc.peer
			req.Header.Set("X-Forwarded-For", tc.xff)
			env.Server.Echo.ServeHTTP(httptest.NewRecorder(), req)
			if got != tc.want {
				t.Fatalf("client IP %q, want %q", got, tc.want)
			}
		})
	}
}

// HSTS goes out on responses served over HTTPS — Spiffy's own TLS, or a
// trusted proxy's word — and never over plain HTTP, whatever a client
// claims.
func TestHSTSOnlyOverHTTPS(t *testing.T) {
	_, proxy, _ := net.ParseCIDR("10.1.0.0/16")
	cases := []struct {
		name    string
		trusted []*net.IPNet
		tls     bool
		peer    string
		proto   string
		want    bool
	}{
		{"own TLS", nil, true, "203.0.113.5:1234", "", true},
		{"plain HTTP", nil, false, "203.0.113.5:1234", "", false},
		{"plain HTTP claiming https, no proxies", nil, false, "203.0.113.5:1234", "https", false},
		{"trusted proxy over https", []*net.IPNet{proxy}, false, "10.1.2.3:1234", "https", true},
		{"trusted proxy over http", []*net.IPNet{proxy}, false, "10.1.2.3:1234", "http", false},
		{"untrusted peer claiming https", []*net.IPNet{proxy}, false, "203.0.113.5:1234", "https", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := apptest.New(t, func(c *config.Config) { c.TrustedProxies = tc.trusted })
			for _, path := range []string{"/healthz", "/no-such-page", "/api/v1/programs"} {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.RemoteAddr = tc.peer
				if tc.tls {
					req.TLS = &tls.ConnectionState{}
				}
				if tc.proto != "" {
					req.Header.Set("X-Forwarded-Proto", tc.proto)
				}
				rec := httptest.NewRecorder()
				env.Server.Echo.ServeHTTP(rec, req)
				got := rec.Header().Get("Strict-Transport-Security")
				if tc.want && got != "max-age=31536000" || !tc.want && got != "" {
					t.Errorf("%s: Strict-Transport-Security %q, want sent=%v", path, got, tc.want)
				}
			}
		})
	}
}
