//go:build acme

// Package acme tests Spiffy's built-in HTTPS end to end against Pebble, Let's
// Encrypt's test ACME server, on loopback:
//
//	go test -tags acme ./tests/acme/
//
// The test builds pebble from the Go module proxy and the spiffy binary,
// and fails (never skips) when either cannot be built or run.
package acme

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spiffy/spiffy/tests/internal/binary"
)

// domain is the test's public name; startDNS points it at 127.0.0.1 for
// pebble, and the test's client dials loopback for it.
const domain = "spiffy.test"

var spiffyBin string

func TestMain(m *testing.M) { binary.Main(m, &spiffyBin) }

// One run through the life of an HTTPS install: the first start gets a
// certificate from the CA over HTTP-01, serves HTTPS with HSTS, redirects
// plain HTTP; a restart serves the stored certificate without a new order.
func TestHTTPSWithACME(t *testing.T) {
	start := time.Now()
	pebbleBin := buildPebble(t)
	t.Logf("pebble built in %s", time.Since(start))
	httpAddr, httpsAddr := binary.FreeAddr(t), binary.FreeAddr(t)
	// Nothing listens on the tls-alpn-01 port pebble is given, so the only
	// way to a certificate is the HTTP-01 challenge on Spiffy's plain
	// listener (autocert tries tls-alpn-01 first, then HTTP-01).
	closedPort := portOf(t, binary.FreeAddr(t))
	p := startPebble(t, pebbleBin, startDNS(t, domain), portOf(t, httpAddr), closedPort)
	root, intermediate := p.Issuer(t)
	roots := x509.NewCertPool()
	roots.AddCert(root)
	client := clientFor(roots)

	dataDir := t.TempDir()
	args := []string{"serve", "--data-dir", dataDir, "--log-level", "info",
		"--listen", httpAddr, "--tls-listen", httpsAddr,
		"--tls-domains", domain, "--tls-email", "ops@spiffy.test",
		"--tls-acme-directory", p.Directory, "--tls-acme-ca-file", p.CAFile}
	httpsURL := "https://" + domain + ":" + portString(httpsAddr)

	// First start: the certificate is issued by pebble.
	s := startSpiffy(t, args, client, httpsURL)
	t.Logf("certificate issued and HTTPS served %s after start", time.Since(start))
	resp := get(t, client, httpsURL+"/healthz")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"ok"`) {
		t.Fatalf("GET /healthz over HTTPS: %d %s", resp.StatusCode, body)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("not served over TLS 1.2+: %+v", resp.TLS)
	}
	leaf := resp.TLS.PeerCertificates[0]
	inter := x509.NewCertPool()
	inter.AddCert(intermediate)
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: domain, Roots: roots, Intermediates: inter}); err != nil {
		t.Fatalf("certificate does not chain to pebble's root through its intermediate: %v", err)
	}
	if !bytes.Equal(leaf.RawIssuer, intermediate.RawSubject) {
		t.Fatalf("certificate issued by %q, want pebble's intermediate %q", leaf.Issuer, intermediate.Subject)
	}
	log := p.Log()
	if !strings.Contains(log, "Attempting to validate w/ HTTP: http://"+domain+":"+portString(httpAddr)+"/.well-known/acme-challenge/") ||
		!strings.Contains(log, "set VALID by completed challenge") {
		t.Fatalf("pebble did not validate over HTTP-01 on Spiffy's plain listener:\n%s", log)
	}

	// HSTS on HTTPS, on every kind of answer.
	for _, path := range []string{"/healthz", "/login", "/no-such-page"} {
		resp := get(t, client, httpsURL+path)
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("GET %s over HTTPS (%d): Strict-Transport-Security %q", path, resp.StatusCode, got)
		}
	}

	// Plain HTTP: a redirect to the same path and query over HTTPS, no HSTS.
	for _, tc := range []struct{ method, path string }{{"GET", "/portal/login?next=%2Fportal&x=1"}, {"POST", "/t/click"}} {
		req, _ := http.NewRequest(tc.method, "http://"+domain+":"+portString(httpAddr)+tc.path, strings.NewReader("{}"))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		wantCode := map[string]int{"GET": http.StatusMovedPermanently, "POST": http.StatusPermanentRedirect}[tc.method]
		if resp.StatusCode != wantCode || resp.Header.Get("Location") != httpsURL+tc.path {
			t.Errorf("%s %s over HTTP: %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Location"), wantCode, httpsURL+tc.path)
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("HSTS sent over plain HTTP")
		}
	}

	// TLS below 1.2 is refused.
	old := &tls.Config{RootCAs: roots, ServerName: domain, MaxVersion: tls.VersionTLS11}
	if c, err := tls.Dial("tcp", httpsAddr, old); err == nil {
		c.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}

	// Restart: the stored certificate is served, and pebble sees no new order.
	orders := strings.Count(p.Log(), "Added order")
	s.Signal(syscall.SIGTERM)
	if code := s.Wait(30 * time.Second); code != 0 {
		t.Fatalf("spiffy exited %d on SIGTERM\n%s", code, s.Output())
	}
	client.CloseIdleConnections()
	s = startSpiffy(t, args, client, httpsURL)
	resp = get(t, client, httpsURL+"/healthz")
	resp.Body.Close()
	again := resp.TLS.PeerCertificates[0]
	if again.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Fatalf("after a restart the certificate changed: serial %x, was %x", again.SerialNumber, leaf.SerialNumber)
	}
	s.WaitOutput(t, "https: certificate ready")
	if n := strings.Count(p.Log(), "Added order"); n != orders {
		t.Fatalf("a restart ordered again: %d orders at pebble, were %d", n, orders)
	}
}

// clientFor trusts roots, dials loopback for domain, and follows no redirect.
func clientFor(roots *x509.CertPool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 90 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, port, _ := net.SplitHostPort(addr)
				if host == domain {
					addr = net.JoinHostPort("127.0.0.1", port)
				}
				return dialer.DialContext(ctx, network, addr)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func get(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp
}

func portString(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// startSpiffy starts the binary and waits until /healthz answers over HTTPS
// (the first answer waits for the certificate).
func startSpiffy(t *testing.T, args []string, client *http.Client, httpsURL string) *binary.Server {
	t.Helper()
	return binary.Run(t, spiffyBin, args, 90*time.Second, func() bool { return binary.Healthy(client, httpsURL) })
}
