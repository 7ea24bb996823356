// Command loadgen drives Spiffy's tracking endpoints on loopback and
// reports throughput, latency, errors and the server's CPU and memory.
//
//	go build -o /tmp/spiffy . && go run ./tests/loadgen -spiffy /tmp/spiffy
//
// runs the whole suite against a fresh server it starts (temporary data
// dir, rate limit off) and a bare Echo server answering 204 as the
// baseline, prints a table and checks the performance targets (exit 1 when
// one is missed). -target click|lead|purchase|stripe|bare runs one load
// instead, against -url (with -apikey to create its fixtures) or a -spiffy
// it starts; -target stripe (signed Stripe checkout.session.completed
// events, issue 13) checks its own targets at 32 senders. -rate R runs a
// target open-loop (R requests due per second, each timed from its due
// time); -target open measures clicks, leads and purchases open-loop at 25,
// 50 and 75% of each one's closed-loop maximum (issue 17); -target views
// seeds a store through HTTP (-leads, -affiliates) and times the
// merchant's views, the leads CSV and purchases at that size (views.go).
// Only loopback addresses are accepted, every run is bounded in time and
// connections. See docs/PERFORMANCE.md.
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
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spiffy/spiffy/tests/internal/metrics"
)

// Limits that keep a run from turning into a flood.
const (
	maxConns    = 1024
	maxDuration = 10 * time.Minute
)

// Performance targets (issue 3), checked by the suite.
const (
	targetClickRPS   = 20000
	targetLeadRPS    = 15000
	targetP99        = 15 * time.Millisecond
	targetCloseRatio = 0.75
	targetLoadRSSMiB = 256
	targetIdleRSSMiB = 64
)

type options struct {
	target     string
	baseURL    string
	apiKey     string
	pid        int
	spiffyBin  string
	spiffyArgs string
	spiffyEnv  string
	keep       bool
	bareURL    string
	conns      int
	duration   time.Duration
	warmup     time.Duration
	perConn    int
	closeEach  bool
	repeat     int
	serveBare  string
	noFail     bool
	// stripeSecret signs the stripe target's events: given with -url, made
	// up (and passed as --integrations-stripe-webhook-secret) with -spiffy.
	stripeSecret string
	connsSet     bool // -c was given
	// rate, when set, runs the target open-loop at that many requests due
	// per second instead of closed-loop (issue 17).
	rate float64
	// The views target's seed (issue 17, part 3), and where the spiffy it
	// starts keeps its data ("" = a temporary dir).
	leads, affiliates int
	dataDir           string
	// pgo, when set, is where the merged CPU profile of the spiffy it
	// starts is written (pgo.go).
	pgo string
}

