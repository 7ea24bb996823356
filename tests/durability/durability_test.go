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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// spiffyBin is the binary under test, built once by TestMain.
var spiffyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spiffy-durability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	spiffyBin = filepath.Join(dir, "spiffy")
	if out, err := exec.Command("go", "build", "-o", spiffyBin, "github.com/spiffy/spiffy").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running spiffy process.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	stderr *lockedBuffer
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs `spiffy serve` on a free loopback port and waits for /healthz.
func startServer(t *testing.T, bin, dataDir string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{t: t, base: "http://" + addr, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve", "--data-dir", dataDir, "--listen", addr, "--base-url", s.base,
		"--tracking-rate-limit", "1000000", "--log-level", "warn")
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start spiffy: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("spiffy exited before answering: %v\n%s", s.err, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("spiffy not healthy after 20s: %v\n%s", err, s.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wait waits for the process to exit and returns its exit code.
func (s *server) wait(timeout time.Duration) int {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(timeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Fatalf("spiffy did not exit within %s\n%s", timeout, s.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return ee.ExitCode()
	}
	if s.err != nil {
		s.t.Fatalf("wait: %v", s.err)
	}
	return 0
}

// client talks JSON to the server.
type client struct {
	base, key string
	http      *http.Client
}

func (c *client) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" && strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err // an answer cut off is not an acknowledgement
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", raw, err)
		}
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, nil
}

func (c *client) must(t *testing.T, method, path string, body, out any) {
	t.Helper()
	if _, err := c.do(context.Background(), method, path, body, out); err != nil {
		t.Fatal(err)
	}
}

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

	out, err := exec.Command(bin, "apikey", "create", "--name", "durability", "--data-dir", dataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("spiffy apikey create: %v\n%s", err, out)
	}
	words := strings.Fields(string(out))
	key := words[len(words)-1]

	srv := startServer(t, bin, dataDir)
	cl := &client{base: srv.base, key: key, http: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	var prg, aff struct{ ID string }
	cl.must(t, "POST", "/api/v1/programs", map[string]any{"name": "Durable", "landing_url": "https://shop.example.com/",
		"track_leads": true, "commission_type": "percent", "commission_value": "20"}, &prg)
	cl.must(t, "POST", "/api/v1/affiliates", map[string]any{"name": "Dora", "email": "dora@partner.example.com", "password": "dora-password"}, &aff)
	cl.must(t, "POST", "/api/v1/programs/"+prg.ID+"/affiliates", map[string]any{"affiliate_id": aff.ID, "code": "dora"}, nil)

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
				if _, err := cl.do(ctx, "POST", "/t/click", map[string]any{"ref": "dora", "vid": fmt.Sprintf("v%dx%d", w, i)}, &click); err != nil {
					continue
				}
				ack.mu.Lock()
				ack.clicks++
				ack.mu.Unlock()
				email := fmt.Sprintf("visitor.%d.%d@example.com", w, i)
				var lead struct{ Lead string }
				status, err := cl.do(ctx, "POST", "/t/lead", map[string]any{"email": email, "name": "Visitor", "referral": click.Referral}, &lead)
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
				status, err = cl.do(ctx, "POST", "/api/v1/purchases", map[string]any{"order_id": fmt.Sprintf("o-%d-%d", w, i),
					"program": prg.ID, "email": email, "amount": "19.90", "referral": click.Referral}, &pur)
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
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.wait(10 * time.Second)
	cancel()
	wg.Wait()
	ack.mu.Lock()
	leads, purchases := ack.leads, ack.purchases
	ack.mu.Unlock()
	t.Logf("acknowledged before SIGKILL after %s: %d clicks, %d leads, %d purchases", time.Since(start).Round(time.Millisecond), ack.clicks, len(leads), len(purchases))
	if len(leads) < 50 || len(purchases) < 10 {
		t.Fatalf("too little load before the kill (%d leads, %d purchases) for the check to mean anything\n%s", len(leads), len(purchases), srv.stderr.String())
	}

	// Restart on the same data dir: everything acknowledged is there.
	srv2 := startServer(t, bin, dataDir)
	cl.base = srv2.base
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
	cl.must(t, "GET", "/api/v1/purchases/"+purchases[len(purchases)-1], nil, &p)
	if p.Affiliate != aff.ID {
		t.Errorf("purchase %s after restart: affiliate %q, want %q", p.ID, p.Affiliate, aff.ID)
	}
	t.Logf("after restart: %d leads and %d purchases stored (acknowledged: %d and %d)",
		len(storedLeads), len(storedPurchases), len(leads), len(purchases))

	// A clean stop: SIGTERM exits 0.
	if err := srv2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := srv2.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d, want 0\n%s", code, srv2.stderr.String())
	}
}

// listIDs pages through an API list and returns every id in it.
func listIDs(t *testing.T, cl *client, path string) map[string]bool {
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
		cl.must(t, "GET", q, nil, &resp)
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
