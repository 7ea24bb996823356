package durability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app/provider/providertest"
	"github.com/spiffy/spiffy/tests/internal/binary"
)

// Issue 13: a 200 to a payment provider's webhook is sent only once the
// purchase and its commission are on disk. A burst of signed Stripe
// checkout.session.completed events, the process killed (SIGKILL) in the
// middle of it, restarted, and the sender retrying — as Stripe does —
// every event that did not get a 200: no event that got a 200 is lost,
// none is recorded twice, and in the end every event is one purchase.

const stripeSecret = "whsec_durability0123456789abcdef0123456789"

// stripeEvents makes n checkout.session.completed events (one-time
// payments, order id pi_dur_<i>) from the provider package's sample, each
// carrying ref as its client_reference_id.
func stripeEvents(t *testing.T, n int, ref string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "app", "provider", "testdata", "stripe", "checkout.session.completed-payment-2025-03-31.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, n)
	for i := range out {
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		doc["id"] = fmt.Sprintf("evt_dur_%d", i)
		// A second ahead: created is in whole seconds, and a sale earlier
		// than its click (made this same second) is outside its window.
		doc["created"] = time.Now().Unix() + 1
		obj := doc["data"].(map[string]any)["object"].(map[string]any)
		obj["id"] = fmt.Sprintf("cs_test_dur_%d", i)
		obj["payment_intent"] = fmt.Sprintf("pi_dur_%d", i)
		obj["client_reference_id"] = ref
		obj["metadata"] = map[string]any{"product": "Durable plan"}
		obj["discounts"] = []any{}
		obj["customer_details"].(map[string]any)["email"] = fmt.Sprintf("buyer.%d@example.com", i)
		if out[i], err = json.Marshal(doc); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// stripeAnswer is Spiffy's answer to a provider webhook.
type stripeAnswer struct {
	Outcome   string `json:"outcome"`
	Purchase  string `json:"purchase"`
	Duplicate bool   `json:"duplicate"`
}

// deliverStripe sends one event, signed now with stripe-go's test helper
// (a retry is signed afresh, as Stripe does). An error is anything but a
// whole 200 answer: the sender will retry.
func deliverStripe(ctx context.Context, hc *http.Client, base string, body []byte) (stripeAnswer, error) {
	var a stripeAnswer
	sig := providertest.Stripe(body, stripeSecret, time.Now())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/integrations/stripe", bytes.NewReader(body))
	if err != nil {
		return a, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Stripe-Signature", sig)
	resp, err := hc.Do(req)
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return a, err
	}
	if resp.StatusCode != http.StatusOK {
		return a, fmt.Errorf("status %d: %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, fmt.Errorf("answer %q: %w", raw, err)
	}
	return a, nil
}

func TestStripeEventsSurviveSIGKILL(t *testing.T) {
	bin := spiffyBin
	dataDir := t.TempDir()
	secretFlag := []string{"--integrations-stripe-webhook-secret", stripeSecret}

	key := binary.APIKey(t, bin, dataDir)
	srv := binary.Start(t, bin, dataDir, secretFlag...)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	cl := &binary.Client{Base: srv.Base, Key: key, HTTP: hc}
	var prg, aff struct{ ID string }
	cl.Must(t, "POST", "/api/v1/programs", map[string]any{"name": "Stripe shop", "landing_url": "https://shop.example.com/",
		"commission_type": "percent", "commission_value": "20"}, &prg)
	cl.Must(t, "POST", "/api/v1/affiliates", map[string]any{"name": "Sam", "email": "sam@partner.example.com", "password": "sam-password"}, &aff)
	cl.Must(t, "POST", "/api/v1/programs/"+prg.ID+"/affiliates", map[string]any{"affiliate_id": aff.ID, "code": "sam"}, nil)
	var click struct{ Referral string }
	cl.Must(t, "POST", "/t/click", map[string]any{"ref": "sam"}, &click)

	const total = 4000
	events := stripeEvents(t, total, click.Referral)

	// The burst: workers take events in order; what got a 200 is noted
	// with the purchase it recorded.
	var (
		mu     sync.Mutex
		acked  = map[int]string{} // event index → purchase id
		failed int
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range events {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				a, err := deliverStripe(ctx, hc, srv.Base, events[i])
				mu.Lock()
				switch {
				case err != nil:
					failed++
				case a.Outcome != "purchase recorded" || a.Purchase == "" || a.Duplicate:
					t.Errorf("event %d, delivered once: %+v, want a purchase recorded", i, a)
				default:
					acked[i] = a.Purchase
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	for {
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if time.Since(start) > time.Second && n >= 300 || time.Since(start) > 15*time.Second {
			break
		}
	}
	srv.Signal(syscall.SIGKILL)
	srv.Wait(10 * time.Second)
	cancel()
	wg.Wait()
	mu.Lock()
	before := make(map[int]string, len(acked))
	for i, id := range acked {
		before[i] = id
	}
	mu.Unlock()
	t.Logf("before SIGKILL, after %s: %d events got a 200, %d failed in flight, %d not sent", time.Since(start).Round(time.Millisecond),
		len(before), failed, total-len(before)-failed)
	if len(before) < 300 || len(before) == total {
		t.Fatalf("%d of %d events acknowledged before the kill: the kill must land in the middle of the burst\n%s", len(before), total, srv.Output())
	}

	// Restart; the sender retries every event that did not get a 200 and,
	// as a check of idempotency after the restart, sends again a sample of
	// those that did.
	srv2 := binary.Start(t, bin, dataDir, secretFlag...)
	cl.Base = srv2.Base
	retry := make(chan int)
	go func() {
		defer close(retry)
		for i := range events {
			if _, ok := before[i]; !ok || i%10 == 0 {
				retry <- i
			}
		}
	}()
	var recovered, resent, lostAnswers int
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range retry {
				a, err := deliverStripe(context.Background(), hc, srv2.Base, events[i])
				mu.Lock()
				switch {
				case err != nil:
					t.Errorf("event %d after the restart: %v", i, err)
				case before[i] != "" && (!a.Duplicate || a.Purchase != ""):
					t.Errorf("event %d, acknowledged before the kill, sent again: %+v, want a duplicate", i, a)
				case before[i] != "":
					resent++
				case a.Duplicate:
					lostAnswers++ // handled before the kill, its 200 lost with the process
				case a.Outcome == "purchase recorded" && a.Purchase != "":
					recovered++
					acked[i] = a.Purchase
				default:
					t.Errorf("event %d after the restart: %+v", i, a)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("after the restart: %d events recorded, %d had been handled before the kill without their 200 reaching the sender, %d acknowledged ones sent again were duplicates",
		recovered, lostAnswers, resent)

	// Every event is exactly one purchase, with its commission; every
	// acknowledged purchase is the one first acknowledged.
	byOrder := map[string]string{}
	for _, p := range listPurchases(t, cl) {
		if first, dup := byOrder[p.OrderID]; dup {
			t.Errorf("order %s recorded twice: purchases %s and %s", p.OrderID, first, p.ID)
		}
		byOrder[p.OrderID] = p.ID
		if p.Affiliate != aff.ID || p.Amount != "49.00" || p.Commission != "9.80" {
			t.Errorf("purchase %+v: want Sam's 49.00 with 9.80", p)
		}
	}
	if len(byOrder) != total {
		t.Errorf("%d purchases stored, want one per event: %d", len(byOrder), total)
	}
	lost := 0
	for i, id := range before {
		if got := byOrder[fmt.Sprintf("pi_dur_%d", i)]; got != id {
			lost++
			if lost <= 10 {
				t.Errorf("event %d was acknowledged with purchase %s; stored: %q", i, id, got)
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged events lost", lost, len(before))
	}
	if n := len(listIDs(t, cl, "/api/v1/commissions")); n != total {
		t.Errorf("%d commissions, want %d", n, total)
	}

	srv2.Signal(syscall.SIGTERM)
	if code := srv2.Wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d, want 0\n%s", code, srv2.Output())
	}
}

type listedPurchase struct {
	ID, OrderID, Affiliate, Amount, Commission string
}

// listPurchases pages through every purchase.
func listPurchases(t *testing.T, cl *binary.Client) []listedPurchase {
	t.Helper()
	var out []listedPurchase
	cursor := ""
	for page := 0; page < 10000; page++ {
		var resp struct {
			Data []struct {
				ID         string  `json:"id"`
				OrderID    string  `json:"order_id"`
				Affiliate  *string `json:"affiliate"`
				Amount     string  `json:"amount"`
				Commission string  `json:"commission"`
			}
			NextCursor *string `json:"next_cursor"`
		}
		q := "/api/v1/purchases?limit=500"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		cl.Must(t, "GET", q, nil, &resp)
		for _, d := range resp.Data {
			p := listedPurchase{ID: d.ID, OrderID: d.OrderID, Amount: d.Amount, Commission: d.Commission}
			if d.Affiliate != nil {
				p.Affiliate = *d.Affiliate
			}
			out = append(out, p)
		}
		if resp.NextCursor == nil {
			break
		}
		cursor = *resp.NextCursor
	}
	return out
}
