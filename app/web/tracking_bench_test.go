package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// BenchmarkTrackClick measures POST /t/click through the real router and
// store, with many concurrent clients so the writer can batch, with fsync
// off (as in tests) and on (as in production, where throughput grows with
// the number of requests in flight: one fsync per batch).
//
//	go test ./app/ -run '^$' -bench TrackClick -benchmem -cpu 2
func BenchmarkTrackClick(b *testing.B) {
	for _, bc := range []struct {
		sync    bool
		clients int // concurrent requests per core
	}{{false, 64}, {true, 1}, {true, 64}, {true, 512}} {
		sync := bc.sync
		b.Run("sync="+strconv.FormatBool(sync)+"/clients="+strconv.Itoa(bc.clients), func(b *testing.B) {
			_, db, srv := benchServer(b, sync, nil)

			var n atomic.Int64
			batches0, ops0 := db.WriterStats()
			b.SetParallelism(bc.clients)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					body := `{"ref":"ANN","sub":"spring","url":"https://shop.example.com/?ref=ann","referrer":"https://blog.example/post","vid":"v` +
						strconv.FormatInt(i, 36) + `abcdefghijklmnop"}`
					req := httptest.NewRequest(http.MethodPost, "/t/click", strings.NewReader(body))
					req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
					req.Header.Set("Origin", "https://shop.example.com")
					req.RemoteAddr = "198.51.100." + strconv.FormatInt(i%200, 10) + ":4000"
					rec := httptest.NewRecorder()
					srv.Echo.ServeHTTP(rec, req)
					if rec.Code != http.StatusCreated {
						b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
					}
				}
			})
			b.StopTimer()
			if batches, ops := db.WriterStats(); batches > batches0 {
				b.ReportMetric(float64(ops-ops0)/float64(batches-batches0), "writes/batch")
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "clicks/s")
		})
	}
}

// benchServer is an App and its server over a fresh store (fsynced when
// sync), the tracking rate limit off, with a program "Shop" (20%) and Ann
// enrolled under the code "ann": the fixture of the web benchmarks.
func benchServer(b *testing.B, sync bool, configure func(*config.Config)) (*app.App, *store.DB, *web.Server) {
	b.Helper()
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	cfg.Tracking.RateLimit = 1e9
	if configure != nil {
		configure(&cfg)
	}
	db, err := store.Open(store.Options{Dir: cfg.DBDir(), SyncWrites: sync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	a, err := app.New(app.Options{Config: cfg, Store: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Stop)
	prg, err := a.CreateProgram(app.ProgramInput{Name: new("Shop"), LandingURL: new("https://shop.example.com/"), CommissionValue: new("20")})
	if err != nil {
		b.Fatal(err)
	}
	af, _, err := a.CreateAffiliate(app.AffiliateInput{Name: new("Ann"), Email: new("ann@partner.example")})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := a.Enroll(prg.ID, af.ID, "ann"); err != nil {
		b.Fatal(err)
	}
	return a, db, web.NewServer(a)
}
