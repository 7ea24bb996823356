// Package config loads Spiffy's settings: built-in defaults, a YAML file, SPIFFY_*
// environment variables and flags, in that order, from one table of keys that
// also renders config.example.yaml. It also holds the one cron-spec parser
// that both the config check and the job scheduler use.
package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is everything Spiffy reads from defaults, a YAML file, the
// environment and flags, in that order of precedence (later wins).
type Config struct {
	Listen        string
	BaseURL       string
	DataDir       string
	SessionSecret string
	// TrustedProxies are the networks whose X-Forwarded-For is believed
	// (a reverse proxy in front of Spiffy); empty = use the peer address.
	TrustedProxies []*net.IPNet
	// MemoryLimitMB is the Go heap's soft limit for the server (0 = none).
	// With Go's default the heap grows to twice what is live; under write
	// load that doubled the resident size (docs/PERFORMANCE.md).
	MemoryLimitMB int
	// MappedTablesMB bounds the resident part of the store's mapped table
	// files (store.Options.MappedTables; 0 = none).
	MappedTablesMB int

	Tracking struct {
		AllowedOrigins []string // empty = any origin
		RateLimit      float64  // requests per second per IP; burst is twice this
		// CookieDomain, when set, makes /t/click set spiffy_ref and
		// spiffy_vid with Set-Cookie for this domain (leading dot kept as
		// written; lower-case host name, no port).
		CookieDomain string
	}
	Exports struct {
		TTL time.Duration
	}
	// HTTP bounds slow clients: a body trickled in or a response read
	// slowly cannot hold a connection for ever.
	HTTP struct {
		ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	}
	Metrics struct {
		Token string // when set, /metrics needs "Authorization: Bearer <token>"
	}
	Debug struct {
		// PprofListen, when set, serves Go's profiles and execution traces
		// (net/http/pprof) on this loopback address, to find where the
		// time of a measured run goes (docs/PERFORMANCE.md).
		PprofListen string
	}
	Webhooks struct {
		Timeout             time.Duration
		AllowPrivateTargets bool
		Concurrency         int
	}
	Jobs struct {
		WebhookRetries     string // cron specs; "" disables a job
		ApproveCommissions string
		ExportCleanup      string
		StoreGC            string
		Backup             string
		Mail               string
		SessionSweep       string
		PrivacyRetention   string
	}
	// Privacy bounds how long visitors' network details stay whole.
	Privacy struct {
		// IPRetention is how long a click's or lead's full IP address and
		// user agent are kept; after it the IP keeps only its network and
		// the user agent is dropped. 0 keeps them for ever.
		IPRetention time.Duration
	}
	// SMTP is where mail goes; with no Host nothing is mailed.
	SMTP SMTP
	// TLS is built-in HTTPS with ACME certificates; off without domains.
	TLS     TLS
	Backups struct {
		Keep int
	}
	// Integrations holds the payment providers' webhook signing secrets;
	// empty means "as set in Settings → Integrations" (kept in the store).
	Integrations struct {
		Stripe, Paddle, LemonSqueezy struct {
			WebhookSecret string
		}
	}
	Log struct {
		Level  string // debug | info | warn | error
		Format string // text | json
	}
}

// DBDir is where Badger keeps its files.
func (c *Config) DBDir() string { return c.DataDir + "/db" }

// ExportsDir is where export files are written.
func (c *Config) ExportsDir() string { return c.DataDir + "/exports" }

// BackupsDir is where the scheduled backup job writes.
func (c *Config) BackupsDir() string { return c.DataDir + "/backups" }

// WebhookSecret is the signing secret the config sets for a payment
// provider, named as its integrations.* key is ("stripe", "paddle",
// "lemonsqueezy"); "" when none.
func (c *Config) WebhookSecret(provider string) string {
	switch provider {
	case "stripe":
		return c.Integrations.Stripe.WebhookSecret
	case "paddle":
		return c.Integrations.Paddle.WebhookSecret
	case "lemonsqueezy":
		return c.Integrations.LemonSqueezy.WebhookSecret
	}
	return ""
}

// Key describes one setting: its dotted name, default and parser. The
// same table drives YAML, environment variables, flags and config.example.yaml.
type Key struct {
	Name    string
	Default string
	Help    string
	set     func(c *Config, v string) error
}

// EnvName is the environment variable for the key: SPIFFY_ + upper-cased, '.' → '_'.
func (k Key) EnvName() string {
	return "SPIFFY_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(k.Name))
}

