package main

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// runCLI runs the command line in-process with a temp data dir.
func runCLI(t *testing.T, dataDir, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	args = append(args, "--data-dir", dataDir, "--log-level", "error")
	err := run(args, strings.NewReader(stdin), &out, nil)
	return out.String(), err
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

func TestBadFlagsExitTwoWithOneLine(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--no-such-flag"}, "no-such-flag"},
		{[]string{"serve", "--listen"}, "listen"},
		{[]string{"serve", "--tracking-rate-limit", "lots"}, "--tracking-rate-limit"},
		{[]string{"serve", "--exports-ttl", "1 day"}, "--exports-ttl"},
		{[]string{"serve", "--tls-domains", "https://partners.shop.example"}, "--tls-domains"},
		{[]string{"serve", "--tls-listen", "443"}, "--tls-listen"},
		{[]string{"serve", "--debug-pprof-listen", "0.0.0.0:6060"}, "--debug-pprof-listen"},
		{[]string{"frobnicate"}, "frobnicate"},
		{[]string{"admin", "delete"}, "admin"},
		{[]string{"apikey", "create"}, "--name"},
		{[]string{"backup"}, "--out"},
		{[]string{"serve", "--config", filepath.Join(dir, "missing.yaml")}, "missing.yaml"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := runCLI(t, dir, "", tc.args...)
			if exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("exit %d, error %q; want exit 2 naming %q on one line", exitCode(err), err, tc.want)
			}
		})
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("listen: [\n"), 0o600)
	if _, err := runCLI(t, dir, "", "version", "--config", bad); exitCode(err) != 2 {
		t.Fatalf("unreadable YAML: exit %d (%v)", exitCode(err), err)
	}
}

// A busy listen or tls.listen, or an unreadable tls.acme_ca_file, stops the
// start with an error that names it (no panic from background work on the
// closing store), and frees the plain listener.
func TestServeListenErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := runCLI(t, t.TempDir(), "", "serve", "--listen", busy.Addr().String()); err == nil || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Fatalf("busy listen: %v", err)
	}
	plain := freePort(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--tls-listen", busy.Addr().String()}, "tls.listen"},
		{[]string{"--tls-listen", freePort(t), "--tls-acme-ca-file", filepath.Join(t.TempDir(), "missing.pem")}, "tls.acme_ca_file"},
	}
	for _, tc := range cases {
		args := append([]string{"serve", "--listen", plain, "--tls-domains", "partners.shop.example"}, tc.args...)
		_, err := runCLI(t, t.TempDir(), "", args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%v: %v, want an error naming %s", tc.args, err, tc.want)
		}
		ln, err := net.Listen("tcp", plain)
		if err != nil {
			t.Fatalf("plain listener left open after the failed start: %v", err)
		}
		ln.Close()
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestAdminAndAPIKeyCommands(t *testing.T) {
	dir := t.TempDir()
	out, err := runCLI(t, dir, "correct-horse\n", "admin", "create", "--email", "owner@shop.example.com")
	if err != nil || !strings.Contains(out, "owner@shop.example.com") {
		t.Fatalf("admin create: %v %q", err, out)
	}
	if _, err := runCLI(t, dir, "short\n", "admin", "create", "--email", "two@shop.example.com"); exitCode(err) != 1 {
		t.Fatalf("short password accepted: %v", err)
	}
	out, err = runCLI(t, dir, "", "apikey", "create", "--name", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(out)
	key := fields[len(fields)-1]
	if !strings.HasPrefix(key, "spf_") {
		t.Fatalf("key is not the last word: %q", out)
	}

	// The key works against a server over the same data dir.
	a := openApp(t, dir)
	if _, err := a.AuthenticateAdmin("owner@shop.example.com", "correct-horse", "127.0.0.1"); err != nil {
		t.Fatalf("admin cannot sign in: %v", err)
	}
	srv := web.NewServer(a)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/programs", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	srv.Echo.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("printed key rejected: %d %s", rec.Code, rec.Body)
	}
}

func TestBackupAndRestore(t *testing.T) {
	src := t.TempDir()
	if _, err := runCLI(t, src, "correct-horse\n", "admin", "create", "--email", "owner@shop.example.com"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "spiffy.backup")
	if _, err := runCLI(t, src, "", "backup", "--out", file); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if _, err := runCLI(t, dst, "", "restore", "--in", file); err != nil {
		t.Fatal(err)
	}
	// Restoring over data needs --force, and keeps the old data aside.
	if _, err := runCLI(t, dst, "", "restore", "--in", file); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over data: %v", err)
	}
	if _, err := runCLI(t, dst, "", "restore", "--in", file, "--force"); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dst)
	aside := false
	for _, e := range entries {
		aside = aside || strings.HasPrefix(e.Name(), "db.before-restore-")
	}
	if !aside {
		t.Fatal("old database not kept aside")
	}
	// The restored admin exists.
	cfg := config.Default()
	cfg.DataDir = dst
	db, err := store.Open(store.Options{Dir: cfg.DBDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var found bool
	db.View(func(tx *store.Tx) error {
		_, err := tx.AdminByEmail("owner@shop.example.com")
		found = err == nil
		return nil
	})
	if !found {
		t.Fatal("restored data lacks the admin")
	}
}

func TestVersion(t *testing.T) {
	out, err := runCLI(t, t.TempDir(), "", "version")
	if err != nil || !strings.HasPrefix(out, "spiffy ") {
		t.Fatalf("version: %v %q", err, out)
	}
}

// spiffy demo prints an admin's sign-in, an API key and one affiliate's
// portal sign-in, and that affiliate can sign in with it.
func TestDemoPrintsAnAffiliateSignIn(t *testing.T) {
	dir := t.TempDir()
	out, err := runCLI(t, dir, "", "demo", "--affiliates", "6", "--clicks", "200", "--leads", "30", "--purchases", "10")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	var email, password string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "an affiliate: sign in at ") && len(f) == 11 && strings.HasSuffix(f[5], "/portal/login") {
			email, password = f[7], f[10]
		}
	}
	if email == "" {
		t.Fatalf("no affiliate sign-in printed:\n%s", out)
	}
	a := openApp(t, dir)
	if _, err := a.AuthenticateAffiliate(email, password, "127.0.0.1"); err != nil {
		t.Fatalf("the printed affiliate %s / %s cannot sign in: %v\n%s", email, password, err, out)
	}
}

// openApp opens the App over a data dir the commands wrote (the CLI has
// let go of it), closed when the test ends.
func openApp(t *testing.T, dir string) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dir
	db, err := store.Open(store.Options{Dir: cfg.DBDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, err := app.New(app.Options{Config: cfg, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	return a
}

// The server oversubscribes small machines' cores with Go processors, and
// leaves GOMAXPROCS to whoever sets it.
func TestOversubscribeProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	log := slog.New(slog.DiscardHandler)

	runtime.GOMAXPROCS(2)
	t.Setenv("GOMAXPROCS", "2")
	oversubscribeProcs(log)
	if n := runtime.GOMAXPROCS(0); n != 2 {
		t.Fatalf("with GOMAXPROCS set: %d processors, want 2", n)
	}

	os.Unsetenv("GOMAXPROCS")
	oversubscribeProcs(log)
	if n := runtime.GOMAXPROCS(0); n != 2*procsPerCore {
		t.Fatalf("on 2 cores: %d processors, want %d", n, 2*procsPerCore)
	}

	runtime.GOMAXPROCS(8)
	oversubscribeProcs(log)
	if n := runtime.GOMAXPROCS(0); n != 8 {
		t.Fatalf("on 8 cores: %d processors, want 8 (left alone)", n)
	}
}
