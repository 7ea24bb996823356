package app_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
)

// BenchmarkTrackClick measures POST /t/click through the real router and
// store (writes batched by the single writer; fsync off as in apptest).
// go test ./app/ -run '^$' -bench TrackClick -benchmem
func BenchmarkTrackClick(b *testing.B) {
	env := apptest.New(b, func(c *app.Config) { c.Tracking.RateLimit = 1e9 })
	prg := env.Program("Shop")
	env.Affiliate("Ann", "ann@partner.example", "ann", prg)
	var n atomic.Int64
	batches0, ops0 := env.DB.WriterStats()
	b.Cleanup(func() {
		batches, ops := env.DB.WriterStats()
		if batches > batches0 {
			b.ReportMetric(float64(ops-ops0)/float64(batches-batches0), "writes/batch")
		}
	})
	b.SetParallelism(64) // many browsers at once: the writer batches them
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := `{"ref":"ANN","sub":"spring","url":"https://shop.example.com/?ref=ann","referrer":"https://blog.example/post","vid":"v` + strconv.FormatInt(i, 36) + `abcdefghijklmnop"}`
			req := httptest.NewRequest(http.MethodPost, "/t/click", strings.NewReader(body))
			req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
			req.Header.Set("Origin", "https://shop.example.com")
			req.RemoteAddr = "198.51.100." + strconv.FormatInt(i%200, 10) + ":4000"
			rec := httptest.NewRecorder()
			env.Server.Echo.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
		}
	})
}