func main() {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&o.target, "target", "suite", "what to load: click, lead, purchase, stripe, bare, suite (all of them, with the targets checked), open (clicks, leads and purchases open-loop at 25, 50 and 75% of each one's closed-loop maximum, with the p99 goal checked), views (seed -leads through HTTP and time the merchant's views) or fsync (the disk's latency for one small durable append, in -data-dir or the temp dir)")
	fs.StringVar(&o.baseURL, "url", "http://127.0.0.1:8080", "base URL of a running spiffy (loopback only); ignored with -spiffy")
	fs.StringVar(&o.apiKey, "apikey", "", "API key of that spiffy, to create the program, affiliate and referrals the load uses")
	fs.IntVar(&o.pid, "pid", 0, "PID of that spiffy, to report its CPU and memory (found automatically with -spiffy)")
	fs.StringVar(&o.spiffyBin, "spiffy", "", "path to a spiffy binary: start it on a temporary data dir with the rate limit off, and stop it afterwards")
	fs.StringVar(&o.spiffyArgs, "spiffy-args", "", "extra flags for the spiffy it starts (space-separated)")
	fs.StringVar(&o.spiffyEnv, "spiffy-env", "", "extra environment for the spiffy it starts, e.g. \"GOMEMLIMIT=160MiB GOMAXPROCS=2\"")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary data dir of the spiffy it starts")
	fs.StringVar(&o.bareURL, "bare-url", "", "base URL of a running bare server for -target bare (default: start one)")
	fs.IntVar(&o.conns, "c", 64, "concurrent connections (at most 1024; the stripe target uses 32 unless -c is given)")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "duration of each measured run (at most 10m)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before each run")
	fs.IntVar(&o.perConn, "n", 0, "stop a connection after this many requests (0: run for -d)")
	fs.BoolVar(&o.closeEach, "close", false, "one request per connection (Connection: close) instead of keep-alive")
	fs.IntVar(&o.repeat, "repeat", 1, "run each measurement this many times (the machine is shared: look at the spread)")
	fs.StringVar(&o.serveBare, "serve-bare", "", "run only the bare Echo 204 server on this loopback address (the baseline)")
	fs.BoolVar(&o.noFail, "no-fail", false, "exit 0 even when a target is missed")
	fs.Float64Var(&o.rate, "rate", 0, "run the target open-loop: this many requests due per second, latency timed from each one's due time (-c is then the pool of connections, default 256)")
	fs.IntVar(&o.leads, "leads", 1_000_000, "leads the views target seeds through /t/lead")
	fs.IntVar(&o.affiliates, "affiliates", 10_000, "affiliates the views target seeds through the API")
	fs.StringVar(&o.dataDir, "data-dir", "", "data dir for the spiffy it starts, kept afterwards (default: a temporary one, removed); the views target seeds it once and reuses it on later runs")
	fs.StringVar(&o.pgo, "pgo", "", "write the CPU profile of the whole run of the spiffy it starts to this file (the main package's default.pgo); needs -spiffy and the go command")
	fs.StringVar(&o.stripeSecret, "stripe-secret", "", "Stripe webhook signing secret of the -url spiffy, for -target stripe")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	fs.Visit(func(f *flag.Flag) { o.connsSet = o.connsSet || f.Name == "c" })
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		var fe *failedTargets
		if errors.As(err, &fe) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

// failedTargets is returned when the suite ran but missed targets.
type failedTargets struct{ n int }

func (e *failedTargets) Error() string { return fmt.Sprintf("%d target(s) missed", e.n) }

func run(o options) error {
	if o.serveBare != "" {
		return serveBare(o.serveBare)
	}
	if o.conns < 1 || o.conns > maxConns {
		return fmt.Errorf("-c must be 1..%d", maxConns)
	}
	if o.duration <= 0 || o.duration > maxDuration || o.warmup < 0 || o.warmup > maxDuration {
		return fmt.Errorf("-d and -warmup must be at most %s", maxDuration)
	}
	if o.repeat < 1 || o.repeat > 20 {
		return errors.New("-repeat must be 1..20")
	}
	switch o.target {
	case "click", "lead", "purchase", "stripe", "bare", "suite", "open", "views":
	case "fsync":
		dir := o.dataDir
		if dir == "" {
			dir = os.TempDir()
		}
		return measureFsync(dir, o.duration)
	default:
		return fmt.Errorf("unknown -target %q: want click, lead, purchase, stripe, bare, suite, open, views or fsync", o.target)
	}
	if o.target == "views" && (o.leads < 1 || o.leads > 10_000_000 || o.affiliates < 1 || o.affiliates > 100_000) {
		return errors.New("-leads must be 1..10000000 and -affiliates 1..100000")
	}
	if o.rate < 0 || o.rate > 1e6 || (o.rate > 0 && (o.target == "suite" || o.target == "open")) {
		return errors.New("-rate must be 1..1000000 requests per second, with one -target")
	}
	if o.spiffyBin != "" && o.stripeSecret == "" {
		o.stripeSecret = newStripeSecret()
	}
	if o.target == "stripe" && o.stripeSecret == "" {
		return errors.New("-stripe-secret is needed for -target stripe against -url (the server's integrations.stripe.webhook_secret)")
	}
	if o.pgo != "" && o.spiffyBin == "" {
		return errors.New("-pgo needs -spiffy")
	}
	printMachine()

	env := &environment{opts: o, baseURL: o.baseURL, apiKey: o.apiKey, pid: o.pid}
	defer env.close()
	needSpiffy := o.target != "bare"
	if needSpiffy {
		if o.spiffyBin != "" {
			if err := env.startSpiffy(); err != nil {
				return err
			}
		}
		if err := requireLoopbackURL(env.baseURL); err != nil {
			return err
		}
		if env.apiKey == "" {
			return errors.New("-apikey is needed to create the load's program and affiliate (or use -spiffy)")
		}
		if err := env.setup(); err != nil {
			return err
		}
	}
	if o.target == "bare" || o.target == "suite" {
		if o.bareURL != "" {
			if err := requireLoopbackURL(o.bareURL); err != nil {
				return err
			}
			env.bareURL = o.bareURL
		} else {
			c, err := startBareChild()
			if err != nil {
				return err
			}
			env.bare = c
			env.bareURL = "http://" + c.addr
		}
	}
	if env.pprofAddr != "" {
		prof, err := startProfiler(env.pprofAddr)
		if err != nil {
			return err
		}
		err = env.runTarget()
		if perr := prof.finish(o.pgo); err == nil {
			err = perr
		}
		return err
	}
	return env.runTarget()
}

