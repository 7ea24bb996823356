package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestSignatureVerifiesWithStandardWebhooksLibrary(t *testing.T) {
	secret := NewSecret()
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q lacks whsec_", secret)
	}
	key, err := SecretKey(secret)
	if err != nil || len(key) != 24 || strings.ContainsAny(secret, "+=") {
		t.Fatalf("SecretKey: %d bytes, %v", len(key), err)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"test","timestamp":"2026-01-02T03:04:05Z","data":{"id":"x"}}`)
	now := time.Now()
	sig := Sign(key, "msg_1", now, body)
	h := http.Header{}
	h.Set(HeaderID, "msg_1")
	h.Set(HeaderTimestamp, fmt.Sprint(now.Unix()))
	h.Set(HeaderSignature, sig)
	if err := wh.Verify(body, h); err != nil {
		t.Fatalf("library rejects our signature: %v", err)
	}
	// The library's own signature is byte for byte ours.
	libSig, err := wh.Sign("msg_1", now, body)
	if err != nil || libSig != sig {
		t.Fatalf("library signs %q, we sign %q (%v)", libSig, sig, err)
	}
	// Any change to id, timestamp or body breaks it.
	for name, mutate := range map[string]func(h http.Header, b []byte) []byte{
		"id":        func(h http.Header, b []byte) []byte { h.Set(HeaderID, "msg_2"); return b },
		"timestamp": func(h http.Header, b []byte) []byte { h.Set(HeaderTimestamp, fmt.Sprint(now.Unix()-1)); return b },
		"body":      func(h http.Header, b []byte) []byte { return append([]byte(nil), append(b[:len(b)-1], ' ', '}')...) },
	} {
		h2 := h.Clone()
		b2 := mutate(h2, append([]byte(nil), body...))
		if err := wh.Verify(b2, h2); err == nil {
			t.Errorf("changed %s still verifies", name)
		}
	}
}

func TestSecretKeyRejectsBadSecrets(t *testing.T) {
	for _, s := range []string{"", "whsec_", "abc", "whsec_!!!", "whsek_AAAA"} {
		if _, err := SecretKey(s); !errors.Is(err, ErrBadSecret) {
			t.Errorf("SecretKey(%q) = %v, want ErrBadSecret", s, err)
		}
	}
}

func TestRetrySchedule(t *testing.T) {
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	for i, w := range want {
		d, ok := RetryDelay(i + 1)
		if !ok || d != w {
			t.Errorf("after %d tries: %v %v, want %v", i+1, d, ok, w)
		}
	}
	if _, ok := RetryDelay(MaxTries); ok {
		t.Errorf("a retry after %d tries", MaxTries)
	}
	if got := DescribeSchedule(); !strings.Contains(got, "5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h") {
		t.Errorf("DescribeSchedule = %q", got)
	}
}

func TestPublicAddr(t *testing.T) {
	cases := map[string]bool{
		"93.184.216.34": true, "8.8.8.8": true, "2606:4700::1111": true, "1.1.1.1": true,
		"127.0.0.1": false, "127.8.9.1": false, "10.0.0.1": false, "172.16.5.4": false, "192.168.1.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "100.127.255.254": false, "0.0.0.0": false, "0.1.2.3": false,
		"224.0.0.1": false, "239.255.255.250": false, "255.255.255.255": false, "240.0.0.1": false,
		"192.0.2.10": false, "198.18.0.1": false, "::1": false, "::": false, "fe80::1": false,
		"fc00::1": false, "fd12:3456::1": false, "ff02::1": false, "::ffff:127.0.0.1": false,
		"::ffff:10.1.2.3": false, "::ffff:8.8.8.8": true, "64:ff9b::a00:1": false, "64:ff9b::808:808": true,
		"2002:7f00:1::": false, "2001:db8::1": false, "fec0::1": false,
	}
	for s, want := range cases {
		if got := PublicAddr(netip.MustParseAddr(s)); got != want {
			t.Errorf("PublicAddr(%s) = %v, want %v", s, got, want)
		}
	}
}

// fakeLookup answers from a table, like a DNS server we control.
func fakeLookup(table map[string][]string) LookupFunc {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		ips, ok := table[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		var out []netip.Addr
		for _, s := range ips {
			out = append(out, netip.MustParseAddr(s))
		}
		return out, nil
	}
}

func TestGuardCheckURL(t *testing.T) {
	g := Guard{Lookup: fakeLookup(map[string][]string{
		"hooks.example.com": {"93.184.216.34"},
		"internal.example":  {"10.0.0.5"},
		"mixed.example":     {"93.184.216.34", "127.0.0.1"},
		"v6local.example":   {"::1"},
	})}
	cases := []struct {
		url    string
		ok     bool
		reason string
	}{
		{"https://hooks.example.com/zap?x=1", true, ""},
		{"http://93.184.216.34:8443/in", true, ""},
		{"http://127.0.0.1:8080/hook", false, "127.0.0.1 is not a public"},
		{"http://10.1.2.3/hook", false, "10.1.2.3"},
		{"http://169.254.169.254/latest/meta-data", false, "169.254.169.254"},
		{"http://[::1]:9000/", false, "::1"},
		{"http://[::ffff:127.0.0.1]/", false, "127.0.0.1"},
		{"http://localhost:3000/", false, "this machine"},
		{"http://api.localhost/", false, "this machine"},
		{"https://internal.example/", false, "resolves to 10.0.0.5"},
		{"https://mixed.example/", false, "resolves to 127.0.0.1"},
		{"https://v6local.example/", false, "resolves to ::1"},
		{"https://nowhere.example/", false, "does not exist"},
		{"ftp://hooks.example.com/", false, "absolute http"},
		{"/relative", false, "absolute http"},
		{"https://user:pw@hooks.example.com/", false, "user name or password"},
		{"https://hooks.example.com/#frag", false, "fragment"},
		{"https://hooks.example.com/" + strings.Repeat("a", 2100), false, "longer than"},
	}
	for _, c := range cases {
		_, err := g.CheckURL(context.Background(), c.url)
		if c.ok != (err == nil) {
			t.Errorf("CheckURL(%.60s) = %v, want ok=%v", c.url, err, c.ok)
			continue
		}
		var te *TargetError
		if !c.ok && (!errors.As(err, &te) || !strings.Contains(te.Reason, c.reason)) {
			t.Errorf("CheckURL(%.60s) = %v, want a TargetError mentioning %q", c.url, err, c.reason)
		}
	}
	// With private targets allowed only the syntax is checked.
	open := Guard{AllowPrivate: true}
	if _, err := open.CheckURL(context.Background(), "http://127.0.0.1:1/"); err != nil {
		t.Errorf("AllowPrivate: %v", err)
	}
	if _, err := open.CheckURL(context.Background(), "gopher://x/"); err == nil {
		t.Errorf("AllowPrivate accepted a gopher URL")
	}
}

// TestClientRefusesNonPublicAtDial checks the connect-time guard: whatever
// the URL looked like when it was saved, the address being connected to is
// checked, so DNS rebinding and literal private addresses both fail without
// a request reaching the server.
func TestClientRefusesNonPublicAtDial(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	srv6 := listen6(t, &hits)

	// "rebind.example" resolved to a public address when saved; now it
	// resolves to loopback.
	lookup := fakeLookup(map[string][]string{"rebind.example": {"127.0.0.1"}, "localhost": {"127.0.0.1", "::1"}})
	c := NewClient(ClientOptions{Timeout: 2 * time.Second, Lookup: lookup})
	urls := []string{
		srv.URL,
		fmt.Sprintf("http://rebind.example:%d/", port),
		fmt.Sprintf("http://localhost:%d/", port),
		fmt.Sprintf("http://10.255.255.1:%d/", port),
		fmt.Sprintf("http://169.254.169.254:%d/", port),
	}
	if srv6 != "" {
		urls = append(urls, srv6)
	}
	for _, u := range urls {
		res := c.Send(context.Background(), Request{URL: u, Secret: NewSecret(), ID: "m", Timestamp: time.Now(), Body: []byte(`{}`)})
		var te *TargetError
		if res.OK() || !errors.As(res.Err, &te) || !strings.HasPrefix(res.Detail, "refused:") {
			t.Errorf("%s: result %+v, want a refusal", u, res)
		}
	}
	// The system resolver path too (no Lookup): "localhost" resolves to loopback.
	sys := NewClient(ClientOptions{Timeout: 2 * time.Second})
	res := sys.Send(context.Background(), Request{URL: fmt.Sprintf("http://localhost:%d/", port), Secret: NewSecret(), ID: "m", Timestamp: time.Now(), Body: []byte(`{}`)})
	var te *TargetError
	if !errors.As(res.Err, &te) {
		t.Errorf("system resolver localhost: %+v, want a refusal", res)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the loopback server", n)
	}
	// Allowed, the same server is reached.
	ok := NewClient(ClientOptions{Timeout: 2 * time.Second, AllowPrivate: true})
	if res := ok.Send(context.Background(), Request{URL: srv.URL, Secret: NewSecret(), ID: "m", Timestamp: time.Now(), Body: []byte(`{}`)}); !res.OK() {
		t.Fatalf("AllowPrivate send: %+v", res)
	}
}

// listen6 starts a server on [::1] when the machine has IPv6 loopback.
func listen6(t *testing.T, hits *atomic.Int32) string {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return ""
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) })}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestClientSendsSignedRequest(t *testing.T) {
	secret := NewSecret()
	wh, _ := standardwebhooks.NewWebhook(secret)
	got := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get(HeaderID) != "msg_abc" {
			got <- fmt.Errorf("headers %v", r.Header)
		} else {
			got <- wh.Verify(body, r.Header)
		}
		w.WriteHeader(204)
	}))
	defer srv.Close()
	c := NewClient(ClientOptions{Timeout: 2 * time.Second, AllowPrivate: true})
	res := c.Send(context.Background(), Request{URL: srv.URL, Secret: secret, ID: "msg_abc", Timestamp: time.Now(), Body: []byte(`{"type":"test"}`)})
	if !res.OK() || res.StatusCode != 204 {
		t.Fatalf("result %+v", res)
	}
	if err := <-got; err != nil {
		t.Fatalf("receiver: %v", err)
	}
}

func TestClientFailures(t *testing.T) {
	block := make(chan struct{})
	var redirectedHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/target", http.StatusFound) })
	mux.HandleFunc("/target", func(w http.ResponseWriter, r *http.Request) { redirectedHits.Add(1) })
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, "database\n  down "+strings.Repeat("x", 10000))
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		io.WriteString(w, strings.Repeat("y", 1<<20))
	})
	srv := httptest.NewServer(mux)
	defer func() { close(block); srv.Close() }()
	c := NewClient(ClientOptions{Timeout: 300 * time.Millisecond, AllowPrivate: true})
	send := func(path string) Result {
		return c.Send(context.Background(), Request{URL: srv.URL + path, Secret: NewSecret(), ID: "m", Timestamp: time.Now(), Body: []byte(`{}`)})
	}
	if r := send("/redirect"); r.OK() || r.StatusCode != 302 || !strings.Contains(r.Detail, "not followed") {
		t.Errorf("redirect: %+v", r)
	}
	if redirectedHits.Load() != 0 {
		t.Errorf("redirect was followed")
	}
	if r := send("/500"); r.OK() || r.StatusCode != 500 || !strings.HasPrefix(r.Detail, "HTTP 500: database down x") || len(r.Detail) > 250 {
		t.Errorf("500: %+v", r)
	}
	start := time.Now()
	if r := send("/hang"); r.OK() || r.StatusCode != 0 || !strings.Contains(r.Detail, "no answer within 300ms") {
		t.Errorf("hang: %+v", r)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("timeout took %v", el)
	}
	if r := send("/big"); !r.OK() {
		t.Errorf("big 200 body: %+v", r)
	}
	if r := c.Send(context.Background(), Request{URL: srv.URL, Secret: "nope", ID: "m", Timestamp: time.Now()}); r.OK() || !errors.Is(r.Err, ErrBadSecret) {
		t.Errorf("bad secret: %+v", r)
	}
	// Connection refused: a port nothing listens on.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if r := c.Send(context.Background(), Request{URL: "http://" + addr + "/", Secret: NewSecret(), ID: "m", Timestamp: time.Now()}); r.OK() || r.Detail != "connection refused" {
		t.Errorf("refused: %+v", r)
	}
}
