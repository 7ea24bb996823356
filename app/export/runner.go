package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spiffy/spiffy/store"
)

// Background exports. The admin UI (and the portal, if it wants) starts an
// export: the file is written into the exports directory while the page
// shows its progress, listed with a download link until its TTL has
// passed, then deleted with its record by the cleanup job. Rows are read
// through store.Stream*, in short read transactions, so an export of a
// million rows never holds up tracking.

// Export kinds and statuses, as stored in store.Export.
const (
	Leads     = "leads"
	Purchases = "purchases"

	Running = "running"
	Done    = "done"
	Failed  = "failed"
)

// Errors the runner returns; the caller maps them to its own.
var (
	// ErrNotFound: no such export of that owner, or it has expired.
	ErrNotFound = fmt.Errorf("export: %w", store.ErrNotFound)
	// ErrTooMany: the owner already has MaxRunning exports running.
	ErrTooMany = errors.New("export: too many exports running")
	// ErrStopping: the runner is shutting down.
	ErrStopping = errors.New("export: shutting down")
)

// MaxRunning bounds the exports one owner may have running at once, so a
// stuck button cannot start a hundred million-row scans.
const MaxRunning = 3

// progressEvery is the least time between two progress writes.
const progressEvery = 500 * time.Millisecond

// Clock tells the runner the time.
type Clock interface{ Now() time.Time }

// Options configure a Runner.
type Options struct {
	Dir   string        // where export files are written (data_dir/exports)
	TTL   time.Duration // how long a finished export is kept
	Clock Clock
	Log   *slog.Logger
}

// Runner writes exports in the background and keeps their records.
type Runner struct {
	db    *store.DB
	dir   string
	ttl   time.Duration
	clock Clock
	log   *slog.Logger

	mu      sync.Mutex
	wg      sync.WaitGroup
	running map[string]context.CancelFunc
	stopped bool
}

// NewRunner returns a runner over db.
func NewRunner(db *store.DB, o Options) *Runner {
	return &Runner{db: db, dir: o.Dir, ttl: o.TTL, clock: o.Clock, log: o.Log, running: map[string]context.CancelFunc{}}
}

// Job is one export to write: its owner ("admin" or an affiliate id), its
// kind, the filter as its owner set it (kept in the record to show), the
// column set and the query that selects its rows.
type Job struct {
	Owner     string
	Kind      string
	Filter    []byte
	View      View
	Leads     store.LeadQuery
	Purchases store.PurchaseQuery
}

