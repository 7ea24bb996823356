// Command spiffy is a self-hosted affiliate program appliance: one binary
// with its store, admin UI, affiliate portal, tracking script and jobs.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/demo"
	"github.com/spiffy/spiffy/app/https"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/jobs"
	"github.com/spiffy/spiffy/store"
	"github.com/spiffy/spiffy/ui"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `usage: spiffy [command] [flags]

commands:
  serve                     run the server (the default)
  admin create --email E    create an admin (password on stdin)
  apikey create --name N    create an API key (printed once)
  backup --out FILE         write a backup (server stopped)
  restore --in FILE         restore a backup into an empty data dir (--force to replace)
  demo                      fill the data dir with a realistic demo account
  reindex                   rebuild every index and roll-up from the records
  version                   print the version

every command takes --config FILE, --data-dir DIR and the settings of
config.example.yaml as flags (--listen, --base-url, --tls-domains, …)`

// exitError carries an exit code; usage problems exit 2.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func usageErr(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func main() {
	err := run(os.Args[1:], os.Stdin, os.Stdout, os.Environ())
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "spiffy: "+err.Error())
	var ee *exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	os.Exit(1)
}

// command is one subcommand: its extra flags and what it does.
type command struct {
	flags func(fs *flag.FlagSet) // subcommand-specific flags
	run   func(env *cmdEnv) error
}

// cmdEnv is what a subcommand gets: the loaded config and its I/O.
type cmdEnv struct {
	cfg    config.Config
	fs     *flag.FlagSet
	stdin  io.Reader
	stdout io.Writer
	log    *slog.Logger
}

func (e *cmdEnv) str(name string) string { return e.fs.Lookup(name).Value.String() }

func commands() map[string]command {
	return map[string]command{
		"serve": {run: cmdServe},
		"admin create": {
			flags: func(fs *flag.FlagSet) { fs.String("email", "", "admin email") },
			run:   cmdAdminCreate,
		},
		"apikey create": {
			flags: func(fs *flag.FlagSet) { fs.String("name", "", "a name to tell the key apart") },
			run:   cmdAPIKeyCreate,
		},
		"backup": {
			flags: func(fs *flag.FlagSet) { fs.String("out", "", "backup file to write") },
			run:   cmdBackup,
		},
		"restore": {
			flags: func(fs *flag.FlagSet) {
				fs.String("in", "", "backup file to read")
				fs.Bool("force", false, "replace a data dir that is not empty")
			},
			run: cmdRestore,
		},
		"demo": {
			flags: func(fs *flag.FlagSet) {
				fs.Int("leads", 20000, "number of leads to create")
				fs.Int("clicks", 100000, "number of clicks to create")
				fs.Int("purchases", 2000, "number of purchases to create")
				fs.Int("affiliates", 50, "number of affiliates to create")
			},
			run: cmdDemo,
		},
		"reindex": {run: cmdReindex},
		"version": {run: func(e *cmdEnv) error { fmt.Fprintln(e.stdout, "spiffy", versionString()); return nil }},
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer, environ []string) error {
	name, rest := "serve", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, rest = args[0], args[1:]
		if name == "admin" || name == "apikey" {
			if len(rest) == 0 || rest[0] != "create" {
				return usageErr("unknown command %q: did you mean '%s create'?", strings.Join(args[:min(2, len(args))], " "), name)
			}
			name, rest = name+" create", rest[1:]
		}
		if name == "help" {
			fmt.Fprintln(stdout, usage)
			return nil
		}
	}
	cmd, ok := commands()[name]
	if !ok {
		return usageErr("unknown command %q (try 'spiffy help')", name)
	}
	fs := flag.NewFlagSet("spiffy "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("config", "", "YAML config file (or SPIFFY_CONFIG)")
	for _, k := range config.Keys {
		fs.String(k.FlagName(), "", k.Help)
	}
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, usage)
			return nil
		}
		return usageErr("%v", err)
	}
	// "--listen --data-dir x" parses as listen="--data-dir": no value of ours
	// starts with "--", so that is a flag given without its value.
	var missing string
	fs.Visit(func(f *flag.Flag) {
		if missing == "" && strings.HasPrefix(f.Value.String(), "--") {
			missing = f.Name
		}
	})
	if missing != "" {
		return usageErr("flag needs an argument: --%s", missing)
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	flagValues := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		for _, k := range config.Keys {
			if k.FlagName() == f.Name {
				flagValues[k.Name] = f.Value.String()
			}
		}
	})
	configFile := fs.Lookup("config").Value.String()
	if configFile == "" {
		configFile = lookupEnv(environ, "SPIFFY_CONFIG")
	}
	cfg, err := config.Load(configFile, environ, flagValues)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	return cmd.run(&cmdEnv{cfg: cfg, fs: fs, stdin: stdin, stdout: stdout, log: newLogger(cfg, os.Stderr)})
}