// runTarget runs what -target asks for, once the servers and fixtures are up.
func (e *environment) runTarget() error {
	o := e.opts
	if o.target == "views" {
		return e.viewsRun()
	}
	if o.target == "open" {
		return e.openLoopSuite([]string{"click", "lead", "purchase"})
	}
	if o.rate > 0 {
		_, err := e.measureOpenLoop(o.target, o.rate, 0)
		return err
	}
	if o.target != "suite" {
		var best *measurement
		for range o.repeat {
			m, err := e.measure(o.target, o.closeEach)
			if err != nil {
				return err
			}
			if best == nil || m.rps > best.rps {
				best = m
			}
		}
		if o.target == "stripe" {
			e.checkStripe(best)
			if len(e.failures) > 0 && !o.noFail {
				return &failedTargets{n: len(e.failures)}
			}
		}
		return nil
	}
	return e.suite()
}

// environment is what the runs share: the servers and the fixtures.
type environment struct {
	opts     options
	baseURL  string
	apiKey   string
	pid      int
	spiffy   *child
	dataDir  string
	idleRSS  memStatus // spiffy a few seconds after start, before any load
	bareURL  string
	bare     *child
	runID    string
	code     string
	program  string
	refs     []string
	failures []string
	gens     atomic.Int64 // request factories made (generation)
	// pprofAddr is the started spiffy's profiling listener (-pgo).
	pprofAddr string
}

// generation makes run unique to one request factory: every worker of
// every load (the warm-up, then the measured run) gets a factory of its
// own, and must not send the ids of another, which the server would answer
// as repeats (200, idempotent) without doing the work being measured.
func (e *environment) generation(run string) string {
	return run + "g" + strconv.FormatInt(e.gens.Add(1), 36)
}

func (e *environment) close() {
	if e.bare != nil {
		_ = e.bare.stop()
	}
	if e.spiffy != nil {
		if err := e.spiffy.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: spiffy did not exit cleanly: %v\n", err)
		}
		if !e.opts.keep && e.opts.dataDir == "" {
			_ = os.RemoveAll(e.dataDir)
		} else {
			fmt.Printf("data dir kept: %s\n", e.dataDir)
		}
	}
}

