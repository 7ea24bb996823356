package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spiffy.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigDefaults(t *testing.T) {
	c := Default()
	if c.Listen != ":8080" || c.DataDir != "./data" || c.DBDir() != "./data/db" || c.ExportsDir() != "./data/exports" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.Tracking.RateLimit != 20 || c.Exports.TTL != 24*time.Hour || c.Webhooks.Timeout != 10*time.Second || c.Webhooks.AllowPrivateTargets {
		t.Fatalf("defaults: %+v", c)
	}
	if c.MappedTablesMB != 64 {
		t.Fatalf("mapped_tables_mb %d, want 64", c.MappedTablesMB)
	}
	if c.MemoryLimitMB != 128 {
		t.Fatalf("memory_limit_mb %d, want 128", c.MemoryLimitMB)
	}
	if c, err := Load("", []string{"SPIFFY_MEMORY_LIMIT_MB=0"}, nil); err != nil || c.MemoryLimitMB != 0 {
		t.Fatalf("memory_limit_mb 0 (no limit): %d %v", c.MemoryLimitMB, err)
	}
	if c.Privacy.IPRetention != 30*24*time.Hour || c.Jobs.PrivacyRetention != "@every 1h" {
		t.Fatalf("privacy defaults: %v %q", c.Privacy.IPRetention, c.Jobs.PrivacyRetention)
	}
	// 0 keeps network details for ever; YAML may write it as a number.
	if c, err := Load(writeFile(t, "privacy:\n  ip_retention: 0\n"), nil, nil); err != nil || c.Privacy.IPRetention != 0 {
		t.Fatalf("privacy.ip_retention 0: %v %v", c.Privacy.IPRetention, err)
	}
	if c, err := Load("", []string{"SPIFFY_PRIVACY_IP_RETENTION=168h"}, nil); err != nil || c.Privacy.IPRetention != 7*24*time.Hour {
		t.Fatalf("privacy.ip_retention from env: %v %v", c.Privacy.IPRetention, err)
	}
}

func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "listen: \":7000\"\ndata_dir: /from/yaml\ntracking:\n  rate_limit: 5\n  allowed_origins: [\"https://a.example\", \"https://b.example/\"]\nwebhooks:\n  timeout: 3s\n")
	env := []string{"SPIFFY_DATA_DIR=/from/env", "SPIFFY_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true", "SPIFFY_TRACKING_RATE_LIMIT=7", "UNRELATED=1"}
	flags := map[string]string{"tracking.rate_limit": "9"}
	c, err := Load(file, env, flags)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":7000" { // yaml over default
		t.Errorf("listen %q", c.Listen)
	}
	if c.DataDir != "/from/env" { // env over yaml
		t.Errorf("data_dir %q", c.DataDir)
	}
	if c.Tracking.RateLimit != 9 { // flag over env over yaml
		t.Errorf("rate_limit %v", c.Tracking.RateLimit)
	}
	if !c.Webhooks.AllowPrivateTargets || c.Webhooks.Timeout != 3*time.Second {
		t.Errorf("webhooks %+v", c.Webhooks)
	}
	if strings.Join(c.Tracking.AllowedOrigins, ",") != "https://a.example,https://b.example" {
		t.Errorf("origins %v", c.Tracking.AllowedOrigins)
	}
	c, err = Load("", []string{"SPIFFY_TRACKING_ALLOWED_ORIGINS=https://x.example, https://y.example"}, nil)
	if err != nil || len(c.Tracking.AllowedOrigins) != 2 {
		t.Fatalf("comma-separated env list: %v %v", c.Tracking.AllowedOrigins, err)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name  string
		file  string
		env   []string
		flags map[string]string
		want  string
	}{
		{"bad duration in yaml", "exports:\n  ttl: forever\n", nil, nil, "exports.ttl"},
		{"unknown yaml key", "listn: \":1\"\n", nil, nil, "listn"},
		{"unreadable yaml", "listen: [\n", nil, nil, "unreadable YAML"},
		{"yaml not a mapping", "- a\n- b\n", nil, nil, "config file"},
		{"bad env bool", "", []string{"SPIFFY_WEBHOOKS_ALLOW_PRIVATE_TARGETS=maybe"}, nil, "SPIFFY_WEBHOOKS_ALLOW_PRIVATE_TARGETS"},
		{"bad flag number", "", nil, map[string]string{"tracking.rate_limit": "-1"}, "--tracking-rate-limit"},
		{"bad base url", "", nil, map[string]string{"base_url": "localhost:8080"}, "--base-url"},
		{"bad cron spec", "", nil, map[string]string{"jobs.backup": "every night"}, "--jobs-backup"},
		{"negative memory limit", "memory_limit_mb: -5\n", nil, nil, "memory_limit_mb"},
		{"bad mapped tables budget", "", []string{"SPIFFY_MAPPED_TABLES_MB=lots"}, nil, "SPIFFY_MAPPED_TABLES_MB"},
		{"bad log level", "", []string{"SPIFFY_LOG_LEVEL=loud"}, nil, "SPIFFY_LOG_LEVEL"},
		{"short secret", "", []string{"SPIFFY_SESSION_SECRET=short"}, nil, "SPIFFY_SESSION_SECRET"},
		{"negative retention", "", nil, map[string]string{"privacy.ip_retention": "-1h"}, "--privacy-ip-retention"},
		{"retention in days", "privacy:\n  ip_retention: 30d\n", nil, nil, "privacy.ip_retention"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := ""
			if tc.file != "" {
				file = writeFile(t, tc.file)
			}
			_, err := Load(file, tc.env, tc.flags)
			var ce *Error
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v does not name %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil, nil); err == nil {
		t.Fatal("missing config file accepted")
	}
}