// FlagName is the command-line flag for the key: '.' and '_' → '-'.
func (k Key) FlagName() string { return strings.NewReplacer(".", "-", "_", "-").Replace(k.Name) }

func str(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *dst(c) = v; return nil }
}

func dur(dst func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("want a positive duration such as 10s, 5m or 24h")
		}
		*dst(c) = d
		return nil
	}
}

func boolean(dst func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		*dst(c) = b
		return nil
	}
}

// mebibytes parses a size in MiB where 0 means "no limit".
func mebibytes(dst func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("want a whole number of MiB, or 0 for no limit")
		}
		*dst(c) = n
		return nil
	}
}

func positiveInt(dst func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("want a whole number of at least 1")
		}
		*dst(c) = n
		return nil
	}
}

func oneOf(dst func(*Config) *string, allowed ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		for _, a := range allowed {
			if v == a {
				*dst(c) = v
				return nil
			}
		}
		return fmt.Errorf("want one of %s", strings.Join(allowed, ", "))
	}
}

// Keys lists every setting, in the order config.example.yaml documents them.
var Keys = []Key{
	{"listen", ":8080", "address the HTTP server listens on", str(func(c *Config) *string { return &c.Listen })},
	{"base_url", "http://localhost:8080", "public URL of this server, used in links, the install code and cookie security",
		func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("want an absolute http or https URL")
			}
			c.BaseURL = strings.TrimRight(v, "/")
			return nil
		}},
	{"data_dir", "./data", "directory for the database (db/), exports (exports/) and backups (backups/)",
		func(c *Config, v string) error {
			if v == "" {
				return fmt.Errorf("must not be empty")
			}
			c.DataDir = strings.TrimRight(v, "/")
			if c.DataDir == "" {
				c.DataDir = "/"
			}
			return nil
		}},
	{"session_secret", "", "secret for signing session cookies; empty = generated on first start and kept in the store",
		func(c *Config, v string) error {
			if v != "" && len(v) < 32 {
				return fmt.Errorf("want at least 32 characters")
			}
			c.SessionSecret = v
			return nil
		}},
	{"trusted_proxies", "", "reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For gives the client IP; empty = none",
		func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, p := range strings.Split(v, ",") {
				p = strings.TrimSpace(p)
				if p == "" {
					continue
				}
				if !strings.Contains(p, "/") {
					if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
						p += "/32"
					} else {
						p += "/128"
					}
				}
				_, n, err := net.ParseCIDR(p)
				if err != nil {
					return fmt.Errorf("want IP addresses or CIDR ranges such as 10.0.0.0/8")
				}
				c.TrustedProxies = append(c.TrustedProxies, n)
			}
			return nil
		}},
	{"memory_limit_mb", "128", "soft limit on the Go heap, in MiB: the garbage collector works harder near it instead of letting the heap double; 0 = no limit (GOMEMLIMIT in the environment wins)",
		mebibytes(func(c *Config) *int { return &c.MemoryLimitMB })},
	{"mapped_tables_mb", "64", "budget in MiB for the server's file-backed resident memory, mostly the store's mapped table files: past it, older tables' pages go back to the kernel (Linux); 0 = leave them to the kernel",
		mebibytes(func(c *Config) *int { return &c.MappedTablesMB })},
	{"tracking.allowed_origins", "", "origins allowed to call /t/* (comma-separated); empty = any origin",
		func(c *Config, v string) error {
			c.Tracking.AllowedOrigins = nil
			for _, o := range strings.Split(v, ",") {
				if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
					c.Tracking.AllowedOrigins = append(c.Tracking.AllowedOrigins, o)
				}
			}
			return nil
		}},
	{"tracking.rate_limit", "20", "tracking requests per second per IP (burst twice that)",
		func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 {
				return fmt.Errorf("want a positive number")
			}
			c.Tracking.RateLimit = f
			return nil
		}},
	{"tracking.cookie_domain", "", "the merchant's domain (e.g. .shop.example with Spiffy at partners.shop.example, or behind data-api): /t/click then sets spiffy_ref and spiffy_vid with Set-Cookie for it, which Safari keeps for the program's cookie window; empty = SpiffyJS sets them itself",
		func(c *Config, v string) error {
			v = strings.ToLower(strings.TrimSpace(v))
			host := strings.TrimPrefix(v, ".")
			if v != "" && (host == "" || net.ParseIP(host) != nil || strings.Trim(host, "abcdefghijklmnopqrstuvwxyz0123456789-.") != "" ||
				strings.Contains(host, "..") || strings.HasPrefix(host, "-") || strings.HasSuffix(host, ".")) {
				return fmt.Errorf("want a domain name such as .shop.example (no scheme, port or path)")
			}
			c.Tracking.CookieDomain = v
			return nil
		}},
	{"http.read_timeout", "30s", "how long a client may take to send a request, body included", dur(func(c *Config) *time.Duration { return &c.HTTP.ReadTimeout })},
	{"http.write_timeout", "5m", "how long a response may take to send (long enough for a streamed CSV of a million rows)", dur(func(c *Config) *time.Duration { return &c.HTTP.WriteTimeout })},
	{"http.idle_timeout", "120s", "how long an idle keep-alive connection stays open", dur(func(c *Config) *time.Duration { return &c.HTTP.IdleTimeout })},
	{"metrics.token", "", "when set, /metrics needs the header Authorization: Bearer <token>; empty = open", str(func(c *Config) *string { return &c.Metrics.Token })},
	{"exports.ttl", "24h", "how long export files are kept", dur(func(c *Config) *time.Duration { return &c.Exports.TTL })},
	{"webhooks.timeout", "10s", "how long a webhook receiver has to answer", dur(func(c *Config) *time.Duration { return &c.Webhooks.Timeout })},
	{"webhooks.allow_private_targets", "false", "allow webhook URLs on loopback and private networks",
		boolean(func(c *Config) *bool { return &c.Webhooks.AllowPrivateTargets })},
	{"webhooks.concurrency", "64", "webhook deliveries in flight at once (receivers such as Zapier answer in ~200 ms)", positiveInt(func(c *Config) *int { return &c.Webhooks.Concurrency })},
	{"jobs.webhook_retries", "@every 5s", "cron spec: deliver webhook messages that are due", cronSpec(func(c *Config) *string { return &c.Jobs.WebhookRetries })},
	{"jobs.approve_commissions", "@every 1m", "cron spec: approve the commissions whose hold period has ended", cronSpec(func(c *Config) *string { return &c.Jobs.ApproveCommissions })},
	{"jobs.export_cleanup", "@every 10m", "cron spec: delete expired export files", cronSpec(func(c *Config) *string { return &c.Jobs.ExportCleanup })},
	{"jobs.store_gc", "@every 15m", "cron spec: Badger value-log garbage collection", cronSpec(func(c *Config) *string { return &c.Jobs.StoreGC })},
	{"jobs.backup", "", "cron spec: write a backup into data_dir/backups (e.g. \"0 3 * * *\"); empty = off",
		cronSpec(func(c *Config) *string { return &c.Jobs.Backup })},
	{"jobs.mail", "@every 10s", "cron spec: send queued mail that is due (retries; new mail goes out at once)", cronSpec(func(c *Config) *string { return &c.Jobs.Mail })},
	{"jobs.session_sweep", "@every 1h", "cron spec: delete expired sign-in sessions and reset links", cronSpec(func(c *Config) *string { return &c.Jobs.SessionSweep })},
	{"jobs.privacy_retention", "@every 1h", "cron spec: truncate the IP addresses and drop the user agents of clicks and leads older than privacy.ip_retention", cronSpec(func(c *Config) *string { return &c.Jobs.PrivacyRetention })},
	{"privacy.ip_retention", "720h", "how long clicks and leads keep the visitor's full IP address and user agent; after it the IP keeps only its network (IPv4 /24, IPv6 /48) and the user agent is dropped (docs/PRIVACY.md); 0 = keep them for ever",
		func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("want 0 (keep for ever) or a positive duration such as 720h")
			}
			c.Privacy.IPRetention = d
			return nil
		}},
	{"integrations.stripe.webhook_secret", "", "Stripe webhook signing secret (whsec_…); empty = as set in Settings → Integrations",
		str(func(c *Config) *string { return &c.Integrations.Stripe.WebhookSecret })},
	{"integrations.paddle.webhook_secret", "", "Paddle Billing notification secret (pdl_ntfset_…); empty = as set in Settings → Integrations",
		str(func(c *Config) *string { return &c.Integrations.Paddle.WebhookSecret })},
	{"integrations.lemonsqueezy.webhook_secret", "", "Lemon Squeezy webhook signing secret; empty = as set in Settings → Integrations",
		str(func(c *Config) *string { return &c.Integrations.LemonSqueezy.WebhookSecret })},
	{"smtp.host", "", "SMTP server for invites, password resets and notices; empty = nothing is mailed (the UI shows links to copy)",
		str(func(c *Config) *string { return &c.SMTP.Host })},
	{"smtp.port", "587", "SMTP server port", smtpPort},
	{"smtp.username", "", "SMTP user name; empty = no authentication", str(func(c *Config) *string { return &c.SMTP.Username })},
	{"smtp.password", "", "SMTP password", str(func(c *Config) *string { return &c.SMTP.Password })},
	{"smtp.from", "", "sender of every mail, with the program owner's name shown to recipients (Settings → Brand's name wins when set), e.g. \"Acme Partners <partners@acme.example>\"", smtpFrom},
	{"smtp.tls", "starttls", "starttls (upgrade a plain connection; required), tls (implicit TLS, usually port 465) or none",
		oneOf(func(c *Config) *string { return &c.SMTP.TLS }, "starttls", "tls", "none")},
	{"smtp.ca_file", "", "PEM file of extra certificate authorities to trust for the SMTP server (a relay with a private CA); empty = the system's",
		str(func(c *Config) *string { return &c.SMTP.CAFile })},
	{"tls.domains", "", "host names (comma-separated) to serve HTTPS for with certificates from ACME; empty = plain HTTP only. When set, listen (default then :80) answers the HTTP-01 challenge and redirects to HTTPS, and base_url defaults to https://<first domain>",
		tlsDomains},
	{"tls.email", "", "contact address for the ACME account (expiry and incident notices from the CA); empty = none", tlsEmail},
	{"tls.acme_directory", LetsEncrypt, "ACME directory URL (Let's Encrypt by default; its staging directory for trials)", tlsDirectory},
	{"tls.listen", ":443", "address the HTTPS server listens on when tls.domains is set", tlsListen},
	{"tls.acme_ca_file", "", "PEM file of extra certificate authorities to trust for the ACME directory itself (a private ACME CA such as step-ca, or Pebble in tests); empty = the system's",
		str(func(c *Config) *string { return &c.TLS.ACMECAFile })},
	{"backups.keep", "7", "how many scheduled backups to keep", positiveInt(func(c *Config) *int { return &c.Backups.Keep })},
	{"debug.pprof_listen", "", "loopback address (127.0.0.1:6060) serving Go's profiles and execution traces at /debug/pprof/ for measuring; empty = off", pprofListen},
	{"log.level", "info", "debug, info, warn or error", oneOf(func(c *Config) *string { return &c.Log.Level }, "debug", "info", "warn", "error")},
	{"log.format", "text", "text or json", oneOf(func(c *Config) *string { return &c.Log.Format }, "text", "json")},
}