// startSpiffy runs the given binary on a fresh data dir: an API key first
// (the CLI needs the data dir to itself), then the server.
func (e *environment) startSpiffy() error {
	dir := e.opts.dataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "spiffy-loadgen-")
		if err != nil {
			return err
		}
		dir = d
	}
	e.dataDir = dir
	if _, err := os.Stat(filepath.Join(dir, viewsFixtureFile)); e.opts.target == "views" && err != nil {
		if err := createAdmin(e.opts.spiffyBin, dir); err != nil {
			return err
		}
	}
	out, err := exec.Command(e.opts.spiffyBin, "apikey", "create", "--name", "loadgen", "--data-dir", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("spiffy apikey create: %v: %s", err, out)
	}
	words := strings.Fields(string(out))
	if len(words) == 0 {
		return fmt.Errorf("spiffy apikey create printed nothing")
	}
	e.apiKey = words[len(words)-1]
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"serve", "--data-dir", dir, "--listen", addr, "--base-url", "http://" + addr,
		"--tracking-rate-limit", "1000000000", "--log-level", "warn",
		"--integrations-stripe-webhook-secret", e.opts.stripeSecret}
	if e.opts.pgo != "" {
		pport, err := freePort()
		if err != nil {
			return err
		}
		e.pprofAddr = "127.0.0.1:" + strconv.Itoa(pport)
		args = append(args, "--debug-pprof-listen", e.pprofAddr)
	}
	args = append(args, strings.Fields(e.opts.spiffyArgs)...)
	cmd := exec.Command(e.opts.spiffyBin, args...)
	cmd.Env = append(os.Environ(), strings.Fields(e.opts.spiffyEnv)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start spiffy: %w", err)
	}
	e.spiffy = &child{cmd: cmd, addr: addr}
	e.baseURL = "http://" + addr
	e.pid = cmd.Process.Pid
	if err := waitHTTP(e.baseURL+"/healthz", 30*time.Second); err != nil {
		return err
	}
	// Let start-up work settle before calling it idle.
	time.Sleep(2 * time.Second)
	e.idleRSS, _ = memory(e.pid)
	fmt.Printf("spiffy pid %d on %s, data dir %s; idle after start: RSS %s (anon %s, file %s)\n\n",
		e.pid, addr, dir, mib(e.idleRSS.RSS), mib(e.idleRSS.Anon), mib(e.idleRSS.File))
	return nil
}

// setup creates the program, affiliate and a pool of referrals the load uses.
func (e *environment) setup() error {
	e.runID = strconv.FormatInt(time.Now().UnixMilli()%1e9, 36)
	var prg struct{ ID string }
	if err := e.api("POST", "/api/v1/programs", map[string]any{
		"name": "Load " + e.runID, "landing_url": "https://shop.example.com/", "track_leads": true,
		"commission_type": "percent", "commission_value": "30",
	}, &prg); err != nil {
		return err
	}
	var aff struct{ ID string }
	if err := e.api("POST", "/api/v1/affiliates", map[string]any{
		"name": "Load Generator", "email": "loadgen-" + e.runID + "@partner.example.com", "password": "loadgen-password",
	}, &aff); err != nil {
		return err
	}
	var enr struct{ Code string }
	if err := e.api("POST", "/api/v1/programs/"+prg.ID+"/affiliates", map[string]any{
		"affiliate_id": aff.ID, "code": "lg" + e.runID,
	}, &enr); err != nil {
		return err
	}
	e.program, e.code = prg.ID, enr.Code
	for i := range 64 {
		var click struct{ Referral string }
		body := map[string]any{"ref": e.code, "vid": fmt.Sprintf("lgsetup%d", i)}
		if err := e.post("/t/click", "", body, &click); err != nil {
			return err
		}
		e.refs = append(e.refs, click.Referral)
	}
	return nil
}

func (e *environment) api(method, path string, body, out any) error {
	return e.request(method, path, "Bearer "+e.apiKey, body, out)
}

func (e *environment) post(path, auth string, body, out any) error {
	return e.request("POST", path, auth, body, out)
}

