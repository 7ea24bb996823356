//go:build browser

// Package browser holds end-to-end tests that drive a real Chromium against
// Spiffy served over loopback HTTP. Run them with
//
//	go test -tags browser ./tests/browser/
//
// They need Debian's Chromium at /usr/bin/chromium (or $SPIFFY_CHROMIUM) and
// fail, never skip, when it is missing. Screenshots go to the test's
// artifact directory: pass -artifacts (and -outputdir) to keep them, or set
// $SPIFFY_ARTIFACTS to a directory.
//
// This file is the shared harness: StartSpiffy, StartSite, NewBrowser,
// Browser.Screenshot, and Browser.AllowDownloads with Browser.DownloadCSV.
// Feature tests live in their own files.
package browser

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/ui"
)

// Spiffy is the appliance under test: a fresh data dir, the real server with
// the admin UI and portal mounted, served on 127.0.0.1.
type Spiffy struct {
	*apptest.Env
	// URL is the server's origin, http://127.0.0.1:PORT (also its base_url).
	URL string

	http *served
}

// Stop stops serving HTTP, as an appliance being upgraded does: the port
// refuses connections until Start. The store stays as it is.
func (s *Spiffy) Stop(t *testing.T) {
	t.Helper()
	s.http.stop(t)
}

// Start serves again on the same port after Stop.
func (s *Spiffy) Start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", s.http.addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", s.http.addr, err)
	}
	s.http = serve(t, ln, s.Server.Echo)
}

// StartSpiffy starts Spiffy on a random loopback port. configure may change
// the config; base_url is set to the served origin and the tracking rate
// limit is raised so a test's page loads are never throttled. The server
// stops when the test ends.
func StartSpiffy(t *testing.T, configure ...func(*config.Config)) *Spiffy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	origin := "http://" + ln.Addr().String()
	env := apptest.New(t, append([]func(*config.Config){func(c *config.Config) {
		c.BaseURL = origin
		c.Tracking.RateLimit = 10000
	}}, configure...)...)
	if err := ui.Mount(env.Server); err != nil {
		ln.Close()
		t.Fatalf("mount ui: %v", err)
	}
	return &Spiffy{Env: env, URL: origin, http: serve(t, ln, env.Server.Echo)}
}

// StartSite serves h as a second site, a merchant's, on its own loopback
// port and returns its origin as http://localhost:PORT: another host and
// port than Spiffy's http://127.0.0.1:PORT, so it is both cross-origin and
// cross-site, as a real shop embedding SpiffyJS is.
func StartSite(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	serve(t, ln, h)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return "http://localhost:" + port
}

// served is one HTTP server on a loopback listener, stopped when the test
// ends unless stopped before.
type served struct {
	addr string
	srv  *http.Server
	done chan error
	once sync.Once
}

func serve(t *testing.T, ln net.Listener, h http.Handler) *served {
	s := &served{addr: ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(ln) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *served) stop(t *testing.T) {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown %s: %v", s.addr, err)
		}
		if err := <-s.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve %s: %v", s.addr, err)
		}
	})
}

// Browser is one headless Chromium with a fresh profile and one tab.
type Browser struct {
	// Ctx runs actions in the tab: chromedp.Do(b.Ctx, ...), chromedp.Run(b.Ctx, ...).
	Ctx context.Context
	t   *testing.T

	mu      sync.Mutex
	console []string
	shots   int
}

