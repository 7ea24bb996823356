package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/event"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/app/webhook"
	"github.com/spiffy/spiffy/store"
)

// Affiliate webhooks: endpoint management (portal and merchant) and the
// outbox hooks that the tracking writes call. The event bodies are package
// event's; delivery lives in package webhook (the Dispatcher, signing and
// the HTTP client).

// WebhookSchedule says in words when a failed delivery is tried again, for
// the pages that explain it.
func WebhookSchedule() string { return webhook.DescribeSchedule() }

// Delivery states of a webhook message, as lists and filters name them.
const (
	MessagePending   = store.MessagePending
	MessageDelivered = store.MessageDelivered
	MessageFailed    = store.MessageFailed
)

// Who disabled an endpoint.
const (
	DisabledByAffiliate = webhook.DisabledByAffiliate
	DisabledByMerchant  = webhook.DisabledByMerchant
	DisabledByAuto      = webhook.DisabledByAuto
)

// MaxWebhookEndpoints is how many endpoints one affiliate may have.
const MaxWebhookEndpoints = 10

// Outbox hooks. They run inside the write that creates the lead or the
// purchase, so the message exists if and only if the event does.

// queueLeadEvent queues lead.created for each of the affiliate's enabled
// endpoints subscribed to it, when the program shares leads.
func (a *App) queueLeadEvent(tx *store.Tx, p *store.Program, l *store.Lead) error {
	if !p.ShareLeads || l.AffiliateID == "" {
		return nil
	}
	return a.queueEvent(tx, l.AffiliateID, event.LeadCreated, l.ID, l.Email, func(now time.Time) ([]byte, error) {
		return event.Marshal(event.LeadCreated, now, event.Lead(p, l))
	})
}

// queuePurchaseEvent queues purchase.created or purchase.refunded for each
// of the affiliate's enabled endpoints subscribed to it, when the program
// shares purchasers. Unattributed and self-referred purchases have no
// affiliate to tell.
func (a *App) queuePurchaseEvent(tx *store.Tx, p *store.Program, pur *store.Purchase, eventType string) error {
	if !p.SharePurchasers || pur.AffiliateID == "" || pur.SelfReferral {
		return nil
	}
	if eventType != event.PurchaseCreated && eventType != event.PurchaseRefunded {
		return fmt.Errorf("app: queue purchase event: unknown type %q", eventType)
	}
	return a.queueEvent(tx, pur.AffiliateID, eventType, pur.ID, pur.Email, func(now time.Time) ([]byte, error) {
		return event.Marshal(eventType, now, event.Purchase(p, pur))
	})
}

// queueEvent writes one pending message per matching endpoint and wakes the
// dispatcher once the write is committed. With no endpoints it costs one
// key-only prefix scan.
func (a *App) queueEvent(tx *store.Tx, affiliateID, eventType, subjectID, email string, body func(time.Time) ([]byte, error)) error {
	ids, err := tx.AffiliateWebhookEndpointIDs(affiliateID)
	if err != nil || len(ids) == 0 {
		return err
	}
	now := a.Now()
	var payload []byte
	var refs []webhook.Due
	for _, id := range ids {
		ep, err := tx.WebhookEndpoint(id)
		if err != nil {
			return err
		}
		// payout.paid is the affiliate's own money: every enabled endpoint
		// gets it, whatever it subscribed to.
		if ep.Disabled || eventType != event.PayoutPaid && !slices.Contains(ep.Events, eventType) {
			continue
		}
		if payload == nil {
			if payload, err = body(now); err != nil {
				return err
			}
		}
		m := newMessage(ep, eventType, payload, now)
		m.SubjectID, m.Email = subjectID, email
		if err := tx.InsertWebhookMessage(m); err != nil {
			return err
		}
		refs = append(refs, webhook.NewDue(ep, m))
	}
	a.webhooks.EnqueueAfterCommit(tx, refs...)
	return nil
}

func newMessage(ep *store.WebhookEndpoint, eventType string, payload []byte, now time.Time) *store.WebhookMessage {
	return &store.WebhookMessage{
		ID: store.NewID(now), EndpointID: ep.ID, AffiliateID: ep.AffiliateID, EventType: eventType,
		Payload: payload, Status: store.MessagePending, NextAttemptAt: now, CreatedAt: now,
	}
}

