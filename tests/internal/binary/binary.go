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
	out    *LockedBuffer
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

// Start runs `spiffy serve` on dataDir with the rate limit off and extra
// flags, on a free loopback port, and waits until /healthz answers. The
// process is killed when the test ends.
func Start(t *testing.T, bin, dataDir string, extra ...string) *Server {
	t.Helper()
	addr := FreeAddr(t)
	base := "http://" + addr
	args := append([]string{"serve", "--data-dir", dataDir, "--listen", addr, "--base-url", base,
		"--tracking-rate-limit", "1000000", "--log-level", "warn"}, extra...)
	s := Run(t, bin, args, 20*time.Second, func() bool { return Healthy(http.DefaultClient, base) })
	s.Base = base
	return s
}

// Run starts bin with args and waits until ready reports true (polled),
// failing the test when the process exits first or timeout passes. The
// process is killed when the test ends, and its output logged if the test
// failed.
func Run(t *testing.T, bin string, args []string, timeout time.Duration, ready func() bool) *Server {
	t.Helper()
	s := &Server{t: t, out: &LockedBuffer{}, exited: make(chan struct{})}
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
		if t.Failed() {
			t.Logf("spiffy's output:\n%s", s.out.String())
		}
	})
	deadline := time.Now().Add(timeout)
	for !ready() {
		select {
		case <-s.exited:
			t.Fatalf("spiffy exited before it was ready: %v\n%s", s.err, s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("spiffy not ready after %s:\n%s", timeout, s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// Healthy reports whether base/healthz answers 200 through c.
func Healthy(c *http.Client, base string) bool {
	resp, err := c.Get(base + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

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

// WaitOutput waits until the process has written want.
func (s *Server) WaitOutput(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("spiffy never wrote %q:\n%s", want, s.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// FreeAddr is a free loopback address (127.0.0.1:port) to listen on.
func FreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// LockedBuffer collects a process's output while tests read it.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
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