func lookupEnv(environ []string, name string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func versionString() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// openStore opens the data dir's database with production settings.
func openStore(cfg config.Config, log *slog.Logger) (*store.DB, error) {
	if err := os.MkdirAll(cfg.DBDir(), 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	db, err := store.Open(store.Options{Dir: cfg.DBDir(), Logger: log, SyncWrites: true,
		MappedTables: int64(cfg.MappedTablesMB) << 20})
	if err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock") {
		return nil, fmt.Errorf("the data dir %s is in use: stop the running server first", cfg.DataDir)
	}
	return db, err
}

// withStore opens the store for a one-shot command.
func withStore(e *cmdEnv, fn func(db *store.DB) error) error {
	db, err := openStore(e.cfg, e.log)
	if err != nil {
		return err
	}
	err = fn(db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// withApp opens the store and the app for a one-shot command.
func withApp(e *cmdEnv, fn func(a *app.App, db *store.DB) error) error {
	return withStore(e, func(db *store.DB) error {
		a, err := app.New(app.Options{Config: e.cfg, Store: db, Log: e.log})
		if err != nil {
			return err
		}
		defer a.Stop()
		return fn(a, db)
	})
}

func cmdServe(e *cmdEnv) error {
	setMemoryLimit(e.cfg.MemoryLimitMB, e.log)
	oversubscribeProcs(e.log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := openStore(e.cfg, e.log)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := app.New(app.Options{Config: e.cfg, Store: db, Log: e.log})
	if err != nil {
		return err
	}
	srv := web.NewServer(a)
	if err := ui.Mount(srv); err != nil {
		return err
	}
	sched, err := jobs.New(e.log, jobs.Default(jobs.Deps{
		Config: e.cfg, Store: db, Clock: app.SystemClock{}, Log: e.log,
		DeliverWebhooks: a.Webhooks().DeliverDue, CleanupExports: a.CleanupExports,
		ApproveCommissions: a.ApproveDueCommissions,
		SendMail:           a.Mailer().SendDue, SweepSessions: a.SweepSessions,
	}))
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	served, err := listenAndServe(ctx, e, srv.Echo, db)
	if err != nil {
		a.Stop() // its background work reads the store, which closes next
		return err
	}
	if e.cfg.Debug.PprofListen != "" {
		dbg, err := serveProfiles(e.cfg.Debug.PprofListen, e.log)
		if err != nil {
			served.shutdown(ctx, e.log)
			a.Stop()
			return err
		}
		served.servers = append(served.servers, dbg)
	}
	sched.Start()
	select {
	case err := <-served.errs:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
	}
	// Ordered shutdown: HTTP (finish in-flight requests) → jobs → app
	// background work → store (the writer drains its queue, Badger closes).
	e.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	served.shutdown(sctx, e.log)
	sched.Stop()
	a.Stop()
	if err := db.Close(); err != nil {
		return err
	}
	e.log.Info("stopped cleanly")
	return nil
}

// listenAndServe opens the listeners and serves on them until shut down.
// Plain: the app on listen. With tls.domains: the app over HTTPS on
// tls.listen, with certificates from ACME, and on listen only the HTTP-01
// challenge and redirects to HTTPS. Both listeners are opened before
// anything is served, so a port in use fails the start.
func listenAndServe(ctx context.Context, e *cmdEnv, handler http.Handler, db *store.DB) (*serving, error) {
	newServer := func(addr string, h http.Handler) *http.Server {
		return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: e.cfg.HTTP.ReadTimeout, WriteTimeout: e.cfg.HTTP.WriteTimeout, IdleTimeout: e.cfg.HTTP.IdleTimeout}
	}
	ln, err := net.Listen("tcp", e.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", e.cfg.Listen, err)
	}
	serveErr := make(chan error, 2)
	if !e.cfg.TLS.Enabled() {
		e.log.Info("spiffy listening", "addr", ln.Addr().String(), "base_url", e.cfg.BaseURL, "data_dir", e.cfg.DataDir, "version", versionString())
		hs := newServer(e.cfg.Listen, handler)
		go func() { serveErr <- hs.Serve(ln) }()
		return &serving{servers: []*http.Server{hs}, errs: serveErr}, nil
	}
	certs, err := https.New(e.cfg.TLS, db, e.log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	tln, err := net.Listen("tcp", e.cfg.TLS.Listen)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen %s (tls.listen): %w", e.cfg.TLS.Listen, err)
	}
	e.log.Info("spiffy listening", "https", tln.Addr().String(), "http", ln.Addr().String(), "domains", strings.Join(e.cfg.TLS.Domains, ","),
		"base_url", e.cfg.BaseURL, "data_dir", e.cfg.DataDir, "version", versionString())
	hs := newServer(e.cfg.TLS.Listen, handler)
	hs.TLSConfig = certs.TLSConfig()
	// Failed handshakes (scanners dialling the bare IP, old clients) are
	// routine on a public port; a certificate that cannot be had is logged
	// by Prefetch.
	hs.ErrorLog = slog.NewLogLogger(e.log.Handler(), slog.LevelDebug)
	plain := newServer(e.cfg.Listen, certs.HTTPHandler())
	go func() { serveErr <- hs.ServeTLS(tln, "", "") }()
	go func() { serveErr <- plain.Serve(ln) }()
	go certs.Prefetch(ctx)
	return &serving{servers: []*http.Server{hs, plain}, errs: serveErr, certs: certs}, nil
}

// serveProfiles serves net/http/pprof (CPU and heap profiles, execution
// traces) on a loopback address (debug.pprof_listen), never on the app's
// listener.
func serveProfiles(addr string, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s (debug.pprof_listen): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("profiles served", "addr", ln.Addr().String())
	go func() { _ = hs.Serve(ln) }()
	return hs, nil
}

// serving is what listenAndServe started.
type serving struct {
	servers []*http.Server
	errs    chan error     // the first server that stops unasked says why
	certs   *https.Manager // nil without HTTPS
}

// shutdown finishes in-flight requests, then waits for the certificate
// manager's store access to end: the store closes after this.
func (s *serving) shutdown(ctx context.Context, log *slog.Logger) {
	for _, hs := range s.servers {
		if err := hs.Shutdown(ctx); err != nil {
			log.Warn("http shutdown", "addr", hs.Addr, "err", err)
		}
	}
	if s.certs != nil {
		s.certs.Close()
	}
}

func cmdAdminCreate(e *cmdEnv) error {
	email := e.str("email")
	if email == "" {
		return usageErr("flag --email is required")
	}
	pw, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password from stdin: %w", err)
	}
	pw = strings.TrimRight(pw, "\r\n")
	return withApp(e, func(a *app.App, _ *store.DB) error {
		adm, err := a.CreateAdmin(email, pw)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(e.stdout, "created admin %s\n", adm.Email)
		return nil
	})
}

func cmdAPIKeyCreate(e *cmdEnv) error {
	name := e.str("name")
	if name == "" {
		return usageErr("flag --name is required")
	}
	return withApp(e, func(a *app.App, _ *store.DB) error {
		_, secret, err := a.CreateAPIKey(name)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(e.stdout, "API key %q created; it is shown only once: %s\n", name, secret)
		return nil
	})
}

func cmdBackup(e *cmdEnv) error {
	out := e.str("out")
	if out == "" {
		return usageErr("flag --out is required")
	}
	return withStore(e, func(db *store.DB) error {
		if err := db.WriteBackupFile(out); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "backup written to %s\n", out)
		return nil
	})
}

func cmdRestore(e *cmdEnv) error {
	in := e.str("in")
	if in == "" {
		return usageErr("flag --in is required")
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	entries, _ := os.ReadDir(e.cfg.DBDir())
	if len(entries) > 0 {
		if e.str("force") != "true" {
			return fmt.Errorf("the data dir %s is not empty: pass --force to replace its database", e.cfg.DataDir)
		}
		// Move the old database aside first, so a failed restore loses nothing.
		aside := e.cfg.DBDir() + ".before-restore-" + time.Now().UTC().Format("20060102-150405")
		if err := os.Rename(e.cfg.DBDir(), aside); err != nil {
			return fmt.Errorf("move old database aside: %w", err)
		}
		fmt.Fprintf(e.stdout, "old database moved to %s\n", aside)
	}
	db, err := openStore(e.cfg, e.log)
	if err != nil {
		return err
	}
	if err := db.Restore(f); err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "restored %s into %s\n", in, filepath.Clean(e.cfg.DataDir))
	return nil
}

func cmdDemo(e *cmdEnv) error {
	opts := demo.Options{}
	for name, dst := range map[string]*int{"leads": &opts.Leads, "clicks": &opts.Clicks, "purchases": &opts.Purchases, "affiliates": &opts.Affiliates} {
		if _, err := fmt.Sscan(e.str(name), dst); err != nil || *dst < 0 {
			return usageErr("invalid flag --%s: want a whole number", name)
		}
	}
	return withApp(e, func(a *app.App, db *store.DB) error {
		res, err := demo.Seed(context.Background(), a, db, opts, e.stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "\nsign in at %s/login as %s with password %s\nAPI key: %s\n", e.cfg.BaseURL, res.AdminEmail, res.AdminPassword, res.APIKey)
		if res.AffiliateEmail != "" {
			fmt.Fprintf(e.stdout, "an affiliate: sign in at %s/portal/login as %s with password %s\n", e.cfg.BaseURL, res.AffiliateEmail, res.AffiliatePassword)
		}
		return nil
	})
}

func cmdReindex(e *cmdEnv) error {
	return withStore(e, func(db *store.DB) error {
		start := time.Now()
		err := db.Reindex(func(kind string, done int) {
			fmt.Fprintf(e.stdout, "\r%-10s %d records", kind, done)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "\nreindexed in %s\n", time.Since(start).Round(time.Millisecond))
		return nil
	})
}

// describe turns an app error into a one-line message for the terminal.
func describe(err error) error {
	var ae *app.Error
	if errors.As(err, &ae) {
		return &exitError{code: 1, err: errors.New(ae.Message)}
	}
	return err
}

// procsPerCore is how many Go processors the server runs per core on a
// small machine (oversubscribeProcs).
const procsPerCore = 4

// oversubscribeProcs runs procsPerCore Go processors per core on machines
// with at most 4 cores, unless GOMAXPROCS is set. Go's scheduler has no
// priorities and lets a busy goroutine run 10 ms before it preempts it;
// when Badger flushes a memtable or compacts (one goroutine per flush, up to
// a dozen per compaction, all CPU-bound), a request woken on 2 processors
// waits in line behind them, and the open-loop tail grew to hundreds of ms.
// With more processors than cores the kernel shares the cores, and it runs a
// thread that wakes for a request ahead of one that has been computing. On
// 2 cores at half the lead path's maximum, p99 fell from 135–181 ms to
// 59–69 ms for about 5% more CPU per lead (docs/PERFORMANCE.md, issue 17).
func oversubscribeProcs(log *slog.Logger) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if n := runtime.GOMAXPROCS(0); n <= 4 {
		runtime.GOMAXPROCS(procsPerCore * n)
		log.Debug("go processors", "n", procsPerCore*n, "cores", n)
	}
}

// setMemoryLimit applies memory_limit_mb as the Go heap's soft limit,
// unless GOMEMLIMIT is set: the runtime has already applied that one.
func setMemoryLimit(mb int, log *slog.Logger) {
	if mb <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(int64(mb) << 20)
	log.Debug("go heap soft limit", "mib", mb)
}
