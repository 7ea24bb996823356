package app

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spiffy/spiffy/store"
)

// WriteBackupFile writes a full backup of db to path atomically: into a
// temporary file beside it, synced, then renamed, so a crash never leaves a
// truncated file under the final name.
func WriteBackupFile(db *store.DB, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".backup-*")
	if err != nil {
		return fmt.Errorf("app: backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := db.Backup(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("app: backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("app: backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("app: backup: %w", err)
	}
	return nil
}
