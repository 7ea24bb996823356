package app

import "context"

// routesWebhooksAPI registers the erase endpoint and webhook admin API (issue 6).
func (s *Server) routesWebhooksAPI() {}

// DeliverDueWebhooks sends webhook messages whose next attempt is due (issue 6).
func (a *App) DeliverDueWebhooks(ctx context.Context) error { return nil }

func (a *App) startWorkers(ctx context.Context) error { return nil }
func (a *App) stopWorkers()                           {}
