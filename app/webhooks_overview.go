package app

import (
	"github.com/spiffy/spiffy/store"
)

// The Webhooks pages, each read as one call.

// WebhooksOverview is the merchant's Webhooks page: every endpoint, one
// page of the delivery log, and the names of the affiliates they belong to.
type WebhooksOverview struct {
	Endpoints      []*store.WebhookEndpoint // newest first
	Deliveries     []*store.WebhookMessage
	Cursor         string            // the page's cursor ("" when a bad one was dropped)
	Next           string            // cursor of the next page of deliveries
	AffiliateNames map[string]string // affiliate id → name, for every owner shown
}

// WebhooksOverview reads the merchant's Webhooks page. A cursor that is not
// valid (stale or edited by hand) starts from the newest delivery.
func (a *App) WebhooksOverview(q WebhookMessageQuery) (*WebhooksOverview, error) {
	q.Scope = Merchant
	out := &WebhooksOverview{AffiliateNames: map[string]string{}}
	var err error
	if out.Endpoints, err = a.WebhookEndpoints(Merchant); err != nil {
		return nil, err
	}
	out.Deliveries, out.Next, err = a.WebhookMessages(q)
	if IsKind(err, KindInvalid) && q.Cursor != "" {
		q.Cursor = ""
		out.Deliveries, out.Next, err = a.WebhookMessages(q)
	}
	if err != nil {
		return nil, err
	}
	out.Cursor = q.Cursor
	names := a.db.Names()
	for _, ep := range out.Endpoints {
		out.AffiliateNames[ep.AffiliateID] = names.Affiliate(ep.AffiliateID)
	}
	for _, m := range out.Deliveries {
		out.AffiliateNames[m.AffiliateID] = names.Affiliate(m.AffiliateID)
	}
	return out, nil
}

// EndpointDeliveries is an endpoint with the newest messages of its
// delivery log.
type EndpointDeliveries struct {
	*store.WebhookEndpoint
	Recent []*store.WebhookMessage
	More   bool // older messages exist
}

// AffiliateWebhooks reads an affiliate's Webhooks page: its endpoints
// (oldest first), each with its recent deliveries, in one read.
func (a *App) AffiliateWebhooks(affiliateID string, recent int) ([]EndpointDeliveries, error) {
	var out []EndpointDeliveries
	err := a.db.View(func(tx *store.Tx) error {
		eps, err := tx.AffiliateWebhookEndpoints(affiliateID)
		if err != nil {
			return err
		}
		for _, ep := range eps {
			ms, next, err := tx.WebhookMessagesByEndpoint(ep.ID, "", recent)
			if err != nil {
				return err
			}
			out = append(out, EndpointDeliveries{WebhookEndpoint: ep, Recent: ms, More: next != ""})
		}
		return nil
	})
	return out, err
}
