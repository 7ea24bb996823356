package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
)

// LetsEncrypt is the ACME directory used when tls.acme_directory is not set.
const LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// TLS is built-in HTTPS (tls.*): with Domains set, Spiffy gets certificates
// for them from an ACME CA and serves HTTPS itself.
type TLS struct {
	Domains       []string // lower-case host names; empty = HTTPS off
	Email         string   // the ACME account's contact; "" = none
	ACMEDirectory string
	Listen        string
	// ACMECAFile is a PEM file of extra roots to trust for the ACME
	// directory's own HTTPS: a private CA (step-ca) or Pebble in tests.
	ACMECAFile string
}

// Enabled reports whether Spiffy serves HTTPS itself.
func (t TLS) Enabled() bool { return len(t.Domains) > 0 }

func tlsDomains(c *Config, v string) error {
	c.TLS.Domains = nil
	for _, d := range strings.Split(v, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if !validHostName(d) {
			return fmt.Errorf("want host names such as partners.shop.example (no scheme, port or wildcard): %q", d)
		}
		c.TLS.Domains = append(c.TLS.Domains, d)
	}
	return nil
}

// validHostName accepts what an ACME CA can issue for over HTTP-01: dotted
// DNS labels of letters, digits and hyphens. Wildcards need DNS-01, and a
// CA refuses IP addresses under the "dns" identifier type.
func validHostName(h string) bool {
	if len(h) > 253 || net.ParseIP(h) != nil || !strings.Contains(h, ".") {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func tlsEmail(c *Config, v string) error {
	v = strings.TrimSpace(v)
	if v != "" {
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
			return fmt.Errorf("want a plain email address such as you@shop.example")
		}
	}
	c.TLS.Email = v
	return nil
}

func tlsDirectory(c *Config, v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("want the https URL of an ACME directory")
	}
	c.TLS.ACMEDirectory = v
	return nil
}

func tlsListen(c *Config, v string) error {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return fmt.Errorf("want an address such as :443 or 0.0.0.0:443")
	}
	c.TLS.Listen = v
	return nil
}

// applyTLSDefaults makes the one-line start (`--tls-domains D`) complete:
// the HTTP listener moves to :80, where ACME's HTTP-01 challenge and
// browsers typing http://D arrive, and base_url becomes https://D, so links
// and the install code are right and cookies are Secure. Only settings the
// user left unset change.
func applyTLSDefaults(c *Config, set map[string]bool) {
	if !c.TLS.Enabled() {
		return
	}
	if !set["listen"] {
		c.Listen = ":80"
	}
	if !set["base_url"] {
		c.BaseURL = "https://" + c.TLS.Domains[0]
		if _, port, _ := net.SplitHostPort(c.TLS.Listen); port != "443" {
			c.BaseURL += ":" + port
		}
	}
}
