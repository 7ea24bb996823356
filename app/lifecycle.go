package app

import "context"

// Start launches the app's background workers (the webhook dispatcher).
// They stop when ctx is cancelled or Stop is called.
func (a *App) Start(ctx context.Context) error { return a.startWorkers(ctx) }

// Stop waits for background workers to finish their current work.
func (a *App) Stop() {
	a.exports.Stop()
	a.stopWorkers()
}
