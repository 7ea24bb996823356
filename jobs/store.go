package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spiffy/spiffy/store"
)

// StoreGC reclaims space in Badger's value log.
type StoreGC struct {
	Store *store.DB
	Log   *slog.Logger
}

// Name implements Job.
func (j *StoreGC) Name() string { return "store_gc" }

// Run rewrites value-log files that are at least half garbage.
func (j *StoreGC) Run(ctx context.Context) error {
	n, err := j.Store.RunGC(0.5)
	if n > 0 {
		j.Log.Info("value log gc", "rewritten", n)
	}
	return err
}

// Backup writes a full backup into data_dir/backups and keeps the newest
// backups.keep files.
type Backup struct {
	Store *store.DB
	Dir   string // data_dir/backups
	Keep  int    // backups.keep
	Clock Clock
}

// Name implements Job.
func (j *Backup) Name() string { return "backup" }

// Run writes spiffy-YYYYMMDD-HHMMSS.backup atomically (temp file + rename)
// and deletes the oldest backups beyond the configured number.
func (j *Backup) Run(ctx context.Context) error {
	dir := j.Dir
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("jobs: backup: %w", err)
	}
	name := filepath.Join(dir, "spiffy-"+j.Clock.Now().Format("20060102-150405")+".backup")
	if err := j.Store.WriteBackupFile(name); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("jobs: backup: %w", err)
	}
	var backups []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "spiffy-") && strings.HasSuffix(e.Name(), ".backup") {
			backups = append(backups, e.Name())
		}
	}
	sort.Strings(backups) // names sort by time
	for len(backups) > j.Keep {
		if err := os.Remove(filepath.Join(dir, backups[0])); err != nil {
			return fmt.Errorf("jobs: backup: prune: %w", err)
		}
		backups = backups[1:]
	}
	return nil
}

// WebhookRetries delivers webhook messages whose next attempt is due.
type WebhookRetries struct {
	Deliver func(ctx context.Context) error
}

// Name implements Job.
func (j *WebhookRetries) Name() string { return "webhook_retries" }

// Run implements Job.
func (j *WebhookRetries) Run(ctx context.Context) error { return j.Deliver(ctx) }

// ApproveCommissions approves the pending commissions whose hold period
// has ended (contract §9).
type ApproveCommissions struct {
	Approve func(ctx context.Context) (int, error)
	Log     *slog.Logger
}

// Name implements Job.
func (j *ApproveCommissions) Name() string { return "approve_commissions" }

// Run implements Job.
func (j *ApproveCommissions) Run(ctx context.Context) error {
	n, err := j.Approve(ctx)
	if n > 0 {
		j.Log.Info("commissions approved", "count", n)
	}
	return err
}

// ExportCleanup deletes export files older than exports.ttl and their records.
type ExportCleanup struct {
	Cleanup func(ctx context.Context) error
}

// Name implements Job.
func (j *ExportCleanup) Name() string { return "export_cleanup" }

// Run implements Job.
func (j *ExportCleanup) Run(ctx context.Context) error { return j.Cleanup(ctx) }
