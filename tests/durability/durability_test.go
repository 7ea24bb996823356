// Package durability checks the promise of CONTRACT.md §3 on the real
// binary: a 201/200 for a lead or a purchase is only sent once the write is
// on disk, so it survives the process being killed (SIGKILL) at any moment.
// It also checks the process contract of §1: SIGTERM stops cleanly with
// exit 0, and a bad flag exits 2 with one line naming it.
package durability

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spiffy/spiffy/tests/internal/binary"
)

// spiffyBin is the binary under test, built once by TestMain.
var spiffyBin string

func TestMain(m *testing.M) { binary.Main(m, &spiffyBin) }

// acked collects what the server acknowledged.
type acked struct {
	mu        sync.Mutex
	leads     []string
	purchases []string
	clicks    int
}

func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	bin := spiffyBin
	dataDir := t.TempDir()

	key := binary.APIKey(t, bin, dataDir)
	srv := binary.Start(t, bin, dataDir)
	cl := &binary.Client{Base: srv.Base, Key: key, HTTP: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	var prg, aff struct{ ID string }
	cl.Must(t, "POST", "/api/v1/programs", map[string]any{"name": "Durable", "landing_url": "https://shop.example.com/",
		"track_leads": true, "commission_type": "percent", "commission_value": "20"}, &prg)
	cl.Must(t, "POST", "/api/v1/affiliates", map[string]any{"name": "Dora", "email": "dora@partner.example.com", "password": "dora-password"}, &aff)
	cl.Must(t, "POST", "/api/v1/programs/"+prg.ID+"/affiliates", map[string]any{"affiliate_id": aff.ID, "code": "dora"}, nil)

	// Concurrent visitors: click, sign up, buy; every acknowledged id is
	// recorded. The process is killed while they are at it.
	var ack acked
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	const workers = 24
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				var click struct{ Referral string }
				if _, err := cl.Do(ctx, "POST", "/t/click", map[string]any{"ref": "dora", "vid": fmt.Sprintf("v%dx%d", w, i)}, &click); err != nil {
					continue
				}
				ack.mu.Lock()
				ack.clicks++
				ack.mu.Unlock()
				email := fmt.Sprintf("visitor.%d.%d@example.com", w, i)
				var lead struct{ Lead string }
				status, err := cl.Do(ctx, "POST", "/t/lead", map[string]any{"email": email, "name": "Visitor", "referral": click.Referral}, &lead)
				if err != nil {
					continue
				}
				if status != http.StatusCreated || lead.Lead == "" {
					t.Errorf("lead %s: status %d, id %q; want 201 with an id", email, status, lead.Lead)
					return
				}
				ack.mu.Lock()
				ack.leads = append(ack.leads, lead.Lead)
				ack.mu.Unlock()
				if i%3 != 0 {
					continue
				}
				var pur struct{ ID string }
				status, err = cl.Do(ctx, "POST", "/api/v1/purchases", map[string]any{"order_id": fmt.Sprintf("o-%d-%d", w, i),
					"program": prg.ID, "email": email, "amount": "19.90", "currency": "USD", "referral": click.Referral}, &pur)
				if err != nil {
					continue
				}
				if status != http.StatusCreated || pur.ID == "" {
					t.Errorf("purchase for %s: status %d, id %q; want 201 with an id", email, status, pur.ID)
					return
				}
				ack.mu.Lock()
				ack.purchases = append(ack.purchases, pur.ID)
				ack.mu.Unlock()
			}
		}()
	}

	// Kill once a fair amount has been acknowledged (and at least 1.5 s in),
	// with requests in flight.
	start := time.Now()
	for {
		time.Sleep(100 * time.Millisecond)
		ack.mu.Lock()
		n := len(ack.purchases)
		ack.mu.Unlock()
		if time.Since(start) > 1500*time.Millisecond && n >= 50 || time.Since(start) > 10*time.Second {
			break
		}
	}
	srv.Signal(syscall.SIGKILL)
	srv.Wait(10 * time.Second)
	cancel()
	wg.Wait()
	ack.mu.Lock()
	leads, purchases := ack.leads, ack.purchases
	ack.mu.Unlock()
	t.Logf("acknowledged before SIGKILL after %s: %d clicks, %d leads, %d purchases", time.Since(start).Round(time.Millisecond), ack.clicks, len(leads), len(purchases))
	if len(leads) < 50 || len(purchases) < 10 {
		t.Fatalf("too little load before the kill (%d leads, %d purchases) for the check to mean anything\n%s", len(leads), len(purchases), srv.Output())
	}

	// Restart on the same data dir: everything acknowledged is there.
	srv2 := binary.Start(t, bin, dataDir)
	cl.Base = srv2.Base
	storedLeads := listIDs(t, cl, "/api/v1/leads")
	storedPurchases := listIDs(t, cl, "/api/v1/purchases")
	missing := 0
	for _, id := range leads {
		if !storedLeads[id] {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged lead %s lost", id)
			}
		}
	}
	for _, id := range purchases {
		if !storedPurchases[id] {
			missing++
			if missing <= 10 {
				t.Errorf("acknowledged purchase %s lost", id)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d acknowledged writes lost out of %d leads and %d purchases", missing, len(leads), len(purchases))
	}
	// The last acknowledged purchase, read through its own route, kept its attribution.
	var p struct{ ID, Affiliate string }
	cl.Must(t, "GET", "/api/v1/purchases/"+purchases[len(purchases)-1], nil, &p)
	if p.Affiliate != aff.ID {
		t.Errorf("purchase %s after restart: affiliate %q, want %q", p.ID, p.Affiliate, aff.ID)
	}
	t.Logf("after restart: %d leads and %d purchases stored (acknowledged: %d and %d)",
		len(storedLeads), len(storedPurchases), len(leads), len(purchases))

	// A change after the restart wins over what was written before the kill:
	// the store's commit timestamps continue above every replayed version.
	var refunded struct{ Status string }
	cl.Must(t, "POST", "/api/v1/purchases/"+p.ID+"/refund", nil, nil)
	cl.Must(t, "GET", "/api/v1/purchases/"+p.ID, nil, &refunded)
	if refunded.Status != "refunded" {
		t.Errorf("purchase %s refunded after the restart reads as %q", p.ID, refunded.Status)
	}

	// A clean stop: SIGTERM exits 0.
	srv2.Signal(syscall.SIGTERM)
	if code := srv2.Wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d, want 0\n%s", code, srv2.Output())
	}
}