func (e *environment) request(method, path, auth string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, e.baseURL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("setup %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("setup %s %s: %s: %s", method, path, resp.Status, raw)
	}
	return json.Unmarshal(raw, out)
}

// builder returns the request generator for a target: a factory, because
// each worker needs its own scratch buffer.
func (e *environment) builder(target string, closeEach bool) (addr string, build func() requestFunc, err error) {
	base := e.baseURL
	if target == "bare" {
		base = e.bareURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	host := u.Host
	conn := ""
	if closeEach {
		conn = "Connection: close\r\n"
	}
	head := func(b []byte, path, extra string, bodyLen int) []byte {
		b = append(b, "POST "...)
		b = append(b, path...)
		b = append(b, " HTTP/1.1\r\nHost: "...)
		b = append(b, host...)
		b = append(b, "\r\nContent-Type: text/plain;charset=UTF-8\r\nOrigin: https://shop.example.com\r\nUser-Agent: spiffy-loadgen/1\r\n"...)
		b = append(b, extra...)
		b = append(b, conn...)
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(bodyLen), 10)
		return append(b, "\r\n\r\n"...)
	}
	code := e.code
	if code == "" {
		code = "bare"
	}
	clickBody := func(body []byte, w, n int) []byte {
		body = append(body[:0], `{"ref":"`...)
		body = append(body, code...)
		body = append(body, `","sub":"load","url":"https://shop.example.com/pricing?ref=`...)
		body = append(body, code...)
		body = append(body, `","referrer":"https://blog.example.net/review","vid":"lg`...)
		body = strconv.AppendInt(body, int64(w), 36)
		body = append(body, 'x')
		body = strconv.AppendInt(body, int64(n), 36)
		return append(body, `"}`...)
	}
	switch target {
	case "click", "bare":
		return host, func() requestFunc {
			body := make([]byte, 0, 512)
			return func(b []byte, w, n int) []byte {
				body = clickBody(body, w, n)
				return append(head(b, "/t/click", "", len(body)), body...)
			}
		}, nil
	case "lead":
		run := e.runID + strconv.FormatInt(time.Now().UnixNano()%1e6, 36) // emails unique across runs
		return host, func() requestFunc {
			run := e.generation(run) // and across the warm-up and the measured run
			body := make([]byte, 0, 512)
			return func(b []byte, w, n int) []byte {
				body = append(body[:0], `{"email":"lead.`...)
				body = append(body, run...)
				body = append(body, '.')
				body = strconv.AppendInt(body, int64(w), 36)
				body = append(body, '.')
				body = strconv.AppendInt(body, int64(n), 36)
				body = append(body, `@example.com","name":"Load Lead","url":"https://shop.example.com/signup","referral":"`...)
				body = append(body, e.refs[w%len(e.refs)]...)
				body = append(body, `"}`...)
				return append(head(b, "/t/lead", "", len(body)), body...)
			}
		}, nil
	case "stripe":
		return host, e.stripeBuilder(head), nil
	case "purchase":
		run := e.runID + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
		auth := "Authorization: Bearer " + e.apiKey + "\r\n"
		return host, func() requestFunc {
			run := e.generation(run)
			body := make([]byte, 0, 512)
			return func(b []byte, w, n int) []byte {
				body = append(body[:0], `{"order_id":"lg-`...)
				body = append(body, run...)
				body = append(body, '-')
				body = strconv.AppendInt(body, int64(w), 36)
				body = append(body, '-')
				body = strconv.AppendInt(body, int64(n), 36)
				body = append(body, `","program":"`...)
				body = append(body, e.program...)
				body = append(body, `","email":"buyer.`...)
				body = strconv.AppendInt(body, int64(n), 36)
				body = append(body, `@example.com","product":"Pro","amount":"49.00","currency":"USD","referral":"`...)
				body = append(body, e.refs[w%len(e.refs)]...)
				body = append(body, `"}`...)
				b = head(b, "/api/v1/purchases", auth, len(body))
				return append(replaceContentType(b), body...)
			}
		}, nil
	}
	return "", nil, fmt.Errorf("no builder for %q", target)
}

