package views

import (
	"errors"
	"slices"

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

// ReadWebhooksOverview reads the merchant's Webhooks page: every endpoint
// and a page of limit deliveries in status ("" = any) from cursor. A
// cursor that is not valid (stale or edited by hand) starts from the
// newest delivery.
func ReadWebhooksOverview(tx *store.Tx, status, cursor string, limit int) (*WebhooksOverview, error) {
	out := &WebhooksOverview{AffiliateNames: map[string]string{}}
	var err error
	if out.Endpoints, err = tx.WebhookEndpoints(); err != nil {
		return nil, err
	}
	all := func(string) bool { return true }
	out.Deliveries, out.Next, err = ReadWebhookMessages(tx, all, "", status, cursor, limit)
	if errors.Is(err, store.ErrBadCursor) && cursor != "" {
		cursor = ""
		out.Deliveries, out.Next, err = ReadWebhookMessages(tx, all, "", status, cursor, limit)
	}
	if err != nil {
		return nil, err
	}
	out.Cursor = cursor
	names := tx.Names()
	for _, ep := range out.Endpoints {
		out.AffiliateNames[ep.AffiliateID] = names.Affiliate(ep.AffiliateID)
	}
	for _, m := range out.Deliveries {
		out.AffiliateNames[m.AffiliateID] = names.Affiliate(m.AffiliateID)
	}
	return out, nil
}

// ReadWebhookMessages reads a page of the delivery log, newest first, of
// the messages in status ("" = any) whose owner allows accepts: an
// endpoint's (endpointID, which the caller has checked) or all of them.
func ReadWebhookMessages(tx *store.Tx, allows func(affiliateID string) bool, endpointID, status, cursor string, limit int) ([]*store.WebhookMessage, string, error) {
	keep := func(m *store.WebhookMessage) bool {
		return allows(m.AffiliateID) && (status == "" || m.Status == status)
	}
	if endpointID == "" {
		return tx.WebhookMessages(cursor, limit, keep)
	}
	out, next, err := tx.WebhookMessagesByEndpoint(endpointID, cursor, limit)
	if err == nil && status != "" {
		out = slices.DeleteFunc(out, func(m *store.WebhookMessage) bool { return !keep(m) })
	}
	return out, next, err
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
func (r *Reader) AffiliateWebhooks(affiliateID string, recent int) ([]EndpointDeliveries, error) {
	return store.Read(r.db, func(tx *store.Tx) ([]EndpointDeliveries, error) {
		eps, err := tx.AffiliateWebhookEndpoints(affiliateID)
		if err != nil {
			return nil, err
		}
		var out []EndpointDeliveries
		for _, ep := range eps {
			ms, next, err := tx.WebhookMessagesByEndpoint(ep.ID, "", recent)
			if err != nil {
				return nil, err
			}
			out = append(out, EndpointDeliveries{WebhookEndpoint: ep, Recent: ms, More: next != ""})
		}
		return out, nil
	})
}