// pprofListen accepts only a loopback address: profiles show the
// program's insides and a trace stops the world, nothing for the network.
func pprofListen(c *Config, v string) error {
	if v != "" {
		host, _, err := net.SplitHostPort(v)
		ip := net.ParseIP(host)
		if err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return fmt.Errorf("want a loopback address such as 127.0.0.1:6060")
		}
	}
	c.Debug.PprofListen = v
	return nil
}

// cronSpec checks a spec with the same parser the scheduler uses.
func cronSpec(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if v != "" {
			if _, err := ParseCronSpec(v); err != nil {
				return fmt.Errorf("want a cron spec (\"*/5 * * * *\", \"@every 5s\") or empty: %v", err)
			}
		}
		*dst(c) = v
		return nil
	}
}

// Error names the key or flag whose value is wrong.
type Error struct {
	Source string // "flag --listen", "SPIFFY_LISTEN", "config.yaml: listen"
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("invalid %s: %v", e.Source, e.Err) }

// Default is the configuration with nothing but built-in defaults.
func Default() Config {
	var c Config
	for _, k := range Keys {
		if err := k.set(&c, k.Default); err != nil {
			panic("config: bad default for " + k.Name + ": " + err.Error())
		}
	}
	return c
}

// Load builds the configuration: defaults, then the YAML file (when
// file is not empty), then SPIFFY_* variables from env, then flags (keyed by
// dotted name). Every error names the key and where it came from.
func Load(file string, env []string, flags map[string]string) (Config, error) {
	c := Default()
	set := map[string]bool{} // keys given by the file, the environment or a flag
	byName := map[string]Key{}
	for _, k := range Keys {
		byName[k.Name] = k
	}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return c, &Error{Source: "config file " + file, Err: err}
		}
		var tree map[string]any
		if err := yaml.Unmarshal(raw, &tree); err != nil {
			oneLine := strings.Join(strings.Fields(err.Error()), " ")
			return c, &Error{Source: "config file " + file, Err: fmt.Errorf("unreadable YAML: %s", oneLine)}
		}
		flat := map[string]string{}
		if err := flatten("", tree, flat); err != nil {
			return c, &Error{Source: "config file " + file, Err: err}
		}
		names := make([]string, 0, len(flat))
		for n := range flat {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			k, ok := byName[n]
			if !ok {
				return c, &Error{Source: file + ": " + n, Err: fmt.Errorf("unknown key")}
			}
			if err := k.set(&c, flat[n]); err != nil {
				return c, &Error{Source: file + ": " + n, Err: err}
			}
			set[n] = true
		}
	}
	envMap := map[string]string{}
	for _, kv := range env {
		if i := strings.IndexByte(kv, '='); i > 0 {
			envMap[kv[:i]] = kv[i+1:]
		}
	}
	for _, k := range Keys {
		if v, ok := envMap[k.EnvName()]; ok {
			if err := k.set(&c, v); err != nil {
				return c, &Error{Source: k.EnvName(), Err: err}
			}
			set[k.Name] = true
		}
	}
	for _, k := range Keys {
		if v, ok := flags[k.Name]; ok {
			if err := k.set(&c, v); err != nil {
				return c, &Error{Source: "flag --" + k.FlagName(), Err: err}
			}
			set[k.Name] = true
		}
	}
	if err := checkSMTP(&c); err != nil {
		return c, err
	}
	applyTLSDefaults(&c, set)
	return c, nil
}

