package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spiffy/spiffy/store"
)

// CSV exports. The API streams its .csv lists straight to the client. The
// admin UI (and the portal, if it wants) instead starts a background export:
// the file is written into data/exports while the page shows its progress,
// listed with a download link until exports.ttl has passed, then deleted
// with its record by the cleanup job. Either way rows are read through
// store.Stream*, in short read transactions, so an export of a million rows
// never holds up tracking.

// Export kinds and statuses.
const (
	ExportLeads     = "leads"
	ExportPurchases = "purchases"

	ExportRunning = "running"
	ExportDone    = "done"
	ExportFailed  = "failed"

	// ExportOwnerAdmin owns the merchant's exports; an affiliate's are
	// owned by its id.
	ExportOwnerAdmin = "admin"
)

// maxRunningExports bounds the exports one owner may have running at once,
// so a stuck button cannot start a hundred million-row scans.
const maxRunningExports = 3

// exportProgressEvery is the least time between two progress writes.
const exportProgressEvery = 500 * time.Millisecond

// exportRunner tracks the exports this process is writing. Its zero value
// is ready to use.
type exportRunner struct {
	mu      sync.Mutex
	wg      sync.WaitGroup
	running map[string]context.CancelFunc
	stopped bool
}

// stopExports cancels running exports and waits for them to record their
// end, so the store can close after it.
func (a *App) stopExports() {
	r := &a.exports
	r.mu.Lock()
	r.stopped = true
	for _, cancel := range r.running {
		cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// WaitExports blocks until no export is running. Tests use it instead of
// polling; shutdown uses Stop, which also cancels them.
func (a *App) WaitExports() { a.exports.wg.Wait() }

func (r *exportRunner) isRunning(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.running[id]
	return ok
}

// ExportView is an export as pages and the API show it.
type ExportView struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Status    string     `json:"status"`
	Rows      int64      `json:"rows"`
	Total     int64      `json:"total"`
	Percent   int        `json:"percent"`
	Filter    ListFilter `json:"filter"`
	Error     string     `json:"error,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	FileName  string     `json:"file_name"`
}

func (a *App) exportView(x *store.Export) ExportView {
	v := ExportView{
		ID: x.ID, Kind: x.Kind, Status: x.Status, Rows: x.Rows, Total: x.Total, Error: x.Error,
		CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt, FileName: exportFileName(x),
	}
	_ = json.Unmarshal(x.Filter, &v.Filter)
	if v.Status == ExportRunning && !a.exports.isRunning(x.ID) {
		// Its process stopped before it finished (a restart or a crash).
		v.Status, v.Error = ExportFailed, "interrupted by a restart; start it again"
	}
	switch {
	case v.Status == ExportDone:
		v.Percent = 100
	case v.Total > 0:
		v.Percent = int(min(99, v.Rows*100/v.Total))
	}
	return v
}

// exportFileName is the name the browser saves an export under.
func exportFileName(x *store.Export) string {
	return fmt.Sprintf("%s-%s.csv", x.Kind, x.CreatedAt.UTC().Format("20060102-150405"))
}

func (a *App) exportPath(id string) string {
	return filepath.Join(a.cfg.ExportsDir(), id+".csv")
}

// StartExport validates the filter and starts writing the matching leads or
// purchases to a file in the background. An owner other than the admin is
// an affiliate: its export only ever holds its own referrals, in the portal
// column set.
func (a *App) StartExport(owner, kind string, f ListFilter) (ExportView, error) {
	if kind != ExportLeads && kind != ExportPurchases {
		return ExportView{}, Invalid("kind", "invalid_kind", "kind must be leads or purchases")
	}
	view := CSVMerchant
	if owner != ExportOwnerAdmin {
		f.Affiliate, view = owner, CSVPortal
	}
	var lq store.LeadQuery
	var pq store.PurchaseQuery
	var err error
	if kind == ExportLeads {
		lq, err = a.LeadQuery(f)
	} else {
		pq, err = a.PurchaseQuery(f)
	}
	if err != nil {
		return ExportView{}, err
	}
	filter, err := json.Marshal(f)
	if err != nil {
		return ExportView{}, fmt.Errorf("app: export filter: %w", err)
	}
	if err := os.MkdirAll(a.cfg.ExportsDir(), 0o750); err != nil {
		return ExportView{}, fmt.Errorf("app: exports dir: %w", err)
	}
	now := a.Now().UTC()
	x := &store.Export{
		ID: store.NewID(now), Owner: owner, Kind: kind, Filter: filter, Status: ExportRunning,
		CreatedAt: now, ExpiresAt: now.Add(a.cfg.Exports.TTL),
	}
	x.File = x.ID + ".csv"
	err = a.db.View(func(tx *store.Tx) error {
		var c store.Count
		var err error
		if kind == ExportLeads {
			c, err = tx.CountLeads(lq)
		} else {
			c, err = tx.CountPurchases(pq)
		}
		x.Total = c.N
		return err
	})
	if err != nil {
		return ExportView{}, err
	}

	r := &a.exports
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return ExportView{}, Errorf(KindUnavailable, "shutting_down", "the server is stopping; try again in a moment")
	}
	running := 0
	for id := range r.running {
		if xr, err := a.export(id); err == nil && xr.Owner == owner {
			running++
		}
	}
	if running >= maxRunningExports {
		r.mu.Unlock()
		return ExportView{}, Errorf(KindTooMany, "too_many_exports", "%d exports are already running; wait for one to finish", running)
	}
	if err := a.db.Update(func(tx *store.Tx) error { return tx.PutExport(x) }); err != nil {
		r.mu.Unlock()
		return ExportView{}, fmt.Errorf("app: start export: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if r.running == nil {
		r.running = map[string]context.CancelFunc{}
	}
	r.running[x.ID] = cancel
	r.wg.Add(1)
	r.mu.Unlock()

	// The view is taken before the export goroutine starts: from then on
	// that goroutine owns x.
	v := a.exportView(x)
	go func() {
		defer r.wg.Done()
		a.runExport(ctx, x, lq, pq, view)
		r.mu.Lock()
		delete(r.running, x.ID)
		r.mu.Unlock()
		cancel()
	}()
	return v, nil
}

// runExport writes the file (to a temporary name, renamed when complete)
// and records progress and the outcome.
func (a *App) runExport(ctx context.Context, x *store.Export, lq store.LeadQuery, pq store.PurchaseQuery, view CSVView) {
	start := time.Now()
	path := a.exportPath(x.ID)
	tmp := path + ".part"
	err := func() error {
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
		if err != nil {
			return err
		}
		defer f.Close()
		last := time.Now()
		progress := func(rows int64) {
			if time.Since(last) < exportProgressEvery {
				return
			}
			last = time.Now()
			a.saveExportProgress(x.ID, rows)
		}
		if x.Kind == ExportLeads {
			x.Rows, err = a.WriteLeadsCSV(ctx, f, lq, view, progress)
		} else {
			x.Rows, err = a.WritePurchasesCSV(ctx, f, pq, view, progress)
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
	x.Status = ExportDone
	if err != nil {
		_ = os.Remove(tmp)
		x.Status, x.Error = ExportFailed, "the export could not be written"
		if errors.Is(err, context.Canceled) {
			x.Error = "stopped: the server was shutting down"
		}
		a.log.Error("export failed", "id", x.ID, "kind", x.Kind, "err", err)
	} else {
		a.log.Info("export done", "id", x.ID, "kind", x.Kind, "rows", x.Rows, "ms", time.Since(start).Milliseconds())
	}
	if x.Status == ExportDone {
		x.Total = x.Rows
	}
	err = a.db.Update(func(tx *store.Tx) error {
		// The record may have been deleted meanwhile (expired, cleaned up).
		if _, err := tx.Export(x.ID); err != nil {
			return err
		}
		return tx.PutExport(x)
	})
	if err != nil {
		a.log.Warn("export: record the outcome", "id", x.ID, "err", err)
		if x.Status == ExportDone {
			_ = os.Remove(path)
		}
	}
}

func (a *App) saveExportProgress(id string, rows int64) {
	err := a.db.Update(func(tx *store.Tx) error {
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
		a.log.Warn("export: save progress", "id", id, "err", err)
	}
}

func (a *App) export(id string) (*store.Export, error) {
	var x *store.Export
	err := a.db.View(func(tx *store.Tx) (err error) { x, err = tx.Export(id); return })
	return x, err
}

// Export returns one of the owner's exports; someone else's, an expired
// one or an unknown id is "not found".
func (a *App) Export(owner, id string) (ExportView, error) {
	x, err := a.ownedExport(owner, id)
	if err != nil {
		return ExportView{}, err
	}
	return a.exportView(x), nil
}

func (a *App) ownedExport(owner, id string) (*store.Export, error) {
	if !store.ValidID(id) {
		return nil, NotFound("export_not_found", "export not found")
	}
	x, err := a.export(id)
	if err != nil {
		return nil, notFoundAs(err, "export_not_found", "export")
	}
	if x.Owner != owner || !a.Now().Before(x.ExpiresAt) {
		return nil, NotFound("export_not_found", "export not found")
	}
	return x, nil
}

// Exports lists the owner's exports that have not expired, newest first.
func (a *App) Exports(owner string) ([]ExportView, error) {
	var xs []*store.Export
	err := a.db.View(func(tx *store.Tx) (err error) { xs, err = tx.ExportsByOwner(owner, 100); return })
	if err != nil {
		return nil, err
	}
	now := a.Now()
	out := make([]ExportView, 0, len(xs))
	for _, x := range xs {
		if now.Before(x.ExpiresAt) {
			out = append(out, a.exportView(x))
		}
	}
	return out, nil
}

// OpenExport opens a finished export file of the owner for download.
func (a *App) OpenExport(owner, id string) (io.ReadSeekCloser, ExportView, error) {
	x, err := a.ownedExport(owner, id)
	if err != nil {
		return nil, ExportView{}, err
	}
	v := a.exportView(x)
	if v.Status != ExportDone {
		return nil, v, Conflict("id", "export_not_ready", "the export is %s", v.Status)
	}
	f, err := os.Open(a.exportPath(x.ID))
	if errors.Is(err, os.ErrNotExist) {
		return nil, v, NotFound("export_not_found", "export file not found")
	}
	if err != nil {
		return nil, v, fmt.Errorf("app: open export: %w", err)
	}
	return f, v, nil
}

// DeleteExport deletes one of the owner's exports (stopping it if running)
// and its file.
func (a *App) DeleteExport(owner, id string) error {
	x, err := a.ownedExport(owner, id)
	if err != nil {
		return err
	}
	a.exports.mu.Lock()
	if cancel := a.exports.running[id]; cancel != nil {
		cancel()
	}
	a.exports.mu.Unlock()
	return a.removeExport(x)
}

func (a *App) removeExport(x *store.Export) error {
	err := a.db.Update(func(tx *store.Tx) error {
		if err := tx.DeleteExport(x.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("app: delete export %s: %w", x.ID, err)
	}
	if err := os.Remove(a.exportPath(x.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("app: delete export file %s: %w", x.ID, err)
	}
	return nil
}

// CleanupExports deletes expired export files and their records, then any
// file in the exports directory that no record owns and that is older than
// exports.ttl, and any partial file no running export is writing (both left
// behind by a crash). The export_cleanup job runs it.
func (a *App) CleanupExports(ctx context.Context) error {
	now := a.Now()
	deleted := 0
	for {
		var xs []*store.Export
		err := a.db.View(func(tx *store.Tx) (err error) { xs, err = tx.ExpiredExports(now, 100); return })
		if err != nil {
			return fmt.Errorf("app: cleanup exports: %w", err)
		}
		for _, x := range xs {
			if err := ctx.Err(); err != nil {
				return err
			}
			a.exports.mu.Lock()
			if cancel := a.exports.running[x.ID]; cancel != nil {
				cancel()
			}
			a.exports.mu.Unlock()
			if err := a.removeExport(x); err != nil {
				return err
			}
			deleted++
		}
		if len(xs) < 100 {
			break
		}
	}
	orphans, err := a.cleanupOrphanFiles(now)
	if deleted > 0 || orphans > 0 {
		a.log.Info("exports cleaned up", "expired", deleted, "orphan_files", orphans)
	}
	return err
}

func (a *App) cleanupOrphanFiles(now time.Time) (int, error) {
	entries, err := os.ReadDir(a.cfg.ExportsDir())
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("app: cleanup exports: %w", err)
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
		stale := strings.HasSuffix(e.Name(), ".part") && !a.exports.isRunning(id)
		if !stale && now.Sub(info.ModTime()) < a.cfg.Exports.TTL {
			continue
		}
		if store.ValidID(id) {
			if _, err := a.export(id); err == nil || !errors.Is(err, store.ErrNotFound) {
				continue // still owned by a record (or the store is unreadable)
			}
		}
		if a.exports.isRunning(id) {
			continue
		}
		if err := os.Remove(filepath.Join(a.cfg.ExportsDir(), e.Name())); err == nil {
			n++
		}
	}
	return n, nil
}
