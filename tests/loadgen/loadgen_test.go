package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app/provider"
)

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ { // 1..1000 ms
		h.add(time.Duration(i) * time.Millisecond)
	}
	cases := []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, 1000 * time.Millisecond}, {0.001, time.Millisecond}}
	for _, tc := range cases {
		got := h.quantile(tc.q)
		if diff := got - tc.want; diff < 0 || float64(diff) > 0.003*float64(tc.want) {
			t.Errorf("quantile(%v) = %s, want %s (+0.3%%)", tc.q, got, tc.want)
		}
	}
	if h.max != time.Second {
		t.Errorf("max %s, want 1s", h.max)
	}
	var merged histogram
	merged.merge(&h)
	merged.merge(&h)
	if merged.n != 2000 || merged.quantile(0.5) != h.quantile(0.5) {
		t.Errorf("merge: n %d, p50 %s; want 2000, %s", merged.n, merged.quantile(0.5), h.quantile(0.5))
	}
}

func TestHistBucketRoundTrip(t *testing.T) {
	for _, us := range []uint64{0, 1, 1023, 1024, 1025, 2047, 2048, 4095, 123456, 1 << 30} {
		b := histBucket(us)
		hi := histValue(b)
		if hi < us || float64(hi-us) > 0.002*float64(us)+1 {
			t.Errorf("value %d: bucket %d has upper end %d", us, b, hi)
		}
		if b > 0 && histValue(b-1) >= us {
			t.Errorf("value %d: previous bucket %d already reaches %d", us, b-1, histValue(b-1))
		}
	}
}

func TestReadResponse(t *testing.T) {
	cases := []struct {
		name, raw string
		status    int
		body      string
		closes    bool
		rest      string // what must be left unread (the next response)
	}{
		{"content-length", "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"lead\":\"x\"}NEXT", 201, `{"lead":"x"`, false, "}NEXT"},
		{"no content", "HTTP/1.1 204 No Content\r\nDate: x\r\n\r\nNEXT", 204, "", false, "NEXT"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\nNEXT", 200, "abcde", false, "NEXT"},
		{"connection close", "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", 429, "{}", true, ""},
		{"until EOF", "HTTP/1.0 200 OK\r\n\r\nall of it", 200, "all of it", true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReader(strings.NewReader(tc.raw))
			status, body, closes, err := readResponse(r)
			if err != nil || status != tc.status || string(body) != tc.body || closes != tc.closes {
				t.Fatalf("got %d %q close=%v err=%v; want %d %q close=%v", status, body, closes, err, tc.status, tc.body, tc.closes)
			}
			rest, _ := r.ReadString(0)
			if rest != tc.rest {
				t.Errorf("left %q unread, want %q", rest, tc.rest)
			}
		})
	}
	for _, bad := range []string{"", "SSH-2.0-OpenSSH\r\n", "HTTP/1.1 2x1 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"} {
		if _, _, _, err := readResponse(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("readResponse(%q) accepted a malformed response", bad)
		}
	}
}

