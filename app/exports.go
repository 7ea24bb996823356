package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spiffy/spiffy/app/export"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// CSV exports: the rules of who may export what (app/export writes the
// files). The admin exports the merchant's lists; an affiliate only ever
// its own referrals, in the portal column set.

// Export kinds and statuses.
const (
	ExportLeads     = export.Leads
	ExportPurchases = export.Purchases

	ExportRunning = export.Running
	ExportDone    = export.Done
	ExportFailed  = export.Failed
)

// exportOwner is how an export record names its owner: "admin" for the
// merchant (as records have always said), else the affiliate's id.
func exportOwner(s Scope) string {
	if s.IsMerchant() {
		return "admin"
	}
	return s.AffiliateID()
}

// exportView is an export as pages and the API show it.
func (a *App) exportView(x *store.Export) views.ExportView {
	return views.NewExportView(x, a.exports.IsRunning(x.ID))
}

// exportError turns the runner's errors into the app's.
func exportError(err error) error {
	switch {
	case errors.Is(err, export.ErrNotFound):
		return NotFound("export_not_found", "export not found")
	case errors.Is(err, export.ErrTooMany):
		return Errorf(KindTooMany, "too_many_exports", "%d exports are already running; wait for one to finish", export.MaxRunning)
	case errors.Is(err, export.ErrStopping):
		return Errorf(KindUnavailable, "shutting_down", "the server is stopping; try again in a moment")
	}
	return err
}

// StartExport validates the filter and starts writing the matching leads or
// purchases to a file in the background. For an affiliate the export only
// ever holds its own referrals, in the portal column set.
func (a *App) StartExport(s Scope, kind string, f views.ListFilter) (views.ExportView, error) {
	if kind != ExportLeads && kind != ExportPurchases {
		return views.ExportView{}, Invalid("kind", "invalid_kind", "kind must be leads or purchases")
	}
	j := export.Job{Owner: exportOwner(s), Kind: kind, View: export.Merchant}
	if !s.IsMerchant() {
		f.Affiliate, j.View = s.AffiliateID(), export.Portal
	}
	var err error
	if kind == ExportLeads {
		j.Leads, err = a.LeadQuery(f)
	} else {
		j.Purchases, err = a.PurchaseQuery(f)
	}
	if err != nil {
		return views.ExportView{}, err
	}
	if j.Filter, err = json.Marshal(f); err != nil {
		return views.ExportView{}, fmt.Errorf("app: export filter: %w", err)
	}
	x, err := a.exports.Start(j)
	if err != nil {
		return views.ExportView{}, exportError(err)
	}
	return a.exportView(&x), nil
}

// WaitExports blocks until no export is running. Tests use it instead of
// polling; shutdown uses Stop, which also cancels them.
func (a *App) WaitExports() { a.exports.Wait() }

// Export returns one of the owner's exports; someone else's, an expired
// one or an unknown id is "not found".
func (a *App) Export(s Scope, id string) (views.ExportView, error) {
	x, err := a.exports.Get(exportOwner(s), id)
	if err != nil {
		return views.ExportView{}, exportError(err)
	}
	return a.exportView(x), nil
}

// Exports lists the owner's exports that have not expired, newest first,
// with the names their filters refer to.
func (a *App) Exports(s Scope) ([]views.ExportView, error) {
	xs, err := a.exports.List(exportOwner(s))
	if err != nil {
		return nil, err
	}
	names := a.db.Names()
	out := make([]views.ExportView, 0, len(xs))
	for _, x := range xs {
		v := a.exportView(x)
		v.ProgramName, v.AffiliateName = names.Program(v.Filter.Program), names.Affiliate(v.Filter.Affiliate)
		out = append(out, v)
	}
	return out, nil
}

// OpenExport opens a finished export file of the owner for download.
func (a *App) OpenExport(s Scope, id string) (io.ReadSeekCloser, views.ExportView, error) {
	x, err := a.exports.Get(exportOwner(s), id)
	if err != nil {
		return nil, views.ExportView{}, exportError(err)
	}
	v := a.exportView(x)
	if v.Status != ExportDone {
		return nil, v, Conflict("id", "export_not_ready", "the export is %s", v.Status)
	}
	f, err := a.exports.Open(x)
	if err != nil {
		return nil, v, exportError(err)
	}
	return f, v, nil
}

// DeleteExport deletes one of the owner's exports (stopping it if running)
// and its file.
func (a *App) DeleteExport(s Scope, id string) error {
	return exportError(a.exports.Delete(exportOwner(s), id))
}

// CleanupExports deletes expired exports and files left behind by a crash.
func (a *App) CleanupExports(ctx context.Context) error { return a.exports.Cleanup(ctx) }

// WriteLeadsCSV streams every lead matching q (its Cursor and Limit are
// ignored), newest first, as a CSV file in the given column set; progress,
// when not nil, hears the rows written so far after each chunk.
func (a *App) WriteLeadsCSV(ctx context.Context, w io.Writer, q store.LeadQuery, view export.View, progress func(rows int64)) (int64, error) {
	return export.WriteLeads(ctx, w, a.db, q, view, progress)
}

// WritePurchasesCSV is WriteLeadsCSV for purchases (newest purchased_at first).
func (a *App) WritePurchasesCSV(ctx context.Context, w io.Writer, q store.PurchaseQuery, view export.View, progress func(rows int64)) (int64, error) {
	return export.WritePurchases(ctx, w, a.db, q, view, progress)
}