// Stop cancels running exports and waits for them to record their end, so
// the store can close after it.
func (r *Runner) Stop() {
	r.mu.Lock()
	r.stopped = true
	for _, cancel := range r.running {
		cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// Wait blocks until no export is running.
func (r *Runner) Wait() { r.wg.Wait() }

// IsRunning reports whether this process is writing the export id. A
// record that says "running" without that was cut short by a restart.
func (r *Runner) IsRunning(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.running[id]
	return ok
}

// FileName is the name the browser saves an export under.
func FileName(x *store.Export) string {
	return fmt.Sprintf("%s-%s.csv", x.Kind, x.CreatedAt.UTC().Format("20060102-150405"))
}

func (r *Runner) path(id string) string { return filepath.Join(r.dir, id+".csv") }

// Start counts the rows, records the export and writes it in the
// background. It returns the record as started.
func (r *Runner) Start(j Job) (store.Export, error) {
	if err := os.MkdirAll(r.dir, 0o750); err != nil {
		return store.Export{}, fmt.Errorf("export: exports dir: %w", err)
	}
	now := r.clock.Now().UTC()
	x := &store.Export{
		ID: store.NewID(now), Owner: j.Owner, Kind: j.Kind, Filter: j.Filter, Status: Running,
		CreatedAt: now, ExpiresAt: now.Add(r.ttl),
	}
	x.File = x.ID + ".csv"
	err := r.db.View(func(tx *store.Tx) error {
		var c store.Count
		var err error
		if j.Kind == Leads {
			c, err = tx.CountLeads(j.Leads)
		} else {
			c, err = tx.CountPurchases(j.Purchases)
		}
		x.Total = c.N
		return err
	})
	if err != nil {
		return store.Export{}, err
	}

	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return store.Export{}, ErrStopping
	}
	running := 0
	for id := range r.running {
		if xr, err := r.record(id); err == nil && xr.Owner == j.Owner {
			running++
		}
	}
	if running >= MaxRunning {
		r.mu.Unlock()
		return store.Export{}, ErrTooMany
	}
	if err := r.db.Update(func(tx *store.Tx) error { return tx.PutExport(x) }); err != nil {
		r.mu.Unlock()
		return store.Export{}, fmt.Errorf("export: start: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.running[x.ID] = cancel
	r.wg.Add(1)
	r.mu.Unlock()

	// The copy is taken before the export goroutine starts: from then on
	// that goroutine owns x.
	started := *x
	go func() {
		defer r.wg.Done()
		r.run(ctx, x, j)
		r.mu.Lock()
		delete(r.running, x.ID)
		r.mu.Unlock()
		cancel()
	}()
	return started, nil
}

// run writes the file (to a temporary name, renamed when complete) and
// records progress and the outcome.
func (r *Runner) run(ctx context.Context, x *store.Export, j Job) {
	start := time.Now()
	path := r.path(x.ID)
	tmp := path + ".part"
	err := func() error {
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
		if err != nil {
			return err
		}
		defer f.Close()
		last := time.Now()
		progress := func(rows int64) {
			if time.Since(last) < progressEvery {
				return
			}
			last = time.Now()
			r.saveProgress(x.ID, rows)
		}
		if x.Kind == Leads {
			x.Rows, err = WriteLeads(ctx, f, r.db, j.Leads, j.View, progress)
		} else {
			x.Rows, err = WritePurchases(ctx, f, r.db, j.Purchases, j.View, progress)
		}
		if err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}()
	x.Status = Done
	if err != nil {
		_ = os.Remove(tmp)
		x.Status, x.Error = Failed, "the export could not be written"
		if errors.Is(err, context.Canceled) {
			x.Error = "stopped: the server was shutting down"
		}
		r.log.Error("export failed", "id", x.ID, "kind", x.Kind, "err", err)
	} else {
		r.log.Info("export done", "id", x.ID, "kind", x.Kind, "rows", x.Rows, "ms", time.Since(start).Milliseconds())
	}
	if x.Status == Done {
		x.Total = x.Rows
	}
	err = r.db.Update(func(tx *store.Tx) error {
		// The record may have been deleted meanwhile (expired, cleaned up).
		if _, err := tx.Export(x.ID); err != nil {
			return err
		}
		return tx.PutExport(x)
	})
	if err != nil {
		r.log.Warn("export: record the outcome", "id", x.ID, "err", err)
		if x.Status == Done {
			_ = os.Remove(path)
		}
	}
}

func (r *Runner) saveProgress(id string, rows int64) {
	err := r.db.Update(func(tx *store.Tx) error {
		x, err := tx.Export(id)
		if err != nil {
			return err
		}
		x.Rows = rows
		if x.Rows > x.Total {
			x.Total = x.Rows // the total was counted before rows kept arriving
		}
		return tx.PutExport(x)
	})
	if err != nil {
		r.log.Warn("export: save progress", "id", id, "err", err)
	}
}

func (r *Runner) record(id string) (*store.Export, error) {
	var x *store.Export
	err := r.db.View(func(tx *store.Tx) (err error) { x, err = tx.Export(id); return })
	return x, err
}

// Get returns one of the owner's exports; someone else's, an expired one
// or an unknown id is ErrNotFound.
func (r *Runner) Get(owner, id string) (*store.Export, error) {
	if !store.ValidID(id) {
		return nil, ErrNotFound
	}
	x, err := r.record(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if x.Owner != owner || !r.clock.Now().Before(x.ExpiresAt) {
		return nil, ErrNotFound
	}
	return x, nil
}

// List returns the owner's exports that have not expired, newest first.
func (r *Runner) List(owner string) ([]*store.Export, error) {
	var xs []*store.Export
	err := r.db.View(func(tx *store.Tx) (err error) { xs, err = tx.ExportsByOwner(owner, 100); return })
	if err != nil {
		return nil, err
	}
	now := r.clock.Now()
	out := xs[:0]
	for _, x := range xs {
		if now.Before(x.ExpiresAt) {
			out = append(out, x)
		}
	}
	return out, nil
}

// Open opens a finished export's file. A missing file is ErrNotFound.
func (r *Runner) Open(x *store.Export) (*os.File, error) {
	f, err := os.Open(r.path(x.ID))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("export: open: %w", err)
	}
	return f, nil
}

// Delete deletes one of the owner's exports (stopping it if running) and
// its file.
func (r *Runner) Delete(owner, id string) error {
	x, err := r.Get(owner, id)
	if err != nil {
		return err
	}
	r.cancel(id)
	return r.remove(x)
}

func (r *Runner) cancel(id string) {
	r.mu.Lock()
	if cancel := r.running[id]; cancel != nil {
		cancel()
	}
	r.mu.Unlock()
}

func (r *Runner) remove(x *store.Export) error {
	err := r.db.Update(func(tx *store.Tx) error {
		if err := tx.DeleteExport(x.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("export: delete %s: %w", x.ID, err)
	}
	if err := os.Remove(r.path(x.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("export: delete file %s: %w", x.ID, err)
	}
	return nil
}

// Cleanup deletes expired export files and their records, then any file
// in the exports directory that no record owns and that is older than the
// TTL, and any partial file no running export is writing (both left behind
// by a crash). The export_cleanup job runs it.
func (r *Runner) Cleanup(ctx context.Context) error {
	now := r.clock.Now()
	deleted := 0
	for {
		var xs []*store.Export
		err := r.db.View(func(tx *store.Tx) (err error) { xs, err = tx.ExpiredExports(now, 100); return })
		if err != nil {
			return fmt.Errorf("export: cleanup: %w", err)
		}
		for _, x := range xs {
			if err := ctx.Err(); err != nil {
				return err
			}
			r.cancel(x.ID)
			if err := r.remove(x); err != nil {
				return err
			}
			deleted++
		}
		if len(xs) < 100 {
			break
		}
	}
	orphans, err := r.cleanupOrphanFiles(now)
	if deleted > 0 || orphans > 0 {
		r.log.Info("exports cleaned up", "expired", deleted, "orphan_files", orphans)
	}
	return err
}

func (r *Runner) cleanupOrphanFiles(now time.Time) (int, error) {
	entries, err := os.ReadDir(r.dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("export: cleanup: %w", err)
	}
	n := 0
	for _, e := range entries {
		id, _, _ := strings.Cut(e.Name(), ".")
		info, err := e.Info()
		if err != nil || e.IsDir() {
			continue
		}
		// A .part file no export of this process is writing was left by a
		// crash: remove it now (erasure waits while .part files exist).
		stale := strings.HasSuffix(e.Name(), ".part") && !r.IsRunning(id)
		if !stale && now.Sub(info.ModTime()) < r.ttl {
			continue
		}
		if store.ValidID(id) {
			if _, err := r.record(id); err == nil || !errors.Is(err, store.ErrNotFound) {
				continue // still owned by a record (or the store is unreadable)
			}
		}
		if r.IsRunning(id) {
			continue
		}
		if err := os.Remove(filepath.Join(r.dir, e.Name())); err == nil {
			n++
		}
	}
	return n, nil
}
