package jobs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// TestExportCleanupJob runs the export_cleanup job directly: an export is
// kept while exports.ttl has not passed, then its file and its record are
// deleted; one made later survives the same run.
func TestExportCleanupJob(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) { c.Exports.TTL = 2 * time.Hour })
	clock := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	env.Clock.Func(func() time.Time { return clock })
	env.Program("Exported")

	start := func() views.ExportView {
		t.Helper()
		x, err := env.App.StartExport(app.Merchant, app.ExportLeads, views.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		env.App.WaitExports()
		return x
	}
	first := start()
	clock = clock.Add(90 * time.Minute)
	second := start()
	path := func(id string) string { return filepath.Join(env.Config.ExportsDir(), id+".csv") }
	record := func(id string) error {
		return env.DB.View(func(tx *store.Tx) error { _, err := tx.Export(id); return err })
	}

	job := &ExportCleanup{Cleanup: env.App.CleanupExports}
	if job.Name() != "export_cleanup" {
		t.Errorf("job name %q", job.Name())
	}
	steps := []struct {
		at                 time.Duration // since the first export
		firstKept, sndKept bool
	}{
		{time.Hour, true, true},
		{2*time.Hour - time.Second, true, true},
		{2 * time.Hour, false, true}, // the first reaches its expiry
		{3*time.Hour + 29*time.Minute, false, true},
		{3*time.Hour + 30*time.Minute, false, false},
	}
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	for _, s := range steps {
		clock = t0.Add(s.at)
		if err := job.Run(context.Background()); err != nil {
			t.Fatalf("at +%v: %v", s.at, err)
		}
		for _, c := range []struct {
			id   string
			kept bool
		}{{first.ID, s.firstKept}, {second.ID, s.sndKept}} {
			_, statErr := os.Stat(path(c.id))
			recErr := record(c.id)
			if c.kept && (statErr != nil || recErr != nil) {
				t.Errorf("at +%v: export %s should be kept: file %v, record %v", s.at, c.id, statErr, recErr)
			}
			if !c.kept && (!os.IsNotExist(statErr) || !errors.Is(recErr, store.ErrNotFound)) {
				t.Errorf("at +%v: export %s should be gone: file %v, record %v", s.at, c.id, statErr, recErr)
			}
		}
	}
}
