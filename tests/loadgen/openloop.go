package main

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Open-loop load (issue 17). A closed-loop generator at saturation measures
// its own queue, and when the server stalls it simply sends less: the stall
// shows up as a few slow requests instead of the many a visitor arriving
// meanwhile would have seen (coordinated omission). Here requests are due
// at a constant rate whatever the server does, and each one's latency runs
// from when it was due, not from when a connection was free to send it.

// openLoopFractions are the shares of a path's closed-loop maximum that
// -target open measures at; the goal (p99 ≤ 15 ms) is set at half of it.
var openLoopFractions = []float64{0.25, 0.50, 0.75}

const (
	openLoopGoalP99      = 15 * time.Millisecond
	openLoopGoalFraction = 0.50
	openLoopDefaultConns = 256 // enough senders that a stall of the server, not of the generator, is what queues
)

// runOpenLoop sends requests due every 1/rate seconds for d over a pool of
// conns keep-alive connections and merges the workers' results. The pacer
// never waits for answers: when every connection is busy, due requests
// queue in the channel and their wait counts in their latency.
func runOpenLoop(addr string, rate float64, d time.Duration, conns int, build func() requestFunc, expect []byte) (*result, time.Duration) {
	interval := time.Duration(float64(time.Second) / rate)
	total := int(d / interval)
	due := make(chan time.Time, min(max(total, 1), 1<<20))
	results := make([]result, conns)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			openLoopWorker(addr, w, build(), due, expect, &results[w])
		}()
	}
	start := time.Now()
	for i := range total {
		at := start.Add(time.Duration(i) * interval)
		// Sleeping is coarser than the interval at thousands per second; the
		// due times come from i, so an overslept pacer sends the requests it
		// owes at once, each still timed from its own due time.
		if wait := time.Until(at); wait > 50*time.Microsecond {
			time.Sleep(wait)
		}
		due <- at
	}
	close(due)
	wg.Wait()
	return mergeResults(results), time.Since(start)
}

// openLoopWorker sends each due request on its connection (reconnecting
// after an error) until the pacer closes due.
func openLoopWorker(addr string, w int, build requestFunc, due <-chan time.Time, expect []byte, res *result) {
	res.statuses = map[int]int64{}
	snd := &sender{addr: addr, res: res, expect: expect, keepSlow: true}
	defer snd.close()
	buf := make([]byte, 0, 1024)
	n := 0
	for at := range due {
		buf = build(buf[:0], w, n)
		n++
		snd.send(buf, at, false)
	}
}

// openLoopRun is one open-loop measurement.
type openLoopRun struct {
	target    string
	fraction  float64 // of the closed-loop maximum; 0 when -rate was given
	rate      float64 // requests due per second
	res       *result
	elapsed   time.Duration
	serverCPU float64
	cpuPerReq time.Duration
}

// measureOpenLoop warms up at the rate, then runs one measured open-loop load.
func (e *environment) measureOpenLoop(target string, rate, fraction float64) (*openLoopRun, error) {
	addr, build, err := e.builder(target, false)
	if err != nil {
		return nil, err
	}
	conns := openLoopDefaultConns
	if e.opts.connsSet {
		conns = e.opts.conns
	}
	if e.opts.warmup > 0 {
		runOpenLoop(addr, rate, e.opts.warmup, conns, build, expect(target))
	}
	pid := e.pid
	if target == "bare" {
		pid = 0
		if e.bare != nil {
			pid = e.bare.cmd.Process.Pid
		}
	}
	s := startSampler(pid)
	res, elapsed := runOpenLoop(addr, rate, e.opts.duration, conns, build, expect(target))
	r := &openLoopRun{target: target, fraction: fraction, rate: rate, res: res, elapsed: elapsed}
	r.serverCPU, _, _ = s.finish()
	if res.ok > 0 {
		r.cpuPerReq = s.cpuUsed / time.Duration(res.ok)
	}
	fmt.Println(r.line())
	for _, sp := range stallSpans(res.slow, stallGap) {
		fmt.Println("  " + sp.String())
	}
	if res.bad > 0 || res.netErrs > 0 {
		fmt.Printf("  statuses %v; first error: %v; first bad answer: %s\n", res.statuses, res.firstErr, res.firstBody)
	}
	return r, nil
}

