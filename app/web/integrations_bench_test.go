package web_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/provider"
)

// BenchmarkStripeWebhook measures POST /integrations/stripe through the
// real router and store (fsync on, as in production) with 32 concurrent
// senders: each request a new signed checkout.session.completed event,
// verified, attributed by its referral and stored with its commission.
// The loopback figure of issue 13 is tests/loadgen -target stripe; this one
// is for profiles:
//
//	go test ./app/web/ -run '^$' -bench StripeWebhook -benchmem -cpu 2 -cpuprofile /tmp/stripe.prof
func BenchmarkStripeWebhook(b *testing.B) {
	a, db, srv := benchServer(b, true, func(c *config.Config) { c.Integrations.Stripe.WebhookSecret = stripeSecret })
	click, err := a.TrackClick(app.ClickInput{Ref: "ann"})
	if err != nil {
		b.Fatal(err)
	}

	// The sample, with its ids and referral made placeholders.
	raw, err := os.ReadFile(filepath.Join("..", "provider", "testdata", "stripe", "checkout.session.completed-payment-2025-03-31.json"))
	if err != nil {
		b.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		b.Fatal(err)
	}
	doc["id"] = "evt_@@"
	obj := doc["data"].(map[string]any)["object"].(map[string]any)
	obj["payment_intent"], obj["client_reference_id"], obj["metadata"] = "pi_@@", click.Referral, map[string]any{"product": "Pro"}
	doc["created"] = time.Now().Unix() + 1
	tmpl, err := json.MarshalIndent(doc, "", "  ") // as Stripe sends them
	if err != nil {
		b.Fatal(err)
	}

	var n atomic.Int64
	batches0, ops0 := db.WriterStats()
	cpu0 := processCPU()
	b.SetParallelism(16) // 32 senders with -cpu 2
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := bytes.ReplaceAll(tmpl, []byte("@@"), []byte(strconv.FormatInt(n.Add(1), 36)))
			now := time.Now()
			req := httptest.NewRequest(http.MethodPost, "/integrations/stripe", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Stripe-Signature", "t="+strconv.FormatInt(now.Unix(), 10)+",v1="+hex.EncodeToString(webhook.ComputeSignature(now, body, stripeSecret)))
			rec := httptest.NewRecorder()
			srv.Echo.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(provider.OutcomeSale)) {
				b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
		}
	})
	b.StopTimer()
	// CPU per event (the whole process: handlers, writer, Badger's own
	// goroutines, and the senders' signing): steadier than ns/op on a
	// shared machine.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	if batches, ops := db.WriterStats(); batches > batches0 {
		b.ReportMetric(float64(ops-ops0)/float64(batches-batches0), "writes/batch")
	}
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