// replaceContentType makes a request head's text/plain (what sendBeacon
// sends to the tracking endpoints) application/json, in place.
func replaceContentType(b []byte) []byte {
	return bytes.Replace(b, []byte("text/plain;charset=UTF-8"), []byte("application/json"), 1)
}

// conns is how many connections a target's runs use: the stripe target's
// figure is set at 32 senders.
func (e *environment) conns(target string) int {
	if target == "stripe" && !e.opts.connsSet {
		return stripeConns
	}
	return e.opts.conns
}

// expect is what every 2xx answer of a target must contain, or nil.
func expect(target string) []byte {
	if target == "stripe" {
		return stripeRecorded
	}
	return nil
}

// measurement is one run's figures.
type measurement struct {
	target    string
	closeEach bool
	conns     int
	res       *result
	elapsed   time.Duration
	rps       float64
	serverCPU float64       // % of one core
	cpuPerReq time.Duration // server CPU time per answered request: steadier than req/s on a shared machine
	runqWait  float64       // % of a CPU the server's threads spent runnable but not running
	peak      memStatus
	selfCPU   float64
	// From spiffy's /metrics: how well the store's writer batched.
	writesPerBatch, batchesPerSec float64
}

func (m *measurement) mode() string {
	if m.closeEach {
		return "close"
	}
	return "keep-alive"
}

// measure warms up, then runs one measured load of the target.
func (e *environment) measure(target string, closeEach bool) (*measurement, error) {
	addr, build, err := e.builder(target, closeEach)
	if err != nil {
		return nil, err
	}
	conns := e.conns(target)
	if e.opts.warmup > 0 {
		runLoad(addr, conns, e.opts.warmup, e.opts.perConn, closeEach, build, expect(target))
	}
	pid := e.pid
	if target == "bare" {
		pid = 0
		if e.bare != nil {
			pid = e.bare.cmd.Process.Pid
		}
	}
	var w0 writerCounters
	if target != "bare" {
		w0 = e.writerCounters()
	}
	s := startSampler(pid)
	self := startSampler(os.Getpid())
	res, elapsed := runLoad(addr, conns, e.opts.duration, e.opts.perConn, closeEach, build, expect(target))
	m := &measurement{target: target, closeEach: closeEach, conns: conns, res: res, elapsed: elapsed,
		rps: float64(res.ok) / elapsed.Seconds()}
	var serr error
	m.serverCPU, m.peak, serr = s.finish()
	if res.ok > 0 {
		m.cpuPerReq = s.cpuUsed / time.Duration(res.ok)
	}
	m.runqWait = 100 * s.waited.Seconds() / elapsed.Seconds()
	m.selfCPU, _, _ = self.finish()
	if target != "bare" {
		w1 := e.writerCounters()
		if db := w1.batches - w0.batches; db > 0 && w0.batches > 0 {
			m.writesPerBatch = (w1.ops - w0.ops) / db
			m.batchesPerSec = db / elapsed.Seconds()
		}
	}
	fmt.Println(m.line(conns))
	if serr != nil {
		fmt.Printf("  (process figures incomplete: %v)\n", serr)
	}
	if res.bad > 0 || res.netErrs > 0 {
		fmt.Printf("  statuses %v; first error: %v; first bad answer: %s\n", res.statuses, res.firstErr, res.firstBody)
	}
	return m, nil
}