// chromiumPath is Debian's Chromium unless $SPIFFY_CHROMIUM names another.
func chromiumPath() string {
	if p := os.Getenv("SPIFFY_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// NewBrowser launches Chromium for the test, with the whole test limited
// to timeout (90 s when zero) and any extra command-line options (such as
// chromedp.Flag("host-resolver-rules", …)). It fails the test when
// Chromium is missing: a browser test that silently skips proves nothing.
// When the test fails, the page's console output is logged and a last
// screenshot is saved.
func NewBrowser(t *testing.T, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	path := chromiumPath()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("chromium not found at %s (install Debian's chromium or set SPIFFY_CHROMIUM): %v", path, err)
	}
	if timeout <= 0 {
		timeout = 90 * time.Second
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	opts = append(opts, extra...)
	base, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(base, opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &Browser{Ctx: ctx, t: t}
	t.Cleanup(func() {
		if t.Failed() {
			for _, m := range b.Console() {
				t.Logf("browser console: %s", m)
			}
			b.Screenshot("failure")
		}
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})
	if err := chromedp.Listen(ctx, b.record); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// record keeps console messages and uncaught exceptions (it runs on
// chromedp's event goroutine, so it only appends under the lock).
func (b *Browser) record(ev any) {
	var line string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		parts := make([]string, 0, len(e.Args))
		for _, a := range e.Args {
			if len(a.Value) > 0 {
				parts = append(parts, string(a.Value)) // JSON text of a primitive
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = string(e.Type) + ": " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		line = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			line += " " + e.ExceptionDetails.Exception.Description
		}
	default:
		return
	}
	b.mu.Lock()
	b.console = append(b.console, line)
	b.mu.Unlock()
}

// Console returns the page's console messages and uncaught exceptions so far.
func (b *Browser) Console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// Exceptions returns the uncaught exceptions among Console.
func (b *Browser) Exceptions() []string {
	var out []string
	for _, m := range b.Console() {
		if strings.HasPrefix(m, "exception: ") {
			out = append(out, m)
		}
	}
	return out
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ArtifactDir is where a test's output files go: $SPIFFY_ARTIFACTS/<test>
// when set, else t.ArtifactDir() (kept with go test -artifacts).
func ArtifactDir(t *testing.T) string {
	t.Helper()
	if root := os.Getenv("SPIFFY_ARTIFACTS"); root != "" {
		dir := filepath.Join(root, unsafeName.ReplaceAllString(t.Name(), "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("artifacts dir: %v", err)
		}
		return dir
	}
	return t.ArtifactDir()
}

// Screenshot saves a full-page PNG of the tab as NN-name.png in the test's
// artifact directory. A failure to capture is logged, not fatal: the
// screenshot is evidence, not the test.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.mu.Lock()
	b.shots++
	n := b.shots
	b.mu.Unlock()
	path := filepath.Join(ArtifactDir(b.t), fmt.Sprintf("%02d-%s.png", n, unsafeName.ReplaceAllString(name, "_")))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// AllowDownloads lets the tab download files into a fresh directory, which
// it returns, and report their progress (for DownloadCSV).
func (b *Browser) AllowDownloads() string {
	b.t.Helper()
	dir := b.t.TempDir()
	if err := chromedp.Do(b.Ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
		})
		return err
	})); err != nil {
		b.t.Fatalf("allow downloads: %v", err)
	}
	return dir
}

// DownloadCSV clicks the link sel, waits for the download to finish in dir
// (see AllowDownloads) and returns the file's rows. Spiffy's CSV has no
// BOM; a file with one fails the test.
func (b *Browser) DownloadCSV(dir, sel string) [][]string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			b.t.Fatal("download canceled")
		}
		if ev.State != browser.DownloadProgressStateCompleted {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, ev.GUID))
		if err != nil {
			b.t.Fatal(err)
		}
		if strings.HasPrefix(string(raw), "\uFEFF") {
			b.t.Fatal("the CSV starts with a BOM")
		}
		rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
		if err != nil {
			b.t.Fatalf("downloaded file is not CSV: %v\n%s", err, raw)
		}
		return rows
	}
	b.t.Fatal("no download finished")
	return nil
}

// HTML serves a fixed page, for StartSite.
func HTML(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(body))
	})
}

// Eventually polls cond every 50 ms until it is true or timeout passes,
// for effects a browser causes asynchronously (a beacon reaching the server).
func Eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// notPages are the GET routes of the admin and portal tables that answer a
// file or JSON, not a page to look at.
var notPages = map[string]string{
	"admin.affiliates.suggest":     "the affiliate picker's JSON suggestions",
	"admin.export.download":        "a CSV download",
	"admin.payout.file":            "a payout file download",
	"portal.program.leads_csv":     "a CSV download",
	"portal.program.purchases_csv": "a CSV download",
	"portal.webhook_message":       "JSON for the test button (else a redirect to the endpoint's log)",
}

// unvisitedPages lists ("name path", sorted) the GET pages of the admin and
// portal route tables a page-by-page test did not visit, so that a new page
// is checked too (the accessibility audit, the phone width).
func unvisitedPages(t *testing.T, e *echo.Echo, visited map[string]bool) []string {
	t.Helper()
	var missed []string
	pages := 0
	for _, r := range e.Routes() {
		if r.Method != http.MethodGet || !(strings.HasPrefix(r.Name, "admin.") || strings.HasPrefix(r.Name, "portal.")) {
			continue
		}
		pages++
		if !visited[r.Name] && notPages[r.Name] == "" {
			missed = append(missed, r.Name+" "+r.Path)
		}
	}
	if pages < 20 {
		t.Errorf("the route tables hold only %d GET routes named admin.* or portal.*: were they renamed?", pages)
	}
	sort.Strings(missed)
	return missed
}
