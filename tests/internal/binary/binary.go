// Package binary runs the real spiffy binary for the end-to-end tests that
// kill it (tests/durability, tests/webhooks): it builds it once per test
// package, starts `spiffy serve` on a free loopback port, and talks JSON to
// it.
package binary

import (
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

// Main builds spiffy into a temporary directory, sets *bin to its path, runs
// the package's tests and exits: call it from TestMain.
func Main(m *testing.M, bin *string) {
	dir, err := os.MkdirTemp("", "spiffy-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin = filepath.Join(dir, "spiffy")
	if out, err := exec.Command("go", "build", "-o", *bin, "github.com/spiffy/spiffy").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// APIKey creates an API key in dataDir with `spiffy apikey create` (the
// server must not be running) and returns it.
func APIKey(t *testing.T, bin, dataDir string) string {
	t.Helper()
	out, err := exec.Command(bin, "apikey", "create", "--name", "test", "--data-dir", dataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("spiffy apikey create: %v\n%s", err, out)
	}
	words := strings.Fields(string(out))
	return words[len(words)-1]
}

// Server is one running `spiffy serve`.
type Server struct {
	Base string // http://127.0.0.1:port

	t      *testing.T
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

// Start runs `spiffy serve` on dataDir with the rate limit off and extra
// flags, on a free loopback port, and waits until /healthz answers. The
// process is killed when the test ends.
func Start(t *testing.T, bin, dataDir string, extra ...string) *Server {
	t.Helper()
	addr := freeAddr(t)
	s := &Server{Base: "http://" + addr, t: t, out: &lockedBuffer{}, exited: make(chan struct{})}
	args := append([]string{"serve", "--data-dir", dataDir, "--listen", addr, "--base-url", s.Base,
		"--tracking-rate-limit", "1000000", "--log-level", "warn"}, extra...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
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
		resp, err := http.Get(s.Base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("spiffy exited before answering: %v\n%s", s.err, s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("spiffy not healthy after 20s: %v\n%s", err, s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Signal sends sig to the process.
func (s *Server) Signal(sig os.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}

// Wait waits for the process to exit and returns its exit code.
func (s *Server) Wait(timeout time.Duration) int {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(timeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Fatalf("spiffy did not exit within %s\n%s", timeout, s.out.String())
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

// Output is what the process wrote to stdout and stderr so far.
func (s *Server) Output() string { return s.out.String() }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
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

// Client talks JSON to a server, with the API key on /api/ paths.
type Client struct {
	Base, Key string
	HTTP      *http.Client
}

// Do sends body (nil: none) and decodes a 2xx answer into out (nil: ignore).
// An answer that is not 2xx, or is cut off, is an error: it is not an
// acknowledgement.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Key != "" && strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", raw, err)
		}
	}
	return resp.StatusCode, nil
}

// Must is Do that fails the test on any error.
func (c *Client) Must(t *testing.T, method, path string, body, out any) {
	t.Helper()
	if _, err := c.Do(context.Background(), method, path, body, out); err != nil {
		t.Fatal(err)
	}
}
