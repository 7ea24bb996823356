// Command whbench measures affiliate webhook delivery on the real binary:
//
//	go build -o /tmp/spiffy . && go run ./tests/webhooks/whbench -spiffy /tmp/spiffy
//
// It starts spiffy on a temporary data dir (loopback, private webhook
// targets allowed) and a loopback receiver answering 204, gives each of
// -affiliates affiliates an endpoint, and then:
//
//  1. idle: tracking latency (POST /t/click at a fixed -rate) with no
//     webhook work;
//  2. live: purchases posted as fast as -c connections allow for -d, each
//     queuing one purchase.created; deliveries per second as received;
//  3. backlog: with the receiver holding every request, -backlog purchases
//     are queued; then the receiver is released and the time to drain them
//     is measured while the same fixed-rate click load runs, whose p99 is
//     compared with the idle one.
//
// Only loopback addresses are used and every phase is bounded in time.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spiffy/spiffy/tests/internal/metrics"
)

type options struct {
	spiffy     string
	affiliates int
	conns      int
	duration   time.Duration
	backlog    int
	rate       int
	extra      string
}

func main() {
	var o options
	flag.StringVar(&o.spiffy, "spiffy", "", "path to the spiffy binary (required)")
	flag.IntVar(&o.affiliates, "affiliates", 20, "affiliates, each with one endpoint")
	flag.IntVar(&o.conns, "c", 32, "connections posting purchases")
	flag.DurationVar(&o.duration, "d", 15*time.Second, "length of the live phase")
	flag.IntVar(&o.backlog, "backlog", 100000, "messages in the backlog phase")
	flag.IntVar(&o.rate, "rate", 1000, "tracking requests per second while measuring latency")
	flag.StringVar(&o.extra, "spiffy-args", "", "extra flags for spiffy serve")
	child := flag.String("receiver-child", "", "internal: run only the receiver on this loopback address")
	flag.Parse()
	if *child != "" {
		serveReceiver(*child)
		return
	}
	if o.spiffy == "" || o.affiliates < 1 || o.affiliates > 1000 || o.conns < 1 || o.conns > 256 ||
		o.backlog < 1 || o.backlog > 1000000 || o.rate < 1 || o.rate > 20000 || o.duration > 10*time.Minute {
		fmt.Fprintln(os.Stderr, "whbench: bad flags (see -h); -spiffy is required")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "whbench:", err)
		os.Exit(1)
	}
}

