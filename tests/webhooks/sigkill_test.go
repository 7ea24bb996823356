// Package webhooks checks the webhook promise of CONTRACT.md §7 on the real
// binary: a message is queued in the same write as the purchase that causes
// it, so every acknowledged purchase reaches the affiliate's endpoint at
// least once, with one webhook-id, even when the process is killed with
// SIGKILL while messages are queued, in flight or waiting for a retry.
package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/spiffy/spiffy/tests/internal/binary"
)

var spiffyBin string

func TestMain(m *testing.M) { binary.Main(m, &spiffyBin) }

// start runs spiffy with private webhook targets allowed (the receiver is
// on loopback) and the retry job every second.
func start(t *testing.T, dataDir string) *binary.Server {
	return binary.Start(t, spiffyBin, dataDir,
		"--webhooks-allow-private-targets", "true", "--webhooks-timeout", "2s", "--jobs-webhook-retries", "@every 1s")
}

// receiver is the affiliate's Zapier stand-in. Before the kill it answers
// a third of requests 200, a third 500 and leaves a third hanging; after it,
// everything is accepted.
type receiver struct {
	mu        sync.Mutex
	delivered map[string]string   // purchase id -> webhook-id, once a 2xx was answered
	ids       map[string][]string // purchase id -> every webhook-id seen
	n         atomic.Int64
	healthy   atomic.Bool
	badSig    atomic.Int64
	wh        *standardwebhooks.Webhook
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := rc.wh.VerifyIgnoringTimestamp(body, r.Header); err != nil {
		rc.badSig.Add(1)
		w.WriteHeader(400)
		return
	}
	var ev struct {
		Type string
		Data struct{ ID string }
	}
	json.Unmarshal(body, &ev)
	id := r.Header.Get("webhook-id")
	rc.mu.Lock()
	rc.ids[ev.Data.ID] = append(rc.ids[ev.Data.ID], id)
	rc.mu.Unlock()
	n := rc.n.Add(1)
	if !rc.healthy.Load() {
		switch n % 3 {
		case 1:
			w.WriteHeader(500)
			return
		case 2:
			<-r.Context().Done() // hangs until the client gives up or dies
			return
		}
	}
	rc.mu.Lock()
	rc.delivered[ev.Data.ID] = id
	rc.mu.Unlock()
	w.WriteHeader(200)
}

func TestWebhooksSurviveSIGKILL(t *testing.T) {
	dataDir := t.TempDir()
	key := binary.APIKey(t, spiffyBin, dataDir)
	p := start(t, dataDir)
	cl := &binary.Client{Base: p.Base, Key: key, HTTP: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	var prg, aff struct{ ID string }
	cl.Must(t, "POST", "/api/v1/programs", map[string]any{"name": "Shop", "landing_url": "https://shop.example.com/",
		"share_purchasers": true, "commission_type": "percent", "commission_value": "25"}, &prg)
	cl.Must(t, "POST", "/api/v1/affiliates", map[string]any{"name": "Zed", "email": "zed@partner.example.com", "password": "zed-password"}, &aff)
	cl.Must(t, "POST", "/api/v1/programs/"+prg.ID+"/affiliates", map[string]any{"affiliate_id": aff.ID, "code": "zed"}, nil)

	rc := &receiver{delivered: map[string]string{}, ids: map[string][]string{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	var ep struct{ ID, Secret string }
	cl.Must(t, "POST", "/api/v1/affiliates/"+aff.ID+"/webhooks", map[string]any{"url": srv.URL + "/hook"}, &ep)
	var err error
	if rc.wh, err = standardwebhooks.NewWebhook(ep.Secret); err != nil {
		t.Fatal(err)
	}

	// Buyers come through Zed's link while the process is killed.
	var mu sync.Mutex
	var acked []string
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				var click struct{ Referral string }
				if _, err := cl.Do(ctx, "POST", "/t/click", map[string]any{"ref": "zed"}, &click); err != nil {
					continue
				}
				var pur struct{ ID string }
				status, err := cl.Do(ctx, "POST", "/api/v1/purchases", map[string]any{"order_id": fmt.Sprintf("o-%d-%d", w, i),
					"program": prg.ID, "email": fmt.Sprintf("b%d.%d@example.com", w, i), "amount": "30.00", "currency": "USD", "referral": click.Referral}, &pur)
				if err == nil && status == 201 {
					mu.Lock()
					acked = append(acked, pur.ID)
					mu.Unlock()
				}
			}
		}()
	}
	// Let purchases, deliveries, failures and hanging requests pile up, then kill.
	deadline := time.Now().Add(10 * time.Second)
	ackedNow := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	for (rc.n.Load() < 30 || ackedNow() < 1000) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	p.Signal(syscall.SIGKILL)
	p.Wait(10 * time.Second)
	cancel()
	wg.Wait()
	mu.Lock()
	ackedAtKill := len(acked)
	mu.Unlock()
	rc.mu.Lock()
	deliveredAtKill := len(rc.delivered)
	rc.mu.Unlock()
	if ackedAtKill < 50 || deliveredAtKill == ackedAtKill {
		t.Fatalf("the kill came too early or too late: %d purchases acknowledged, %d delivered", ackedAtKill, deliveredAtKill)
	}
	t.Logf("at SIGKILL: %d purchases acknowledged, %d delivered, %d requests", ackedAtKill, deliveredAtKill, rc.n.Load())

	// Restart with a healthy receiver: every acknowledged purchase arrives.
	rc.healthy.Store(true)
	start(t, dataDir)
	missing := func() []string {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		var out []string
		for _, id := range acked {
			if _, ok := rc.delivered[id]; !ok {
				out = append(out, id)
			}
		}
		return out
	}
	deadline = time.Now().Add(60 * time.Second)
	for len(missing()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if m := missing(); len(m) > 0 {
		t.Fatalf("%d of %d acknowledged purchases never reached the endpoint (e.g. %s)", len(m), len(acked), m[0])
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	dups := 0
	for pid, ids := range rc.ids {
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("purchase %s arrived under two webhook-ids %v", pid, ids)
			}
		}
		if len(ids) > 1 {
			dups++
		}
	}
	if n := rc.badSig.Load(); n > 0 {
		t.Fatalf("%d requests with a bad signature", n)
	}
	t.Logf("after restart: all %d delivered; %d purchases were sent more than once (same id), %d requests in all", len(acked), dups, rc.n.Load())
}
