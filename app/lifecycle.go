package app

import (
	"context"

	"github.com/spiffy/spiffy/app/webhook"
)

// Start launches the app's background work: webhook delivery, beginning
// with every message already due. It stops when ctx is cancelled or Stop
// is called.
func (a *App) Start(ctx context.Context) error {
	// A payout step a crash interrupted is finished before anything else
	// can change money.
	if err := a.ResumePayouts(); err != nil {
		return err
	}
	a.webhooks.Start(ctx)
	a.mailer.Start(ctx)
	return nil
}

// Stop cancels running exports and deliveries and waits for them.
func (a *App) Stop() {
	a.exports.Stop()
	a.webhooks.Stop()
	a.mailer.Stop()
}

// Webhooks is the delivery engine, for the jobs that drive it and for
// tests that wait on it.
func (a *App) Webhooks() *webhook.Dispatcher { return a.webhooks }
