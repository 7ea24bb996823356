package app

import (
	"context"

	"github.com/spiffy/spiffy/store"
)

// Placeholders owned by the webhooks work (issue 6); they are replaced by
// the real implementation in app/webhooks*.go.

// routesWebhooksAPI registers the erase endpoint and webhook admin API.
func (s *Server) routesWebhooksAPI() {}

// DeliverDueWebhooks sends webhook messages whose next attempt is due.
func (a *App) DeliverDueWebhooks(ctx context.Context) error { return nil }

func (a *App) startWorkers(ctx context.Context) error { return nil }
func (a *App) stopWorkers()                          {}

// queueLeadEvent runs inside the write that creates a lead and queues a
// lead.created message for each of the affiliate's endpoints, in the same
// transaction, when the program shares leads.
func (a *App) queueLeadEvent(tx *store.Tx, p *store.Program, l *store.Lead) error { return nil }

// queuePurchaseEvent runs inside the write that creates or refunds a
// purchase (eventType purchase.created or purchase.refunded) and queues a
// message for each of the affiliate's endpoints, in the same transaction,
// when the program shares purchasers.
func (a *App) queuePurchaseEvent(tx *store.Tx, p *store.Program, pur *store.Purchase, eventType string) error {
	return nil
}