// Endpoint management. Every call but creation takes a Scope: an
// affiliate's (the portal) sees and changes its own endpoints only; the
// merchant's sees all.

// WebhookEndpointInput carries an endpoint create or partial update; nil
// fields are not given.
type WebhookEndpointInput struct {
	URL    *string  `json:"url" form:"url"`
	Events []string `json:"events" form:"events"`
	// Disabled switches the endpoint off or back on (updates only).
	Disabled *bool `json:"disabled" form:"disabled"`
}

func (a *App) webhookGuard() webhook.Guard {
	return webhook.Guard{AllowPrivate: a.cfg.Webhooks.AllowPrivateTargets}
}

// checkWebhookURL validates a target as it is saved: syntax, and that it
// resolves to public addresses only (unless private targets are allowed).
func (a *App) checkWebhookURL(ctx context.Context, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", Invalid("url", "invalid_url", "url is required")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u, err := a.webhookGuard().CheckURL(ctx, raw)
	var te *webhook.TargetError
	if errors.As(err, &te) {
		return "", Invalid("url", "invalid_url", "url not allowed: %s", te.Reason)
	}
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

func checkEvents(events []string) ([]string, error) {
	out, unknown := event.Subscription(events)
	if unknown != "" {
		return nil, Invalid("events", "invalid_events", "unknown event %q; choose from %s", unknown, strings.Join(event.Subscribable(), ", "))
	}
	if len(out) == 0 {
		return nil, Invalid("events", "invalid_events", "choose at least one event")
	}
	return out, nil
}

// CreateWebhookEndpoint adds an endpoint for an affiliate with a fresh
// signing secret. Without events it subscribes to all of them.
func (a *App) CreateWebhookEndpoint(ctx context.Context, affiliateID string, in WebhookEndpointInput) (*store.WebhookEndpoint, error) {
	if in.URL == nil {
		return nil, Invalid("url", "invalid_url", "url is required")
	}
	url, err := a.checkWebhookURL(ctx, *in.URL)
	if err != nil {
		return nil, err
	}
	events := event.Subscribable()
	if in.Events != nil {
		if events, err = checkEvents(in.Events); err != nil {
			return nil, err
		}
	}
	now := a.Now()
	ep := &store.WebhookEndpoint{
		ID: store.NewID(now), AffiliateID: affiliateID, URL: url, Secret: webhook.NewSecret(),
		Events: events, CreatedAt: now,
	}
	if in.Disabled != nil && *in.Disabled {
		ep.Disabled, ep.DisabledAt, ep.DisabledBy = true, &now, DisabledByAffiliate
	}
	err = a.db.Update(func(tx *store.Tx) error {
		if _, err := getAffiliate(tx, affiliateID); err != nil {
			return err
		}
		ids, err := tx.AffiliateWebhookEndpointIDs(affiliateID)
		if err != nil {
			return err
		}
		if len(ids) >= MaxWebhookEndpoints {
			return Invalid("url", "too_many_endpoints", "an affiliate can have at most %d webhook endpoints; delete one first", MaxWebhookEndpoints)
		}
		return tx.PutWebhookEndpoint(ep)
	})
	if err != nil {
		return nil, err
	}
	return ep, nil
}

// scopedEndpoint reads an endpoint, hiding other affiliates' endpoints as
// "not found".
func scopedEndpoint(tx *store.Tx, s Scope, id string) (*store.WebhookEndpoint, error) {
	return scoped(tx.WebhookEndpoint, func(e *store.WebhookEndpoint) string { return e.AffiliateID },
		s, id, "webhook_endpoint_not_found", "webhook endpoint")
}

// scopedMessage reads a delivery-log message, hiding other affiliates'
// messages as "not found".
func scopedMessage(tx *store.Tx, s Scope, id string) (*store.WebhookMessage, error) {
	return scoped(tx.WebhookMessage, func(m *store.WebhookMessage) string { return m.AffiliateID },
		s, id, "webhook_message_not_found", "webhook message")
}

// scoped reads the record id with read; in an affiliate's scope a record
// owned by another affiliate is "not found", exactly like a missing one,
// so ids cannot be probed.
func scoped[T any](read func(string) (*T, error), owner func(*T) string, s Scope, id, code, what string) (*T, error) {
	if !store.ValidID(id) {
		return nil, NotFound(code, "%s not found", what)
	}
	rec, err := read(id)
	if err != nil {
		return nil, notFoundAs(err, code, what)
	}
	if !s.Allows(owner(rec)) {
		return nil, NotFound(code, "%s not found", what)
	}
	return rec, nil
}

// WebhookEndpoint returns one endpoint.
func (a *App) WebhookEndpoint(s Scope, id string) (*store.WebhookEndpoint, error) {
	return store.Read(a.db, func(tx *store.Tx) (*store.WebhookEndpoint, error) { return scopedEndpoint(tx, s, id) })
}

// WebhookEndpoints lists an affiliate's endpoints (oldest first), or with
// the merchant's scope every endpoint (newest first).
func (a *App) WebhookEndpoints(s Scope) ([]*store.WebhookEndpoint, error) {
	var out []*store.WebhookEndpoint
	err := a.db.View(func(tx *store.Tx) (err error) {
		if s.IsMerchant() {
			out, err = tx.WebhookEndpoints()
		} else {
			out, err = tx.AffiliateWebhookEndpoints(s.AffiliateID())
		}
		return
	})
	return out, err
}

// UpdateWebhookEndpoint changes an endpoint's URL, events, or enabled state.
// An affiliate's scope means the affiliate asks, who cannot re-enable an
// endpoint the merchant disabled. Enabling clears the failure streak so the
// five-day clock starts afresh.
func (a *App) UpdateWebhookEndpoint(ctx context.Context, s Scope, id string, in WebhookEndpointInput) (*store.WebhookEndpoint, error) {
	var url string
	if in.URL != nil {
		var err error
		if url, err = a.checkWebhookURL(ctx, *in.URL); err != nil {
			return nil, err
		}
	}
	var events []string
	if in.Events != nil {
		var err error
		if events, err = checkEvents(in.Events); err != nil {
			return nil, err
		}
	}
	by := DisabledByMerchant
	if !s.IsMerchant() {
		by = DisabledByAffiliate
	}
	var ep *store.WebhookEndpoint
	err := a.db.Update(func(tx *store.Tx) error {
		var err error
		if ep, err = scopedEndpoint(tx, s, id); err != nil {
			return err
		}
		if url != "" {
			ep.URL = url
		}
		if events != nil {
			ep.Events = events
		}
		if in.Disabled != nil && *in.Disabled != ep.Disabled {
			if *in.Disabled {
				now := a.Now()
				ep.Disabled, ep.DisabledAt, ep.DisabledBy, ep.DisabledReason = true, &now, by, webhook.DisabledReason(by, now)
			} else {
				if ep.DisabledBy == DisabledByMerchant && by == DisabledByAffiliate {
					return Errorf(KindForbidden, "endpoint_disabled_by_merchant", "the program owner disabled this endpoint; ask them to enable it")
				}
				ep.Disabled, ep.DisabledAt, ep.DisabledBy, ep.DisabledReason = false, nil, "", ""
				ep.FailingSince, ep.LastError = nil, ""
			}
		}
		return tx.PutWebhookEndpoint(ep)
	})
	if err != nil {
		return nil, err
	}
	a.webhooks.Forget(id)
	return ep, nil
}

// RotateWebhookSecret gives an endpoint a new signing secret. Messages not
// yet delivered are signed with the new one.
func (a *App) RotateWebhookSecret(s Scope, id string) (*store.WebhookEndpoint, error) {
	var ep *store.WebhookEndpoint
	err := a.db.Update(func(tx *store.Tx) error {
		var err error
		if ep, err = scopedEndpoint(tx, s, id); err != nil {
			return err
		}
		ep.Secret = webhook.NewSecret()
		return tx.PutWebhookEndpoint(ep)
	})
	if err != nil {
		return nil, err
	}
	a.webhooks.Forget(id)
	return ep, nil
}

// DeleteWebhookEndpoint removes an endpoint and then its messages, in
// bounded chunks. If the process stops half way, the dispatcher drops the
// remaining messages as it meets them.
func (a *App) DeleteWebhookEndpoint(s Scope, id string) error {
	err := a.db.Update(func(tx *store.Tx) error {
		if _, err := scopedEndpoint(tx, s, id); err != nil {
			return err
		}
		return tx.DeleteWebhookEndpoint(id)
	})
	if err != nil {
		return err
	}
	a.webhooks.Forget(id)
	for {
		var ids []string
		if err := a.db.View(func(tx *store.Tx) (err error) { ids, err = tx.WebhookMessageIDsByEndpoint(id, 500); return }); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		err := a.db.Update(func(tx *store.Tx) error {
			for _, mid := range ids {
				if err := tx.DeleteWebhookMessage(mid); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// SendTestWebhook queues a "test" event for one endpoint, whatever events
// it subscribes to.
func (a *App) SendTestWebhook(s Scope, id string) (*store.WebhookMessage, error) {
	var m *store.WebhookMessage
	err := a.db.Update(func(tx *store.Tx) error {
		ep, err := scopedEndpoint(tx, s, id)
		if err != nil {
			return err
		}
		if ep.Disabled {
			return Invalid("endpoint", "endpoint_disabled", "this endpoint is disabled; enable it before sending a test event")
		}
		now := a.Now()
		body, err := event.Marshal(event.Test, now, event.TestData(ep.AffiliateID, now))
		if err != nil {
			return err
		}
		m = newMessage(ep, event.Test, body, now)
		if err := tx.InsertWebhookMessage(m); err != nil {
			return err
		}
		a.webhooks.EnqueueAfterCommit(tx, webhook.NewDue(ep, m))
		return nil
	})
	return m, err
}

// Messages.

// WebhookMessageQuery selects delivery log entries, newest first.
type WebhookMessageQuery struct {
	Scope      Scope // whose messages: the merchant's (all) or one affiliate's
	EndpointID string
	Status     string // pending | delivered | failed; "" = any
	Cursor     string
	Limit      int
}

// check validates the status and fills in the default limit.
func (q *WebhookMessageQuery) check() error {
	switch q.Status {
	case "", store.MessagePending, store.MessageDelivered, store.MessageFailed:
	default:
		return Invalid("status", "invalid_status", "status must be pending, delivered or failed")
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	return nil
}

// WebhookMessages returns one page of the delivery log.
func (a *App) WebhookMessages(q WebhookMessageQuery) ([]*store.WebhookMessage, string, error) {
	if err := q.check(); err != nil {
		return nil, "", err
	}
	var out []*store.WebhookMessage
	var next string
	err := a.db.View(func(tx *store.Tx) (err error) {
		if q.EndpointID != "" {
			if _, err := scopedEndpoint(tx, q.Scope, q.EndpointID); err != nil {
				return err
			}
		}
		out, next, err = views.ReadWebhookMessages(tx, q.Scope.Allows, q.EndpointID, q.Status, q.Cursor, q.Limit)
		return err
	})
	if errors.Is(err, store.ErrBadCursor) {
		return nil, "", Invalid("cursor", "invalid_cursor", "cursor is not valid")
	}
	return out, next, err
}

// WebhookMessage returns one message of the delivery log.
func (a *App) WebhookMessage(s Scope, id string) (*store.WebhookMessage, error) {
	return store.Read(a.db, func(tx *store.Tx) (*store.WebhookMessage, error) { return scopedMessage(tx, s, id) })
}

// ResendWebhookMessage starts a new delivery round for a message: same id
// (receivers deduplicate on webhook-id), sent now, with the full retry
// schedule again.
func (a *App) ResendWebhookMessage(s Scope, id string) (*store.WebhookMessage, error) {
	var m *store.WebhookMessage
	err := a.db.Update(func(tx *store.Tx) error {
		var err error
		if m, err = scopedMessage(tx, s, id); err != nil {
			return err
		}
		ep, err := scopedEndpoint(tx, s, m.EndpointID)
		if err != nil {
			return err
		}
		if ep.Disabled {
			return Invalid("endpoint", "endpoint_disabled", "this message's endpoint is disabled; enable it before resending")
		}
		now := a.Now()
		m.Status, m.NextAttemptAt, m.Tries = store.MessagePending, now, 0
		if err := tx.PutWebhookMessage(m); err != nil {
			return err
		}
		a.webhooks.EnqueueAfterCommit(tx, webhook.NewDue(ep, m))
		return nil
	})
	return m, err
}