func (m *measurement) line(conns int) string {
	h := &m.res.hist
	s := fmt.Sprintf("%-8s %-10s c=%d %5.1fs  %8.0f req/s  ok %d  non-2xx %d  net-err %d  p50 %s  p90 %s  p99 %s  max %s  loadgen cpu %.0f%%",
		m.target, m.mode(), conns, m.elapsed.Seconds(), m.rps, m.res.ok, m.res.bad, m.res.netErrs,
		ms(h.quantile(0.50)), ms(h.quantile(0.90)), ms(h.quantile(0.99)), ms(h.max), m.selfCPU)
	if m.writesPerBatch > 0 {
		s += fmt.Sprintf("  writer %.1f writes/batch %.0f batches/s", m.writesPerBatch, m.batchesPerSec)
	}
	if m.peak.RSS > 0 {
		s += fmt.Sprintf("  server cpu %.0f%% (%.0f µs/req, run-queue wait %.0f%%)  rss peak %s (anon %s, file %s)", m.serverCPU, float64(m.cpuPerReq)/float64(time.Microsecond), m.runqWait, mib(m.peak.RSS), mib(m.peak.Anon), mib(m.peak.File))
	}
	return s
}

// writerCounters are the store writer's totals from /metrics.
type writerCounters struct{ batches, ops float64 }

func (e *environment) writerCounters() writerCounters {
	m, err := metrics.Scrape(e.baseURL)
	if err != nil {
		return writerCounters{}
	}
	return writerCounters{batches: m.Sum("spiffy_store_write_batches_total"), ops: m.Sum("spiffy_store_write_ops_total")}
}

// suite runs every load, prints a table and checks the targets.
func (e *environment) suite() error {
	type step struct {
		target    string
		closeEach bool
	}
	steps := []step{{"bare", false}, {"click", false}, {"lead", false}, {"purchase", false}, {"bare", true}, {"click", true}, {"stripe", false}}
	best := map[step]*measurement{}
	var all []*measurement
	for r := range e.opts.repeat {
		if e.opts.repeat > 1 {
			fmt.Printf("-- round %d of %d\n", r+1, e.opts.repeat)
		}
		for _, st := range steps {
			m, err := e.measure(st.target, st.closeEach)
			if err != nil {
				return err
			}
			all = append(all, m)
			if b := best[st]; b == nil || m.rps > b.rps {
				best[st] = m
			}
		}
	}
	var afterIdle memStatus
	if e.pid > 0 {
		time.Sleep(5 * time.Second)
		afterIdle, _ = memory(e.pid)
	}

	fmt.Printf("\n| load | mode | c | req/s | p50 | p99 | max | errors | server CPU | CPU/req | writes/batch | server RSS peak (anon/file) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, m := range all {
		rss := "—"
		if m.peak.RSS > 0 {
			rss = fmt.Sprintf("%s (%s/%s)", mib(m.peak.RSS), mib(m.peak.Anon), mib(m.peak.File))
		}
		wpb := "—"
		if m.writesPerBatch > 0 {
			wpb = fmt.Sprintf("%.1f", m.writesPerBatch)
		}
		fmt.Printf("| %s | %s | %d | %.0f | %s | %s | %s | %d | %.0f%% | %.0f µs | %s | %s |\n", m.target, m.mode(), m.conns, m.rps,
			ms(m.res.hist.quantile(0.5)), ms(m.res.hist.quantile(0.99)), ms(m.res.hist.max), m.res.bad+m.res.netErrs, m.serverCPU,
			float64(m.cpuPerReq)/float64(time.Microsecond), wpb, rss)
	}
	var peak memStatus
	for _, m := range all {
		if m.target != "bare" && m.peak.RSS > peak.RSS {
			peak = m.peak
		}
	}
	fmt.Println()
	if e.pid > 0 {
		fmt.Printf("spiffy RSS: idle after start %s, peak under load %s, idle 5 s after the load %s (VmHWM %s)\n\n",
			mib(e.idleRSS.RSS), mib(peak.RSS), mib(afterIdle.RSS), mib(afterIdle.HWM))
	}

	// Targets: judged on the best round of each load (the machine is shared).
	click, lead := best[step{"click", false}], best[step{"lead", false}]
	clickClose, bareClose := best[step{"click", true}], best[step{"bare", true}]
	e.check(fmt.Sprintf("clicks ≥ %d req/s (keep-alive, c=%d)", targetClickRPS, e.opts.conns), click.rps >= targetClickRPS, fmt.Sprintf("%.0f", click.rps))
	e.check(fmt.Sprintf("click p99 ≤ %s", targetP99), click.res.hist.quantile(0.99) <= targetP99, ms(click.res.hist.quantile(0.99)))
	e.check(fmt.Sprintf("leads ≥ %d req/s (keep-alive, c=%d)", targetLeadRPS, e.opts.conns), lead.rps >= targetLeadRPS, fmt.Sprintf("%.0f", lead.rps))
	e.check(fmt.Sprintf("lead p99 ≤ %s", targetP99), lead.res.hist.quantile(0.99) <= targetP99, ms(lead.res.hist.quantile(0.99)))
	e.check("no errors in the tracking runs", click.res.bad+click.res.netErrs+lead.res.bad+lead.res.netErrs == 0,
		fmt.Sprintf("%d", click.res.bad+click.res.netErrs+lead.res.bad+lead.res.netErrs))
	ratio := clickClose.rps / bareClose.rps
	e.check(fmt.Sprintf("clicks with Connection: close ≥ %.0f%% of bare", 100*targetCloseRatio), ratio >= targetCloseRatio,
		fmt.Sprintf("%.0f%% (%.0f vs %.0f req/s)", 100*ratio, clickClose.rps, bareClose.rps))
	e.checkStripe(best[step{"stripe", false}])
	if e.pid > 0 {
		e.check(fmt.Sprintf("RSS under load ≤ %d MiB", targetLoadRSSMiB), peak.RSS <= targetLoadRSSMiB<<10, mib(peak.RSS))
		if e.spiffy != nil {
			e.check(fmt.Sprintf("RSS idle after start < %d MiB", targetIdleRSSMiB), e.idleRSS.RSS < targetIdleRSSMiB<<10, mib(e.idleRSS.RSS))
		}
	}
	if len(e.failures) > 0 && !e.opts.noFail {
		return &failedTargets{n: len(e.failures)}
	}
	return nil
}