// listIDs pages through an API list and returns every id in it.
func listIDs(t *testing.T, cl *binary.Client, path string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		var resp struct {
			Data       []struct{ ID string }
			NextCursor *string `json:"next_cursor"`
		}
		q := path + "?limit=500"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		cl.Must(t, "GET", q, nil, &resp)
		for _, d := range resp.Data {
			ids[d.ID] = true
		}
		if resp.NextCursor == nil || page > 10000 {
			return ids
		}
		cursor = *resp.NextCursor
	}
}

func TestBadFlagExitsTwoWithOneLine(t *testing.T) {
	bin := spiffyBin
	cases := []struct {
		args []string
		want string // must appear in the single line
	}{
		{[]string{"serve", "--no-such-flag"}, "no-such-flag"},
		{[]string{"serve", "--listen"}, "listen"},
		{[]string{"serve", "--tracking-rate-limit", "fast"}, "tracking-rate-limit"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.Command(bin, append(tc.args, "--data-dir", t.TempDir())...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.Stdout = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit: %v, want code 2; output %q", err, stderr.String())
			}
			lines := 0
			sc := bufio.NewScanner(&stderr)
			var line string
			for sc.Scan() {
				if strings.TrimSpace(sc.Text()) != "" {
					lines++
					line = sc.Text()
				}
			}
			if lines != 1 || !strings.Contains(line, tc.want) {
				t.Fatalf("output %q: want one line naming %s", stderr.String(), tc.want)
			}
		})
	}
}
