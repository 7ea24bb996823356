package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
)

// The baseline: a bare Echo server on the same http.Server settings as
// spiffy serve, whose tracking routes read the body and answer 204. The
// gap between it and Spiffy is what Spiffy's own work costs.

// newBareHandler is the baseline's router.
func newBareHandler() http.Handler {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	h := func(c echo.Context) error {
		_, _ = io.Copy(io.Discard, c.Request().Body)
		return c.NoContent(http.StatusNoContent)
	}
	e.POST("/t/click", h)
	e.POST("/t/lead", h)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	return e
}

// serveBare runs the baseline until SIGINT or SIGTERM.
func serveBare(addr string) error {
	if err := requireLoopbackAddr(addr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("loadgen: bare server: %w", err)
	}
	hs := &http.Server{Handler: newBareHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("bare server listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// child is a process the generator started (the bare server or spiffy).
type child struct {
	cmd  *exec.Cmd
	addr string
}

// startBareChild starts this same binary in bare-server mode on a free
// loopback port, so that the baseline does not share the generator's
// process (nor its CPU accounting).
func startBareChild() (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("loadgen: find own executable: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(self, "-serve-bare", addr)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadgen: start bare server: %w", err)
	}
	c := &child{cmd: cmd, addr: addr}
	if err := waitHTTP("http://"+addr+"/healthz", 10*time.Second); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// stop asks the child to exit (SIGTERM) and returns its exit error.
func (c *child) stop() error {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		return errors.New("loadgen: child did not stop within 20s; killed")
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("loadgen: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls url until it answers 200.
func waitHTTP(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("loadgen: %s not answering after %s (last error: %v)", url, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