// config.example.yaml documents every key with its default: it is generated
// from Keys, loads cleanly and yields the defaults.
func TestConfigExampleIsCurrent(t *testing.T) {
	b, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != ExampleYAML() {
		t.Fatal("config.example.yaml is stale: regenerate it from config.ExampleYAML()")
	}
	for _, k := range Keys {
		leaf := k.Name[strings.LastIndexByte(k.Name, '.')+1:]
		if !strings.Contains(string(b), leaf+":") {
			t.Errorf("example lacks %s", k.Name)
		}
	}
	c, err := Load("../../config.example.yaml", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if c.Listen != d.Listen || c.BaseURL != d.BaseURL || c.Exports.TTL != d.Exports.TTL || c.Jobs != d.Jobs || c.Log != d.Log {
		t.Fatalf("example does not load to the defaults:\n%+v\n%+v", c, d)
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := Load("", []string{"SPIFFY_TRUSTED_PROXIES=10.0.0.0/8, 192.0.2.7, ::1"}, nil)
	if err != nil || len(c.TrustedProxies) != 3 || c.TrustedProxies[1].String() != "192.0.2.7/32" {
		t.Fatalf("%v %v", c.TrustedProxies, err)
	}
	if _, err := Load("", []string{"SPIFFY_TRUSTED_PROXIES=nginx"}, nil); err == nil {
		t.Fatal("bad proxy accepted")
	}
}

func TestCookieDomain(t *testing.T) {
	for in, want := range map[string]string{"": "", ".Shop.Example": ".shop.example", "shop.example": "shop.example", " .partners-x.shop.test ": ".partners-x.shop.test"} {
		c, err := Load("", nil, map[string]string{"tracking.cookie_domain": in})
		if err != nil || c.Tracking.CookieDomain != want {
			t.Errorf("cookie_domain %q: %q, %v; want %q", in, c.Tracking.CookieDomain, err, want)
		}
	}
	for _, bad := range []string{".", "https://shop.example", "shop.example:8080", "shop.example/", "127.0.0.1", "shop..example", "-shop.example", "shop example", "shop.example."} {
		_, err := Load("", []string{"SPIFFY_TRACKING_COOKIE_DOMAIN=" + bad}, nil)
		if err == nil || !strings.Contains(err.Error(), "SPIFFY_TRACKING_COOKIE_DOMAIN") {
			t.Errorf("cookie_domain %q: error %v, want one naming the key", bad, err)
		}
	}
}