// checkStripe checks issue 13's figures on the stripe target's best run.
func (e *environment) checkStripe(m *measurement) {
	e.check(fmt.Sprintf("stripe events ≥ %d/s (c=%d)", targetStripeRPS, m.conns), m.rps >= targetStripeRPS, fmt.Sprintf("%.0f", m.rps))
	e.check(fmt.Sprintf("stripe p99 ≤ %s", targetStripeP99), m.res.hist.quantile(0.99) <= targetStripeP99, ms(m.res.hist.quantile(0.99)))
	e.check("every stripe event recorded a purchase", m.res.bad+m.res.netErrs == 0, fmt.Sprintf("%d errors", m.res.bad+m.res.netErrs))
}

func (e *environment) check(name string, ok bool, got string) {
	mark := "PASS"
	if !ok {
		mark = "FAIL"
		e.failures = append(e.failures, name)
	}
	fmt.Printf("%s  %-50s %s\n", mark, name, got)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

func mib(kib int64) string { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }

// printMachine prints what the figures were measured on.
func printMachine() {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if name, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(name) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "?"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			mem = f[1] + " kB"
		}
	}
	fmt.Printf("loadgen: %d CPUs (%s), memory %s, %s, GOMAXPROCS %d, %s\n",
		runtime.NumCPU(), model, mem, runtime.Version(), runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
}

// requireLoopbackURL refuses anything but a loopback http URL: the
// generator is for measuring this machine, never for loading others.
func requireLoopbackURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%q: want an http://127.0.0.1:PORT URL", s)
	}
	return requireLoopbackAddr(u.Host)
}

func requireLoopbackAddr(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q is not a loopback address: loadgen only targets this machine", hostport)
}