// receiver counts distinct webhook-ids answered 2xx; while holding it
// keeps requests waiting.
type receiver struct {
	mu      sync.Mutex
	seen    map[string]bool
	release chan struct{}
	holding atomic.Bool
	n       atomic.Int64 // distinct ids delivered
	reqs    atomic.Int64
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	rc.reqs.Add(1)
	if rc.holding.Load() {
		rc.mu.Lock()
		ch := rc.release
		rc.mu.Unlock()
		select {
		case <-ch:
		case <-r.Context().Done():
			return
		}
	}
	id := r.Header.Get("webhook-id")
	rc.mu.Lock()
	if !rc.seen[id] {
		rc.seen[id] = true
		rc.n.Add(1)
	}
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// serveReceiver runs the receiver in its own process, so that its work
// does not slow the latency probe's goroutines down (they would share a Go
// runtime), with /_count, /_hold and /_release for the parent.
func serveReceiver(addr string) {
	rc := &receiver{seen: map[string]bool{}, release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/_count", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, rc.n.Load()) })
	mux.HandleFunc("/_hold", func(w http.ResponseWriter, r *http.Request) { rc.hold() })
	mux.HandleFunc("/_release", func(w http.ResponseWriter, r *http.Request) { rc.unhold() })
	mux.Handle("/", rc)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		fmt.Fprintln(os.Stderr, "whbench: receiver must listen on 127.0.0.1")
		os.Exit(2)
	}
	if err := http.ListenAndServe(addr, mux); err != nil {
		fmt.Fprintln(os.Stderr, "whbench receiver:", err)
		os.Exit(1)
	}
}

// remote drives the receiver child.
type remote struct{ base string }

func (r remote) n() int64 {
	resp, err := http.Get(r.base + "/_count")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	v, _ := strconv.ParseInt(string(b), 10, 64)
	return v
}

func (r remote) post(path string) {
	if resp, err := http.Post(r.base+path, "text/plain", nil); err == nil {
		resp.Body.Close()
	}
}

func (rc *receiver) hold() {
	rc.mu.Lock()
	rc.release = make(chan struct{})
	rc.mu.Unlock()
	rc.holding.Store(true)
}

func (rc *receiver) unhold() {
	rc.holding.Store(false)
	rc.mu.Lock()
	close(rc.release)
	rc.mu.Unlock()
}

type bench struct {
	o      options
	base   string
	key    string
	pid    int
	hc     *http.Client
	prg    string
	refs   [][]string // per affiliate: referral ids
	orders atomic.Int64
}

func run(o options) error {
	if !strings.HasPrefix(o.spiffy, "/") && !strings.HasPrefix(o.spiffy, ".") {
		o.spiffy = "./" + o.spiffy
	}
	fmt.Printf("machine: %s/%s, %d CPUs, %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	recvAddr := ln.Addr().String()
	ln.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	recvCmd := exec.Command(self, "-receiver-child", recvAddr)
	recvCmd.Stderr = os.Stderr
	recvCmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := recvCmd.Start(); err != nil {
		return err
	}
	defer recvCmd.Process.Kill()
	recvURL := "http://" + recvAddr
	if err := waitHTTP(recvURL + "/_count"); err != nil {
		return err
	}
	rc := remote{base: recvURL}

	dir, err := os.MkdirTemp("", "spiffy-whbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keyCmd := exec.Command(o.spiffy, "apikey", "create", "--name", "whbench", "--data-dir", dir)
	keyCmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GODEBUG=") })
	out, err := keyCmd.Output()
	if err != nil {
		return fmt.Errorf("apikey create: %v: %s", err, out)
	}
	words := strings.Fields(string(out))
	b := &bench{o: o, key: words[len(words)-1], hc: &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln2.Addr().String()
	ln2.Close()
	args := append([]string{"serve", "--data-dir", dir, "--listen", addr, "--base-url", "http://" + addr,
		"--tracking-rate-limit", "1000000000", "--log-level", "warn", "--webhooks-allow-private-targets", "true",
		"--webhooks-timeout", "120s"}, strings.Fields(o.extra)...)
	cmd := exec.Command(o.spiffy, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	b.base, b.pid = "http://"+addr, cmd.Process.Pid
	if err := waitHTTP(b.base + "/healthz"); err != nil {
		return err
	}
	fmt.Printf("spiffy %s (pid %d), data dir %s, %d affiliates with one endpoint each; RSS %s\n\n", args[0], b.pid, filepath.Base(dir), o.affiliates, rss(b.pid))
	if err := b.setup(recvURL); err != nil {
		return err
	}

	// 1. Idle tracking latency.
	time.Sleep(time.Second)
	st0, t0 := b.stats(), time.Now()
	idle := b.clicks(10 * time.Second)
	fmt.Printf("1. idle tracking: %d clicks at %d/s: p50 %s, p99 %s, max %s, errors %d; %s\n",
		idle.n, o.rate, ms(idle.p(50)), ms(idle.p(99)), ms(idle.max), idle.errs, b.stats().since(st0, time.Since(t0)))

	// 2. Live: purchases as fast as they are acknowledged.
	start := time.Now()
	cpu0 := cpuTime(b.pid)
	before := rc.n()
	posted := b.purchases(o.conns, func(n int64) bool { return time.Since(start) < o.duration })
	el := time.Since(start)
	deliveredIn := rc.n() - before
	lagStart := time.Now()
	for rc.n()-before < posted && time.Since(lagStart) < time.Minute {
		time.Sleep(20 * time.Millisecond)
	}
	lag := time.Since(lagStart)
	cpu := cpuTime(b.pid) - cpu0
	fmt.Printf("2. live: %d purchases in %s = %.0f/s acknowledged; %d delivered in that time = %.0f/s; all delivered %s after the last; spiffy CPU %.0f%% of one core, RSS %s\n",
		posted, el.Round(time.Millisecond), float64(posted)/el.Seconds(), deliveredIn, float64(deliveredIn)/el.Seconds(), lag.Round(time.Millisecond),
		100*cpu.Seconds()/time.Since(start).Seconds(), rss(b.pid))

	// 3. Backlog: queue with the receiver holding, then release and drain.
	rc.post("/_hold")
	before = rc.n()
	start = time.Now()
	queued := b.purchases(o.conns, func(n int64) bool { return n < int64(o.backlog) })
	fmt.Printf("3. backlog: %d purchases queued in %s with the receiver holding; spiffy RSS %s\n",
		queued, time.Since(start).Round(time.Millisecond), rss(b.pid))
	time.Sleep(2 * time.Second)
	latc := make(chan latencies, 1)
	stopClicks := make(chan struct{})
	go func() { latc <- b.clicksUntil(stopClicks, 5*time.Minute) }()
	time.Sleep(time.Second)
	cpu0 = cpuTime(b.pid)
	st0 = b.stats()
	start = time.Now()
	rc.post("/_release")
	for rc.n()-before < queued && time.Since(start) < 5*time.Minute {
		time.Sleep(20 * time.Millisecond)
	}
	drain := time.Since(start)
	cpu = cpuTime(b.pid) - cpu0
	inside := b.stats().since(st0, drain)
	close(stopClicks)
	busy := <-latc
	got := rc.n() - before
	fmt.Printf("   drained %d of %d in %s = %.0f deliveries/s; spiffy CPU %.0f%% of one core; RSS %s\n",
		got, queued, drain.Round(time.Millisecond), float64(got)/drain.Seconds(), 100*cpu.Seconds()/drain.Seconds(), rss(b.pid))
	fmt.Printf("   tracking meanwhile: %d clicks at %d/s: p50 %s, p99 %s (%.1f× idle), max %s, errors %d; %s\n",
		busy.n, o.rate, ms(busy.p(50)), ms(busy.p(99)), float64(busy.p(99))/float64(idle.p(99)), ms(busy.max), busy.errs, inside)
	if got < queued {
		return fmt.Errorf("only %d of %d messages delivered", got, queued)
	}
	return nil
}

func (b *bench) api(method, path string, body, out any) error {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, b.base+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+b.key)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (b *bench) setup(recvURL string) error {
	var prg struct{ ID string }
	if err := b.api("POST", "/api/v1/programs", map[string]any{"name": "Bench", "landing_url": "https://shop.example.com/",
		"share_purchasers": true, "commission_type": "percent", "commission_value": "30"}, &prg); err != nil {
		return err
	}
	b.prg = prg.ID
	for i := range b.o.affiliates {
		var af struct{ ID string }
		if err := b.api("POST", "/api/v1/affiliates", map[string]any{"name": fmt.Sprint("Partner ", i),
			"email": fmt.Sprintf("p%d@partners.example.com", i), "password": "bench-password"}, &af); err != nil {
			return err
		}
		code := fmt.Sprint("bench", i)
		if err := b.api("POST", "/api/v1/programs/"+b.prg+"/affiliates", map[string]any{"affiliate_id": af.ID, "code": code}, nil); err != nil {
			return err
		}
		if err := b.api("POST", "/api/v1/affiliates/"+af.ID+"/webhooks", map[string]any{"url": fmt.Sprintf("%s/hook/%d", recvURL, i),
			"events": []string{"purchase.created"}}, nil); err != nil {
			return err
		}
		var refs []string
		for j := range 8 {
			var click struct{ Referral string }
			if err := b.api("POST", "/t/click", map[string]any{"ref": code, "vid": fmt.Sprintf("v%d-%d", i, j)}, &click); err != nil {
				return err
			}
			refs = append(refs, click.Referral)
		}
		b.refs = append(b.refs, refs)
	}
	return nil
}

// purchases posts attributed purchases from conns workers while more(n)
// says so, and returns how many were acknowledged with 201.
func (b *bench) purchases(conns int, more func(n int64) bool) int64 {
	var acked, started atomic.Int64
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := started.Add(1)
				if !more(n - 1) {
					return
				}
				i := b.orders.Add(1)
				a := int(i) % len(b.refs)
				body := map[string]any{"order_id": fmt.Sprint("o", i), "program": b.prg, "email": fmt.Sprintf("buyer%d@example.com", i),
					"amount": "49.00", "currency": "USD", "referral": b.refs[a][w%len(b.refs[a])]}
				if err := b.api("POST", "/api/v1/purchases", body, nil); err == nil {
					acked.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return acked.Load()
}

type latencies struct {
	d    []time.Duration
	n    int
	errs int
	max  time.Duration
}

func (l latencies) p(q int) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	return l.d[min(len(l.d)-1, len(l.d)*q/100)]
}

func (b *bench) clicks(d time.Duration) latencies {
	stop := make(chan struct{})
	time.AfterFunc(d, func() { close(stop) })
	return b.clicksUntil(stop, d+time.Second)
}

// clicksUntil posts clicks at a fixed rate (open loop: latency counts from
// the scheduled send time, so a stalled server cannot hide its queue).
func (b *bench) clicksUntil(stop chan struct{}, limit time.Duration) latencies {
	interval := time.Second / time.Duration(b.o.rate)
	jobs := make(chan time.Time, 4096)
	var mu sync.Mutex
	var res latencies
	var wg sync.WaitGroup
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	for range 128 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := []byte(`{"ref":"bench0","vid":"lat"}`)
			for at := range jobs {
				resp, err := hc.Post(b.base+"/t/click", "application/json", bytes.NewReader(body))
				lat := time.Since(at)
				ok := err == nil && resp.StatusCode == 201
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				res.n++
				if ok {
					res.d = append(res.d, lat)
					res.max = max(res.max, lat)
				} else {
					res.errs++
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	deadline := start.Add(limit)
	next := start
loop:
	for time.Now().Before(deadline) {
		select {
		case <-stop:
			break loop
		default:
		}
		now := time.Now()
		for !next.After(now) {
			jobs <- next
			next = next.Add(interval)
		}
		time.Sleep(next.Sub(now))
	}
	close(jobs)
	wg.Wait()
	slices.Sort(res.d)
	return res
}

// serverStats reads, from spiffy's /metrics, the server-side time spent in
// POST /t/click (sum and count) and the store writer's commits so far.
type serverStats struct{ clickSum, clickCount, commits float64 }

func (b *bench) stats() serverStats {
	m, err := metrics.Scrape(b.base)
	if err != nil {
		return serverStats{}
	}
	click := `route="/t/click"`
	return serverStats{
		clickSum:   m.Sum("spiffy_http_request_duration_seconds_sum", click),
		clickCount: m.Sum("spiffy_http_request_duration_seconds_count", click),
		commits:    m.Sum("spiffy_store_write_batches_total"),
	}
}

// since describes the server side of a phase: mean /t/click time inside
// spiffy and commits per second.
func (s serverStats) since(prev serverStats, d time.Duration) string {
	n := s.clickCount - prev.clickCount
	mean := 0.0
	if n > 0 {
		mean = (s.clickSum - prev.clickSum) / n * 1000
	}
	return fmt.Sprintf("inside spiffy: click mean %.2f ms, %.0f commits/s", mean, (s.commits-prev.commits)/d.Seconds())
}

func waitHTTP(u string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("spiffy did not become healthy")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// cpuTime is the process's user+system CPU time from /proc.
func cpuTime(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * time.Second / 100 // USER_HZ
}

func rss(pid int) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func cpuModel() string {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}
