package config

import (
	"errors"
	"strings"
	"testing"
)

func TestTLSOffByDefault(t *testing.T) {
	c := Default()
	if c.TLS.Enabled() || c.TLS.ACMEDirectory != LetsEncrypt || c.TLS.Listen != ":443" {
		t.Fatalf("tls defaults: %+v", c.TLS)
	}
	if c.Listen != ":8080" || c.BaseURL != "http://localhost:8080" {
		t.Fatalf("plain defaults changed: %q %q", c.Listen, c.BaseURL)
	}
}

// The one-line production start sets only the domains: HTTP moves to :80
// and base_url to https://<first domain>; what the user set stays.
func TestTLSDomainsSetListenAndBaseURLUnlessGiven(t *testing.T) {
	c, err := Load("", nil, map[string]string{"tls.domains": " Partners.Shop.example, go.shop.example ", "tls.email": "you@shop.example"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.TLS.Domains, ",") != "partners.shop.example,go.shop.example" || c.TLS.Email != "you@shop.example" {
		t.Fatalf("tls: %+v", c.TLS)
	}
	if c.Listen != ":80" || c.BaseURL != "https://partners.shop.example" {
		t.Fatalf("listen %q base_url %q", c.Listen, c.BaseURL)
	}

	file := writeFile(t, "listen: \"127.0.0.1:8081\"\ntls:\n  domains: [a.example]\n  listen: \":8443\"\n")
	c, err = Load(file, []string{"SPIFFY_BASE_URL=https://b.example"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8081" || c.BaseURL != "https://b.example" || c.TLS.Listen != ":8443" {
		t.Fatalf("given settings overridden: listen %q base_url %q tls.listen %q", c.Listen, c.BaseURL, c.TLS.Listen)
	}

	c, err = Load("", []string{"SPIFFY_TLS_DOMAINS=a.example", "SPIFFY_TLS_LISTEN=:8443"}, nil)
	if err != nil || c.BaseURL != "https://a.example:8443" {
		t.Fatalf("base_url on a non-standard port: %q %v", c.BaseURL, err)
	}
}

func TestTLSBadValuesNameTheKey(t *testing.T) {
	cases := []struct {
		flags map[string]string
		want  string
	}{
		{map[string]string{"tls.domains": "https://a.example"}, "--tls-domains"},
		{map[string]string{"tls.domains": "a.example:443"}, "--tls-domains"},
		{map[string]string{"tls.domains": "*.a.example"}, "--tls-domains"},
		{map[string]string{"tls.domains": "192.0.2.1"}, "--tls-domains"},
		{map[string]string{"tls.domains": "localhost"}, "--tls-domains"},
		{map[string]string{"tls.domains": "a..example"}, "--tls-domains"},
		{map[string]string{"tls.email": "not an email"}, "--tls-email"},
		{map[string]string{"tls.email": "You <you@shop.example>"}, "--tls-email"},
		{map[string]string{"tls.acme_directory": "http://acme.example/dir"}, "--tls-acme-directory"},
		{map[string]string{"tls.listen": "443"}, "--tls-listen"},
	}
	for _, tc := range cases {
		_, err := Load("", nil, tc.flags)
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %v does not name %q on one line", tc.flags, err, tc.want)
		}
	}
}
