package app

import "context"

// Placeholders owned by the exports work (issue 4).

// routesExportsAPI registers GET /leads.csv and /purchases.csv.
func (s *Server) routesExportsAPI() {}

// CleanupExports deletes expired export files and their records.
func (a *App) CleanupExports(ctx context.Context) error { return nil }
