package https

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/acme/autocert"

	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/store"
)

func openStore(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(store.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newManager(t *testing.T, listen string) *Manager {
	t.Helper()
	db := openStore(t, t.TempDir())
	t.Cleanup(func() { db.Close() })
	cfg := config.Default().TLS
	cfg.Domains = []string{"partners.shop.example", "go.shop.example"}
	cfg.Listen = listen
	m, err := New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRedirectsToHTTPSKeepingPathAndQuery(t *testing.T) {
	cases := []struct {
		listen, method, host, target string
		wantCode                     int
		wantLocation                 string
	}{
		{":443", "GET", "partners.shop.example", "/portal/login?next=%2Fportal&x=1", http.StatusMovedPermanently, "https://partners.shop.example/portal/login?next=%2Fportal&x=1"},
		{":443", "HEAD", "GO.shop.example:80", "/", http.StatusMovedPermanently, "https://go.shop.example/"},
		{":443", "POST", "partners.shop.example", "/t/click", http.StatusPermanentRedirect, "https://partners.shop.example/t/click"},
		// A Host that is not ours never becomes the redirect's target.
		{":443", "GET", "evil.example", "/login", http.StatusMovedPermanently, "https://partners.shop.example/login"},
		{"127.0.0.1:8443", "GET", "go.shop.example:8080", "/a?b=c", http.StatusMovedPermanently, "https://go.shop.example:8443/a?b=c"},
	}
	for _, tc := range cases {
		m := newManager(t, tc.listen)
		req := httptest.NewRequest(tc.method, "http://"+tc.host+tc.target, nil)
		req.Host = tc.host
		rec := httptest.NewRecorder()
		m.HTTPHandler().ServeHTTP(rec, req)
		if rec.Code != tc.wantCode || rec.Header().Get("Location") != tc.wantLocation {
			t.Errorf("%s %s%s (https on %s): %d %q, want %d %q", tc.method, tc.host, tc.target, tc.listen,
				rec.Code, rec.Header().Get("Location"), tc.wantCode, tc.wantLocation)
		}
		if rec.Header().Get("Strict-Transport-Security") != "" {
			t.Errorf("HSTS sent over plain HTTP")
		}
	}
}

// The challenge path is answered, not redirected: the CA fetches it over
// plain HTTP. A token nobody asked for is a 404, a foreign host a 403.
func TestChallengePathIsNotRedirected(t *testing.T) {
	m := newManager(t, ":443")
	for host, want := range map[string]int{"partners.shop.example": 404, "partners.shop.example:5002": 404, "evil.example": 403} {
		req := httptest.NewRequest("GET", "http://"+host+"/.well-known/acme-challenge/unknown-token", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		m.HTTPHandler().ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("challenge for %s: %d, want %d", host, rec.Code, want)
		}
	}
}

func TestHostPolicyAllowsOnlyTheDomains(t *testing.T) {
	m := newManager(t, ":443")
	for host, ok := range map[string]bool{
		"partners.shop.example": true, "Partners.Shop.Example.": true, "go.shop.example:443": true,
		"shop.example": false, "x.partners.shop.example": false, "": false,
	} {
		if err := m.hostPolicy(context.Background(), host); (err == nil) != ok {
			t.Errorf("hostPolicy(%q) = %v, want allowed=%v", host, err, ok)
		}
	}
	cfg := m.TLSConfig()
	if cfg.MinVersion < 0x0303 || cfg.GetCertificate == nil {
		t.Fatalf("tls config: min version %x", cfg.MinVersion)
	}
}

// The cache is the store: what is put survives closing and reopening it,
// a miss is autocert's miss, delete removes, and each ACME directory has
// its own entries.
func TestCacheLivesInTheStore(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db := openStore(t, dir)
	c := &storeCache{db: db, directory: config.LetsEncrypt}
	if _, err := c.Get(ctx, "partners.shop.example"); !errors.Is(err, autocert.ErrCacheMiss) {
		t.Fatalf("empty cache: %v, want ErrCacheMiss", err)
	}
	pem := []byte("-----BEGIN EC PRIVATE KEY-----\nxyz\n-----END EC PRIVATE KEY-----\n")
	if err := c.Put(ctx, "acme_account+key", pem); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, "partners.shop.example", []byte("cert")); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "partners.shop.example"); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "never.stored"); err != nil {
		t.Fatalf("deleting a missing entry: %v", err)
	}
	db.Close()

	db = openStore(t, dir)
	defer db.Close()
	c = &storeCache{db: db, directory: config.LetsEncrypt}
	if got, err := c.Get(ctx, "acme_account+key"); err != nil || string(got) != string(pem) {
		t.Fatalf("after reopening: %q %v", got, err)
	}
	if _, err := c.Get(ctx, "partners.shop.example"); !errors.Is(err, autocert.ErrCacheMiss) {
		t.Fatalf("deleted entry: %v, want ErrCacheMiss", err)
	}
	// Another directory (staging, a test CA) has its own account and
	// certificates: nothing of Let's Encrypt's is served for it, nor back.
	staging := &storeCache{db: db, directory: "https://acme-staging-v02.api.letsencrypt.org/directory"}
	if _, err := staging.Get(ctx, "acme_account+key"); !errors.Is(err, autocert.ErrCacheMiss) {
		t.Fatalf("another directory sees the account key: %v", err)
	}
	// Once closed (the server stopping), the store is left alone.
	c.close()
	if _, err := c.Get(ctx, "acme_account+key"); !errors.Is(err, errClosed) {
		t.Fatalf("get after close: %v", err)
	}
	if err := c.Put(ctx, "x", []byte("y")); !errors.Is(err, errClosed) {
		t.Fatalf("put after close: %v", err)
	}
}

func TestACMECAFileErrors(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	cfg := config.Default().TLS
	cfg.Domains = []string{"partners.shop.example"}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{filepath.Join(t.TempDir(), "missing.pem"), notPEM} {
		cfg.ACMECAFile = file
		_, err := New(cfg, db, slog.Default())
		if err == nil || !strings.Contains(err.Error(), "tls.acme_ca_file") {
			t.Errorf("ca file %s: %v, want an error naming tls.acme_ca_file", file, err)
		}
	}
	cfg.Domains = nil
	if _, err := New(cfg, db, slog.Default()); err == nil {
		t.Error("no domains accepted")
	}
}