// flatten turns nested YAML maps into dotted keys; lists become
// comma-separated values.
func flatten(prefix string, v any, out map[string]string) error {
	switch t := v.(type) {
	case map[string]any:
		for k, sub := range t {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			if err := flatten(name, sub, out); err != nil {
				return err
			}
		}
	case []any:
		parts := make([]string, 0, len(t))
		for _, e := range t {
			parts = append(parts, fmt.Sprint(e))
		}
		out[prefix] = strings.Join(parts, ",")
	case nil:
		out[prefix] = ""
	case map[any]any:
		return fmt.Errorf("%s: keys must be strings", prefix)
	default:
		if prefix == "" {
			return fmt.Errorf("want a mapping of keys to values")
		}
		out[prefix] = fmt.Sprint(t)
	}
	return nil
}

// ExampleYAML renders config.example.yaml from Keys, so the file can
// never drift from the code (a test compares them).
func ExampleYAML() string {
	var b strings.Builder
	b.WriteString("# Spiffy configuration. Every key with its default.\n")
	b.WriteString("# Precedence: defaults < this file (--config FILE or SPIFFY_CONFIG) < SPIFFY_<KEY> env < --flags.\n")
	b.WriteString("# Env: upper-case, '.' -> '_' (tracking.rate_limit -> SPIFFY_TRACKING_RATE_LIMIT); lists comma-separated.\n")
	b.WriteString("# Flags: '.' and '_' -> '-' (--tracking-rate-limit). Durations: 10s, 5m, 24h.\n")
	section := ""
	for _, k := range Keys {
		name := k.Name
		if i := strings.IndexByte(name, '.'); i > 0 {
			if sec := name[:i]; sec != section {
				section = sec
				fmt.Fprintf(&b, "\n%s:\n", sec)
			}
			fmt.Fprintf(&b, "  # %s\n  %s: %s\n", k.Help, name[i+1:], yamlValue(k))
			continue
		}
		fmt.Fprintf(&b, "\n# %s\n%s: %s\n", k.Help, name, yamlValue(k))
	}
	return b.String()
}

func yamlValue(k Key) string {
	if k.Name == "tracking.allowed_origins" || k.Name == "trusted_proxies" || k.Name == "tls.domains" {
		return "[]"
	}
	if k.Default == "" {
		return `""`
	}
	if strings.ContainsAny(k.Default, "@:*# ") || k.Default == "true" || k.Default == "false" {
		if _, err := strconv.ParseBool(k.Default); err == nil {
			return k.Default
		}
		return strconv.Quote(k.Default)
	}
	return k.Default
}
