package store

import (
	"io"
	"log/slog"
	"testing"
)

// openTest opens a store in a fresh temp dir, closed when the test ends.
func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(Options{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db
}