func (r *openLoopRun) line() string {
	h := &r.res.hist
	share := "fixed rate"
	if r.fraction > 0 {
		share = fmt.Sprintf("%.0f%% of max", 100*r.fraction)
	}
	return fmt.Sprintf("%-8s open-loop %-12s %7.0f due/s  sent %7.0f/s  ok %d  non-2xx %d  net-err %d  p50 %s  p99 %s  p99.9 %s  max %s  server cpu %.0f%% (%.0f µs/req)",
		r.target, share, r.rate, float64(h.n)/r.elapsed.Seconds(), r.res.ok, r.res.bad, r.res.netErrs,
		ms(h.quantile(0.50)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max), r.serverCPU, float64(r.cpuPerReq)/float64(time.Microsecond))
}

// openLoopSuite measures each path's closed-loop maximum, then its latency
// open-loop at fractions of it, prints a table and checks the goal.
func (e *environment) openLoopSuite(targets []string) error {
	var runs []*openLoopRun
	for _, target := range targets {
		var best *measurement
		for range e.opts.repeat {
			m, err := e.measure(target, false)
			if err != nil {
				return err
			}
			if best == nil || m.rps > best.rps {
				best = m
			}
		}
		for _, f := range openLoopFractions {
			r, err := e.measureOpenLoop(target, f*best.rps, f)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
	}
	fmt.Printf("\n| load | share of max | due/s | p50 | p99 | p99.9 | max | errors | server CPU/req |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range runs {
		h := &r.res.hist
		fmt.Printf("| %s | %.0f%% | %.0f | %s | %s | %s | %s | %d | %.0f µs |\n", r.target, 100*r.fraction, r.rate,
			ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max), r.res.bad+r.res.netErrs,
			float64(r.cpuPerReq)/float64(time.Microsecond))
	}
	fmt.Println()
	for _, r := range runs {
		if r.fraction == openLoopGoalFraction {
			p99 := r.res.hist.quantile(0.99)
			e.check(fmt.Sprintf("%s open-loop p99 ≤ %s at %.0f%% of max", r.target, openLoopGoalP99, 100*r.fraction),
				p99 <= openLoopGoalP99 && r.res.bad+r.res.netErrs == 0, fmt.Sprintf("%s (%d errors)", ms(p99), r.res.bad+r.res.netErrs))
		}
	}
	if len(e.failures) > 0 && !e.opts.noFail {
		return &failedTargets{n: len(e.failures)}
	}
	return nil
}

// stallSpan is a stretch of an open-loop run in which the requests due were
// slower than slowAfter: when it began (wall clock, to set beside the
// server's log), how long requests kept being late, and the worst of them.
type stallSpan struct {
	from, to time.Time // due times of the first and last slow request
	n        int
	worst    time.Duration
}

func (s stallSpan) String() string {
	return fmt.Sprintf("slow from %s for %s: %d requests over %s, worst %s",
		s.from.Format("15:04:05.000"), s.to.Sub(s.from).Round(time.Millisecond), s.n, ms(slowAfter), ms(s.worst))
}

// stallGap joins slow requests due less than this apart into one span.
const stallGap = 100 * time.Millisecond

// stallSpans groups slow requests by due time into spans, joining those due
// less than gap apart; the five with the most slow requests are returned, in time order.
func stallSpans(slow []slowRequest, gap time.Duration) []stallSpan {
	sorted := slices.Clone(slow)
	slices.SortFunc(sorted, func(a, b slowRequest) int { return a.due.Compare(b.due) })
	var spans []stallSpan
	for _, r := range sorted {
		if n := len(spans); n > 0 && r.due.Sub(spans[n-1].to) < gap {
			sp := &spans[n-1]
			sp.to, sp.n, sp.worst = r.due, sp.n+1, max(sp.worst, r.latency)
			continue
		}
		spans = append(spans, stallSpan{from: r.due, to: r.due, n: 1, worst: r.latency})
	}
	if len(spans) > 5 {
		slices.SortStableFunc(spans, func(a, b stallSpan) int { return cmp.Compare(b.n, a.n) })
		spans = spans[:5]
		slices.SortFunc(spans, func(a, b stallSpan) int { return a.from.Compare(b.from) })
	}
	return spans
}
