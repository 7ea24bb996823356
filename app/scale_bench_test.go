package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/demo"
	"github.com/spiffy/spiffy/app/export"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// Merchant views at scale (docs/PERFORMANCE.md, "Merchant views at scale").
//
// The data set is the demo account at a million leads:
//
//	spiffy demo --data-dir DIR --leads 1000000 --clicks 3000000 --purchases 100000 --affiliates 1000
//
// Point SPIFFY_SCALE_DIR at such a data dir to reuse it; without it the
// benchmark seeds one (SPIFFY_SCALE_LEADS leads, default 1,000,000, with the
// same proportions) under the system temp dir and keeps it for the next run.
// The store is opened as in production (fsync on). Each benchmark runs a
// fixed set of varied requests per iteration and reports p50/p99 in ms:
//
//	go test ./app/ -run '^$' -bench 'Scale$' -benchtime 1x -timeout 60m

// scaleEnv is the opened data set and what the benchmarks query.
type scaleEnv struct {
	a       *app.App
	srv     *web.Server
	key     string
	lastDay time.Time // the newest day with data
	affs    []string  // affiliates with at least a few hundred leads
	codes   []string  // referral codes, for tracking load
	prgs    []string
}

func scaleSetup(b *testing.B) *scaleEnv {
	b.Helper()
	leads := 1_000_000
	if s := os.Getenv("SPIFFY_SCALE_LEADS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("SPIFFY_SCALE_LEADS=%q: want a number >= 1000", s)
		}
		leads = n
	}
	dir := os.Getenv("SPIFFY_SCALE_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("spiffy-scale-%d", leads))
	}
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Tracking.RateLimit = 1e9
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(store.Options{Dir: cfg.DBDir(), Logger: log, SyncWrites: true})
	if err != nil {
		b.Fatal(err)
	}
	a, err := app.New(app.Options{Config: cfg, Store: db, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	if has, _ := a.Views().HasAdmin(); !has {
		b.Logf("seeding %d leads into %s (once; kept for later runs)", leads, dir)
		start := time.Now()
		_, err := demo.Seed(context.Background(), a, db, demo.Options{
			Leads: leads, Clicks: 3 * leads, Purchases: leads / 10, Affiliates: max(50, leads/1000),
		}, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded in %s", time.Since(start).Round(time.Second))
	}
	_, key, err := a.CreateAPIKey("scale bench")
	if err != nil {
		b.Fatal(err)
	}
	env := &scaleEnv{a: a, srv: web.NewServer(a), key: key}
	newest, _, err := a.Views().LeadsPage(store.LeadQuery{Limit: 1})
	if err != nil || len(newest) == 0 {
		b.Fatalf("no leads in %s: %v", dir, err)
	}
	env.lastDay = newest[0].CreatedAt.Truncate(24 * time.Hour)
	affs, _ := a.Views().Affiliates()
	active := map[string]bool{}
	for _, af := range affs {
		active[af.ID] = af.Status == app.StatusActive
	}
	programs, _ := a.Views().Programs()
	for _, p := range programs {
		env.prgs = append(env.prgs, p.ID)
		es, _ := a.Views().EnrollmentsOfProgram(p.ID)
		for _, e := range es {
			if active[e.AffiliateID] {
				env.codes = append(env.codes, e.Code)
			}
		}
	}
	// Affiliates of every size but the smallest: the 30-day lists then
	// hold from a few dozen to tens of thousands of rows.
	type sized struct {
		id string
		n  int64
	}
	var all []sized
	for _, af := range affs {
		var c store.Count
		err := db.View(func(tx *store.Tx) (err error) { c, err = tx.CountLeads(store.LeadQuery{AffiliateID: af.ID}); return })
		if err != nil {
			b.Fatal(err)
		}
		if c.N >= 300 {
			all = append(all, sized{af.ID, c.N})
		}
	}
	slices.SortFunc(all, func(x, y sized) int { return int(y.n - x.n) })
	for _, s := range all {
		env.affs = append(env.affs, s.id)
	}
	if len(env.affs) == 0 {
		b.Fatal("no affiliate with 300 leads")
	}
	b.Logf("data set: %d programs, %d affiliates with >= 300 leads (largest %d), newest day %s",
		len(env.prgs), len(all), all[0].n, env.lastDay.Format(time.DateOnly))
	b.Cleanup(func() {
		a.Stop()
		if err := db.Close(); err != nil {
			b.Error(err)
		}
	})
	return env
}

// BenchmarkScale opens (or seeds) the data set once and runs every
// measurement against it.
func BenchmarkScale(b *testing.B) {
	s := scaleSetup(b)
	b.Run("leads-affiliate-30d", func(b *testing.B) { s.leadsAffiliate30d(b) })
	b.Run("leads-affiliate-30d-email-prefix", func(b *testing.B) { s.leadsAffiliate30dPrefix(b) })
	b.Run("leads-deep-cursor", func(b *testing.B) { s.leadsDeepCursor(b) })
	b.Run("dashboard-90d", func(b *testing.B) { s.dashboard90d(b) })
	b.Run("export-all-leads", func(b *testing.B) { s.exportAllLeads(b) })
}

// api sends an authenticated GET through the real router.
func (s *scaleEnv) api(b *testing.B, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/api/v1"+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.key)
	rec := httptest.NewRecorder()
	s.srv.Echo.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
	return rec
}

// latencies runs fn n times and reports p50/p99/max in ms.
func latencies(b *testing.B, n int, fn func(i int)) {
	b.Helper()
	var all []time.Duration
	b.ResetTimer()
	for range b.N {
		for i := range n {
			start := time.Now()
			fn(i)
			all = append(all, time.Since(start))
		}
	}
	b.StopTimer()
	slices.Sort(all)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
	b.ReportMetric(ms(all[len(all)-1]), "max-ms")
	b.ReportMetric(0, "ns/op")
}

const scaleSamples = 400

// The Leads page's work for one filter: the first page with names and the
// total count, as the page reads it.
func (s *scaleEnv) leadsView(b *testing.B, v url.Values) {
	if _, err := s.a.LeadList(views.ListFilterFromParams(v), "", 50); err != nil {
		b.Fatal(err)
	}
}

func (s *scaleEnv) range30(i int) (string, string) {
	// Thirty-day windows ending on different days of the last two months.
	to := s.lastDay.AddDate(0, 0, -(i % 60))
	return to.AddDate(0, 0, -29).Format(time.DateOnly), to.Format(time.DateOnly)
}

var scalePrefixes = []string{"a", "jo", "mar", "em", "li", "k", "da", "sar", "ch", "w"}

func (s *scaleEnv) leadsAffiliate30d(b *testing.B) {
	b.Run("api", func(b *testing.B) {
		latencies(b, scaleSamples, func(i int) {
			from, to := s.range30(i)
			s.api(b, "/leads?"+url.Values{"affiliate": {s.affs[i%len(s.affs)]}, "from": {from}, "to": {to}}.Encode())
		})
	})
	b.Run("page+count", func(b *testing.B) {
		latencies(b, scaleSamples, func(i int) {
			from, to := s.range30(i)
			s.leadsView(b, url.Values{"affiliate": {s.affs[i%len(s.affs)]}, "from": {from}, "to": {to}})
		})
	})
}

func (s *scaleEnv) leadsAffiliate30dPrefix(b *testing.B) {
	b.Run("api", func(b *testing.B) {
		latencies(b, scaleSamples, func(i int) {
			from, to := s.range30(i)
			s.api(b, "/leads?"+url.Values{"affiliate": {s.affs[i%len(s.affs)]}, "from": {from}, "to": {to},
				"q": {scalePrefixes[i%len(scalePrefixes)]}}.Encode())
		})
	})
	b.Run("page+count", func(b *testing.B) {
		latencies(b, scaleSamples, func(i int) {
			from, to := s.range30(i)
			s.leadsView(b, url.Values{"affiliate": {s.affs[i%len(s.affs)]}, "from": {from}, "to": {to},
				"q": {scalePrefixes[i%len(scalePrefixes)]}})
		})
	})
	// No affiliate: the prefix is matched among all million leads.
	b.Run("all-leads/page+count", func(b *testing.B) {
		latencies(b, scaleSamples, func(i int) {
			s.leadsView(b, url.Values{"q": {scalePrefixes[i%len(scalePrefixes)]}})
		})
	})
}

func (s *scaleEnv) leadsDeepCursor(b *testing.B) {
	// Cursors spread through the whole list: the last row of a one-row page
	// ending on each of the last 80 days.
	var cursors []string
	for d := 1; d <= 80; d++ {
		to := s.lastDay.AddDate(0, 0, -d).Format(time.DateOnly)
		rec := s.api(b, "/leads?limit=1&to="+to)
		var page struct {
			Next *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || page.Next == nil {
			b.Fatalf("no cursor for %s: %v", to, err)
		}
		cursors = append(cursors, *page.Next)
	}
	b.Run("all-leads/api", func(b *testing.B) {
		latencies(b, scaleSamples, func(i int) { s.api(b, "/leads?cursor="+cursors[i%len(cursors)]) })
	})
	b.Run("program/api", func(b *testing.B) {
		latencies(b, scaleSamples, func(i int) {
			s.api(b, "/leads?"+url.Values{"cursor": {cursors[i%len(cursors)]}, "program": {s.prgs[i%len(s.prgs)]}}.Encode())
		})
	})
}

func (s *scaleEnv) dashboard90d(b *testing.B) {
	from := s.lastDay.AddDate(0, 0, -89).Format(time.DateOnly)
	to := s.lastDay.Format(time.DateOnly)
	b.Run("all-programs", func(b *testing.B) {
		latencies(b, 100, func(int) {
			if _, err := s.a.Dashboard(app.DashboardFilter{From: from, To: to}); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("one-program", func(b *testing.B) {
		latencies(b, 100, func(i int) {
			if _, err := s.a.Dashboard(app.DashboardFilter{Program: s.prgs[i%len(s.prgs)], From: from, To: to}); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// countingWriter counts bytes and discards them, as a fast client would.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n.Add(int64(len(p))); return len(p), nil }

// rss reads the process's resident set (total and anonymous) in bytes.
func rss() (total, anon int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			total = kb << 10
		case "RssAnon:":
			anon = kb << 10
		}
	}
	return total, anon
}

// exportAllLeads streams every lead as CSV (the API's leads.csv path)
// while clicks keep arriving through /t/click at a steady rate (fsync on, as
// in production). It reports, for a first (cold) and a second (warm)
// export: rows/s, the growth of the process's resident memory above what it
// was just before (total, and anonymous memory alone: the rest is Badger's
// memory-mapped table files, i.e. page cache) and the clicks' p99 during the
// export next to their p99 with no export running.
func (s *scaleEnv) exportAllLeads(b *testing.B) {
	b.StopTimer()
	var mu sync.Mutex
	var lat []time.Duration
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // tracking load: 200 clicks/s, one at a time
		defer close(done)
		rng := rand.New(rand.NewPCG(1, 2))
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			body := fmt.Sprintf(`{"ref":%q,"vid":"bench%016d"}`, s.codes[rng.IntN(len(s.codes))], i)
			req := httptest.NewRequest(http.MethodPost, "/t/click", strings.NewReader(body))
			req.Header.Set("Content-Type", "text/plain")
			req.RemoteAddr = "198.51.100.7:4000"
			rec := httptest.NewRecorder()
			start := time.Now()
			s.srv.Echo.ServeHTTP(rec, req)
			mu.Lock()
			lat = append(lat, time.Since(start))
			mu.Unlock()
			if rec.Code != http.StatusCreated {
				b.Errorf("click during export: %d %s", rec.Code, rec.Body.String())
				return
			}
		}
	}()
	clicksP99 := func() (float64, int) {
		mu.Lock()
		defer mu.Unlock()
		l := slices.Clone(lat)
		lat = lat[:0]
		if len(l) == 0 {
			return 0, 0
		}
		slices.Sort(l)
		return float64(l[len(l)*99/100].Microseconds()) / 1000, len(l)
	}
	time.Sleep(2 * time.Second)
	base, nBase := clicksP99()
	b.ReportMetric(base, "click-p99-idle-ms")
	for _, phase := range []string{"cold", "warm"} {
		runtime.GC()
		rss0, anon0 := rss()
		var peak, peakAnon atomic.Int64
		sampling := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			t := time.NewTicker(10 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-sampling:
					return
				case <-t.C:
				}
				r, an := rss()
				peak.Store(max(peak.Load(), r))
				peakAnon.Store(max(peakAnon.Load(), an))
			}
		}()
		w := &countingWriter{}
		start := time.Now()
		rows, err := s.a.WriteLeadsCSV(context.Background(), w, store.LeadQuery{}, export.Merchant, nil)
		elapsed := time.Since(start)
		close(sampling)
		<-sampled
		if err != nil {
			b.Fatal(err)
		}
		during, n := clicksP99()
		b.ReportMetric(float64(rows)/elapsed.Seconds(), phase+"-rows/s")
		b.ReportMetric(float64(peak.Load()-rss0)/(1<<20), phase+"-rss-growth-MB")
		b.ReportMetric(float64(peakAnon.Load()-anon0)/(1<<20), phase+"-anon-growth-MB")
		b.ReportMetric(during, phase+"-click-p99-ms")
		b.Logf("%s: %d rows (%d MB) in %s; RSS %d -> peak %d MB (anonymous %d -> %d MB); %d clicks meanwhile, p99 %.1f ms (%.1f ms in %d clicks before)",
			phase, rows, w.n.Load()>>20, elapsed.Round(time.Millisecond), rss0>>20, peak.Load()>>20, anon0>>20, peakAnon.Load()>>20, n, during, base, nBase)
	}
	close(stop)
	<-done
	b.ReportMetric(0, "ns/op")
}