func TestParseProc(t *testing.T) {
	stat := []byte("4242 (spiffy (x) y) S 1 4242 4242 0 -1 4194560 5000 0 0 0 250 130 0 0 20 0 9 0 100 1000000 2000 18446744073709551615")
	cpu, err := parseStatCPU(stat)
	if err != nil || cpu != 3800*time.Millisecond {
		t.Errorf("parseStatCPU = %s, %v; want 3.8s (250+130 ticks)", cpu, err)
	}
	if _, err := parseStatCPU([]byte("4242 (spiffy) S 1")); err == nil {
		t.Error("parseStatCPU accepted a short line")
	}
	if w := parseSchedstatWait([]byte("123456 7890000 42\n")); w != 7890*time.Microsecond {
		t.Errorf("parseSchedstatWait = %s, want 7.89ms", w)
	}
	m := parseStatus([]byte("Name:\tspiffy\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nRssAnon:\t   81920 kB\nRssFile:\t   20480 kB\n"))
	if m != (memStatus{RSS: 102400, HWM: 204800, Anon: 81920, File: 20480}) {
		t.Errorf("parseStatus = %+v", m)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:80", "http://127.3.2.1:9"} {
		if err := requireLoopbackURL(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:8080", "http://example.com", "https://127.0.0.1:8443", "127.0.0.1:8080", "http://0.0.0.0:80"} {
		if err := requireLoopbackURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestRunLoadAgainstBare drives the bare handler on loopback in both
// connection modes and checks the counts add up.
func TestRunLoadAgainstBare(t *testing.T) {
	srv := httptest.NewServer(newBareHandler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	build := func(closeEach bool) func() requestFunc {
		return func() requestFunc {
			return func(b []byte, w, n int) []byte {
				body := `{"ref":"x","vid":"` + strconv.Itoa(w) + "-" + strconv.Itoa(n) + `"}`
				b = append(b, "POST /t/click HTTP/1.1\r\nHost: "+addr+"\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n"...)
				if closeEach {
					b = append(b, "Connection: close\r\n"...)
				}
				return append(append(b, "\r\n"...), body...)
			}
		}
	}
	for _, closeEach := range []bool{false, true} {
		res, _ := runLoad(addr, 4, 10*time.Second, 25, closeEach, build(closeEach), nil)
		if res.ok != 100 || res.bad != 0 || res.netErrs != 0 || res.hist.n != 100 || res.statuses[204] != 100 {
			t.Errorf("close=%v: ok %d bad %d net %d (first %v) statuses %v; want 100 answers 204", closeEach, res.ok, res.bad, res.netErrs, res.firstErr, res.statuses)
		}
	}
	// A 404 counts as an error, not a success.
	notFound := func() requestFunc {
		return func(b []byte, w, n int) []byte {
			return append(b, "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"...)
		}
	}
	res, _ := runLoad(addr, 2, 10*time.Second, 5, false, notFound, nil)
	if res.ok != 0 || res.bad != 10 || !strings.HasPrefix(res.firstBody, "404") {
		t.Errorf("404s: ok %d bad %d first %q; want 10 counted as bad", res.ok, res.bad, res.firstBody)
	}
}

// The stripe target's requests are events Spiffy verifies and reads as
// sales carrying the load's referral, each with its own event and order id.
func TestStripeRequests(t *testing.T) {
	ref := "01JQ5Z8T3K7M2N4P6R8S0V2X4Y"
	e := &environment{opts: options{stripeSecret: newStripeSecret()}, baseURL: "http://127.0.0.1:9", runID: "t", refs: []string{ref}}
	_, build, err := e.builder("stripe", false)
	if err != nil {
		t.Fatal(err)
	}
	// Two factories (the warm-up's and the measured run's) send the same
	// worker and request numbers: their events must still differ.
	first, second := build(), build()
	seen := map[string]bool{}
	for n := range 4 {
		next := first
		if n >= 2 {
			next = second
		}
		raw := next(nil, 1, n%2)
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Fatal(err)
		}
		if req.URL.Path != "/integrations/stripe" || req.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("request %s %s, content type %q", req.Method, req.URL, req.Header.Get("Content-Type"))
		}
		ev, err := provider.Stripe(body, req.Header.Get("Stripe-Signature"), e.opts.stripeSecret)
		if err != nil {
			t.Fatalf("event %d: %v\n%s", n, err, body)
		}
		if ev.Kind != provider.KindSale || ev.Sale.Referral != ref || ev.Sale.Amount != 4900 || ev.Sale.Currency != "USD" ||
			!strings.HasPrefix(ev.Sale.OrderID, "pi_lg") || seen[ev.ID] || seen[ev.Sale.OrderID] {
			t.Fatalf("event %d: %+v, sale %+v", n, ev, ev.Sale)
		}
		seen[ev.ID], seen[ev.Sale.OrderID] = true, true
		if _, err := provider.Stripe(body, req.Header.Get("Stripe-Signature"), "whsec_other"); err == nil {
			t.Fatal("the signature holds under another secret")
		}
	}
}

// Open loop: requests are due at the rate whatever the server does, and a
// server slower than the rate shows as growing latency timed from each
// request's due time — where a closed loop would report one service time.
func TestRunOpenLoopTimesFromDueTime(t *testing.T) {
	const service = 4 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(service)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	build := func() requestFunc {
		return func(b []byte, w, n int) []byte {
			return append(b, "POST /t/click HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"...)
		}
	}
	// One connection serves at most 250 a second; 1,000 are due each second
	// for 0.3 s, so the last of the 300 waits about 300×4 ms − 0.3 s = 0.9 s.
	res, elapsed := runOpenLoop(addr, 1000, 300*time.Millisecond, 1, build, nil)
	if res.ok != 300 || res.bad+res.netErrs != 0 {
		t.Fatalf("ok %d bad %d net %d (first %v); want all 300 due requests answered", res.ok, res.bad, res.netErrs, res.firstErr)
	}
	if p50 := res.hist.quantile(0.5); p50 < 200*time.Millisecond {
		t.Errorf("p50 %s: latency is not timed from the due time (each request takes %s, the queue grows to ~0.9 s)", p50, service)
	}
	if elapsed < 300*service {
		t.Errorf("ran %s, less than the 300 requests' service time", elapsed)
	}
	if spans := stallSpans(res.slow, stallGap); len(spans) != 1 || spans[0].n < 250 || spans[0].worst < 800*time.Millisecond {
		t.Errorf("slow spans %v; want one holding nearly all 300 requests, worst about 0.9 s", spans)
	}

	// With connections to spare, the rate is kept and latency is the service.
	res, elapsed = runOpenLoop(addr, 200, 500*time.Millisecond, 16, build, nil)
	if res.ok != 100 || res.hist.quantile(0.99) > 100*time.Millisecond {
		t.Errorf("ok %d p99 %s; want 100 answers near the service time", res.ok, res.hist.quantile(0.99))
	}
	if elapsed < 450*time.Millisecond {
		t.Errorf("100 requests at 200/s sent in %s: the pacer did not wait", elapsed)
	}
}

// TestStallSpans joins slow requests due close together into one span and
// keeps the five spans with the most of them, in time order.
func TestStallSpans(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC)
	var slow []slowRequest
	add := func(at time.Duration, n int, latency time.Duration) {
		for i := range n {
			slow = append(slow, slowRequest{due: t0.Add(at + time.Duration(i)*time.Millisecond), latency: latency})
		}
	}
	add(0, 1, 20*time.Millisecond)                      // a span of one: dropped
	add(time.Second, 50, 90*time.Millisecond)           // 50 due 1 ms apart
	add(1099*time.Millisecond, 1, 400*time.Millisecond) // 50 ms after the last: joined
	for i := range 5 {
		add(time.Duration(3+i)*time.Second, 2+i, 30*time.Millisecond)
	}
	slices.Reverse(slow) // workers' results arrive in any order
	spans := stallSpans(slow, stallGap)
	if len(spans) != 5 {
		t.Fatalf("%d spans, want the 5 largest: %v", len(spans), spans)
	}
	first := spans[0]
	if !first.from.Equal(t0.Add(time.Second)) || first.n != 51 || first.worst != 400*time.Millisecond {
		t.Errorf("first span %v; want the 51 requests from +1 s, worst 400 ms", first)
	}
	for i := 1; i < 5; i++ {
		if !spans[i-1].from.Before(spans[i].from) {
			t.Errorf("spans out of time order: %v", spans)
		}
		if spans[i].n < 3 { // the spans of one and of two are dropped
			t.Errorf("span %v kept over larger ones", spans[i])
		}
	}
}

// TestNextPageLink finds a page's rel="next" link whatever the attribute
// order, unescaped, and nothing on a last page.
func TestNextPageLink(t *testing.T) {
	for _, tc := range []struct{ page, want string }{
		{`<a class="btn btn-sm" href="/leads?q=ada&amp;cursor=abc&amp;page=2" rel="next">Next page →</a>`, "/leads?q=ada&cursor=abc&page=2"},
		{`<a rel="next" href="/affiliates?after=01ABC">Next →</a>`, "/affiliates?after=01ABC"},
		{`<a href="/leads">← First page</a><span>Page 3</span>`, ""},
	} {
		if got := nextPage([]byte(tc.page)); got != tc.want {
			t.Errorf("nextPage(%q) = %q, want %q", tc.page, got, tc.want)
		}
	}
}

// TestSeedEmailsShareWords: each of the 100 words starts 1% of the seeded
// leads' emails, which is what the views' searches rely on.
func TestSeedEmailsShareWords(t *testing.T) {
	if len(firstNames) != 100 {
		t.Fatalf("%d words, want 100", len(firstNames))
	}
	fx := &viewsFixture{Run: "r1"}
	n := map[string]int{}
	for i := range 10_000 {
		word, _, _ := strings.Cut(fx.leadEmail(i), ".")
		n[word]++
	}
	for _, w := range firstNames {
		if n[w] != 100 {
			t.Errorf("%q starts %d of 10,000 emails, want 100", w, n[w])
		}
	}
}
