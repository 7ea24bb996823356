// Package https is Spiffy's built-in HTTPS (tls.*): certificates for the
// configured domains from an ACME CA (Let's Encrypt unless told otherwise)
// through golang.org/x/crypto/acme/autocert, kept in the store, renewed
// before they expire; and the plain-HTTP side, which answers the CA's
// HTTP-01 challenge and sends every other request to HTTPS.
package https

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/store"
)

// Manager gets, keeps and renews the certificates of the configured domains.
type Manager struct {
	acm     *autocert.Manager
	domains []string
	// portSuffix is ":8443" when HTTPS is not on 443, so redirects land on it.
	portSuffix string
	log        *slog.Logger
	cache      *storeCache
}

// New builds the manager for cfg (cfg.Enabled() must be true). The ACME
// account key and the certificates live in db.
func New(cfg config.TLS, db *store.DB, log *slog.Logger) (*Manager, error) {
	if !cfg.Enabled() {
		return nil, errors.New("https: no tls.domains")
	}
	httpClient := &http.Client{Timeout: time.Minute}
	if cfg.ACMECAFile != "" {
		roots, err := rootsWith(cfg.ACMECAFile)
		if err != nil {
			return nil, err
		}
		httpClient.Transport = &http.Transport{
			Proxy:           http.ProxyFromEnvironment,
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		}
	}
	m := &Manager{domains: slices.Clone(cfg.Domains), log: log, cache: &storeCache{db: db, directory: cfg.ACMEDirectory}}
	if _, port, _ := net.SplitHostPort(cfg.Listen); port != "443" {
		m.portSuffix = ":" + port
	}
	m.acm = &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      m.cache,
		HostPolicy: m.hostPolicy,
		Email:      cfg.Email,
		Client: &acme.Client{
			DirectoryURL: cfg.ACMEDirectory,
			HTTPClient:   httpClient,
			UserAgent:    "spiffy",
		},
	}
	return m, nil
}

// rootsWith is the system's roots plus the PEM certificates in file.
func rootsWith(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("https: tls.acme_ca_file: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("https: tls.acme_ca_file %s: no PEM certificate in it", file)
	}
	return roots, nil
}

// hostPolicy allows only the configured domains, so nobody can make Spiffy
// order certificates for names pointed at it. The port is dropped: a CA
// validating HTTP-01 on a port other than 80 (a test CA) sends it in Host.
func (m *Manager) hostPolicy(_ context.Context, host string) error {
	if !slices.Contains(m.domains, canonicalHost(host)) {
		return fmt.Errorf("https: %q is not one of tls.domains", host)
	}
	return nil
}

func canonicalHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// TLSConfig is the HTTPS listener's: certificates from the manager (and the
// tls-alpn-01 challenge answered in the handshake), TLS 1.2 at least.
func (m *Manager) TLSConfig() *tls.Config {
	c := m.acm.TLSConfig()
	c.MinVersion = tls.VersionTLS12
	return c
}

// HTTPHandler serves the plain-HTTP listener: the HTTP-01 challenge, and a
// redirect to the same path and query over HTTPS for everything else.
func (m *Manager) HTTPHandler() http.Handler {
	return m.acm.HTTPHandler(http.HandlerFunc(m.redirect))
}

// redirect sends a request to HTTPS: 301 for GET and HEAD, 308 otherwise
// so a form post is repeated as a post. A Host that is not ours goes to the
// first domain rather than to whatever the request named.
func (m *Manager) redirect(w http.ResponseWriter, r *http.Request) {
	host := canonicalHost(r.Host)
	if !slices.Contains(m.domains, host) {
		host = m.domains[0]
	}
	code := http.StatusPermanentRedirect
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		code = http.StatusMovedPermanently
	}
	http.Redirect(w, r, "https://"+host+m.portSuffix+r.URL.RequestURI(), code)
}

// Prefetch gets (from the store, or else from the CA) a certificate for
// every domain now, instead of in the first visitor's handshake, so that a
// misconfiguration (DNS not pointing here, port 80 closed) shows in the log
// at start. A failure is only logged: the next handshake tries again.
func (m *Manager) Prefetch(ctx context.Context) {
	for _, d := range m.domains {
		if ctx.Err() != nil {
			return
		}
		// A hello like a current browser's, so the ECDSA certificate that
		// such clients get is the one fetched.
		hello := &tls.ClientHelloInfo{
			ServerName:        d,
			SignatureSchemes:  []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
			SupportedCurves:   []tls.CurveID{tls.CurveP256},
			CipherSuites:      []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12},
		}
		cert, err := m.acm.GetCertificate(hello)
		if err != nil {
			if ctx.Err() != nil {
				return // stopping: not a problem to report
			}
			m.log.Error("https: no certificate yet", "domain", d, "err", err)
			continue
		}
		if cert.Leaf != nil {
			m.log.Info("https: certificate ready", "domain", d, "expires", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
	}
}

// Close ends the manager's use of the store, waiting for a read or write
// under way: a handshake or Prefetch may still be getting a certificate
// when the server stops, and the store is closed next. Later handshakes
// fail.
func (m *Manager) Close() { m.cache.close() }

// storeCache is autocert's cache in the store (see store/acme.go for why),
// kept apart per ACME directory.
type storeCache struct {
	db        *store.DB
	directory string
	mu        sync.RWMutex // held for reading by each store call, for writing by close
	closed    bool
}

var errClosed = errors.New("https: stopped")

// use runs fn unless the cache is closed.
func (c *storeCache) use(fn func() error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return errClosed
	}
	return fn()
}

func (c *storeCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

func (c *storeCache) Get(_ context.Context, name string) (b []byte, err error) {
	err = c.use(func() error {
		b, err = store.Read(c.db, func(tx *store.Tx) ([]byte, error) { return tx.ACMEEntry(c.directory, name) })
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, autocert.ErrCacheMiss
	}
	return b, err
}

func (c *storeCache) Put(_ context.Context, name string, data []byte) error {
	return c.use(func() error {
		return c.db.Update(func(tx *store.Tx) error { tx.SetACMEEntry(c.directory, name, data); return nil })
	})
}

func (c *storeCache) Delete(_ context.Context, name string) error {
	return c.use(func() error {
		return c.db.Update(func(tx *store.Tx) error { tx.DeleteACMEEntry(c.directory, name); return nil })
	})
}
