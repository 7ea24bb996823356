package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
)

// BenchmarkWebhookDelivery queues test events for 20 affiliates' endpoints
// from 32 goroutines and measures queue-to-delivered throughput to a
// loopback receiver (the store without fsync; docs/PERFORMANCE.md has the
// figures of the real binary, from tests/webhooks/whbench).
func BenchmarkWebhookDelivery(b *testing.B) {
	env := apptest.New(b, func(c *config.Config) {
		c.Webhooks.AllowPrivateTargets = true
		c.Webhooks.Timeout = 5 * time.Second
	})
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	type target struct{ aff, ep string }
	var targets []target
	for i := range 20 {
		af := env.Affiliate(fmt.Sprint("A", i), fmt.Sprintf("a%d@example.com", i), "")
		ep, err := env.App.CreateWebhookEndpoint(context.Background(), af.ID, app.WebhookEndpointInput{URL: apptest.Ptr(fmt.Sprintf("%s/h%d", srv.URL, i))})
		if err != nil {
			b.Fatal(err)
		}
		targets = append(targets, target{af.ID, ep.ID})
	}
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				tg := targets[i%int64(len(targets))]
				if _, err := env.App.SendTestWebhook(app.AffiliateScope(tg.aff), tg.ep); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := env.App.Webhooks().Wait(ctx); err != nil {
		b.Fatal(err)
	}
	// Anything the in-memory queue could not take is in the due index.
	if err := env.App.Webhooks().DeliverDue(ctx); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	if n := got.Load(); n < int64(b.N) {
		b.Fatalf("receiver got %d of %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "deliveries/s")
}
