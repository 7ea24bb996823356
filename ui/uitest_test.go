package ui

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
)

// browser is a tiny cookie-keeping client against the real router, for
// page tests: it follows no redirects so tests can assert them.
type browser struct {
	t      *testing.T
	env    *apptest.Env
	srv    *httptest.Server
	client *http.Client
	ip     string // sent as X-Forwarded-For when set (see trustLoopback)
}

// newBrowser starts the full app (API + UI) on a loopback test server.
func newBrowser(t *testing.T, configure ...func(*config.Config)) *browser {
	t.Helper()
	env := apptest.New(t, configure...)
	if err := Mount(env.Server); err != nil {
		t.Fatalf("mount ui: %v", err)
	}
	srv := httptest.NewServer(env.Server.Echo)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, env: env, srv: srv, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// trustLoopback makes the server take the client IP from X-Forwarded-For
// sent by the test client (a reverse proxy on loopback), so that a test
// can come from several addresses: see browser.from.
func trustLoopback(c *config.Config) {
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	c.TrustedProxies = []*net.IPNet{loopback}
}

// from is a new browser (no cookies) on the same server whose requests
// come from ip, for a server configured with trustLoopback.
func (b *browser) from(ip string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: b.t, env: b.env, srv: b.srv, client: &http.Client{Jar: jar, CheckRedirect: b.client.CheckRedirect}, ip: ip}
}

// page is a fetched response with its body read.
type page struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	if b.ip != "" {
		req.Header.Set("X-Forwarded-For", b.ip)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return page{Status: resp.StatusCode, Body: sb.String(), Location: resp.Header.Get("Location"), Header: resp.Header}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	return b.do(req)
}

// post submits a form. The CSRF token is taken from the last page fetched
// from formPage (GET), as a person's browser would.
func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf fetches a page and returns the CSRF token of its first form.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfRe.FindStringSubmatch(p.Body)
	if m == nil {
		b.t.Fatalf("no csrf token on %s (status %d)", path, p.Status)
	}
	return m[1]
}

// submit fetches formPath for its token, then posts the form to action.
func (b *browser) submit(formPath, action string, form url.Values) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf(formPath))
	return b.post(action, form)
}

// sender sends scenarios (apptest.RunScenarios) as this browser: with its
// session cookies and the CSRF token of the page the form is on, as a
// form field or, for a JSON body, the X-CSRF-Token header.
func (b *browser) sender(formPage string) apptest.Sender {
	return func(t testing.TB, req *http.Request) (int, string) {
		t.Helper()
		token := b.csrf(formPage)
		if req.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
			raw, _ := io.ReadAll(req.Body)
			form, err := url.ParseQuery(string(raw))
			if err != nil {
				t.Fatal(err)
			}
			form.Set("csrf", token)
			req.Body = io.NopCloser(strings.NewReader(form.Encode()))
			req.ContentLength = -1
		} else {
			req.Header.Set("X-CSRF-Token", token)
		}
		u, err := url.Parse(b.srv.URL + req.URL.RequestURI())
		if err != nil {
			t.Fatal(err)
		}
		req.URL, req.Host, req.RequestURI = u, u.Host, ""
		p := b.do(req)
		return p.Status, p.Body
	}
}

// signInAdmin creates an admin (if needed) and signs this browser in.
func (b *browser) signInAdmin() {
	b.t.Helper()
	if has, _ := b.env.App.Views().HasAdmin(); !has {
		if _, err := b.env.App.CreateAdmin("owner@shop.example.com", "correct-horse"); err != nil {
			b.t.Fatal(err)
		}
	}
	p := b.submit("/login", "/login", url.Values{"email": {"owner@shop.example.com"}, "password": {"correct-horse"}})
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("sign in: status %d: %s", p.Status, p.Body)
	}
}

func expectStatus(t *testing.T, p page, status int) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d; body: %.600s", p.Status, status, p.Body)
	}
}
