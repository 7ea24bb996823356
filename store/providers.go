package store

import (
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// What Spiffy remembers of payment providers' webhooks (contract §10): the
// events it processed (idempotency, and the Integrations page's log), and
// links from the provider's ids — orders, payment intents, refunds,
// customers, subscriptions — to Spiffy's purchases and attributions, so a
// renewal or a refund maps without calling the provider's API. None of it
// holds personal data: ids, types and outcomes only.

// ProviderEvent is one provider webhook that was verified and handled.
type ProviderEvent struct {
	ID         string    `json:"id"` // Spiffy's id: time-ordered
	Provider   string    `json:"provider"`
	EventID    string    `json:"event_id"` // the provider's
	Type       string    `json:"type"`
	Outcome    string    `json:"outcome"`               // what came of it, in a few words
	PurchaseID string    `json:"purchase_id,omitempty"` // the purchase it created or refunded
	ReceivedAt time.Time `json:"received_at"`
}

// ProviderLink kinds: which provider id a link starts from.
const (
	LinkOrder         = "order"    // -> purchase id
	LinkPaymentIntent = "pi"       // -> the order id it paid (Stripe)
	LinkRefund        = "refund"   // -> purchase id (a refund applied once)
	LinkCustomer      = "customer" // -> ProviderAttribution
	LinkSubscription  = "sub"      // -> ProviderAttribution
)

// ProviderAttribution is the attribution of a provider customer's (or
// subscription's) first attributed sale, for its renewals.
type ProviderAttribution struct {
	ProgramID   string    `json:"program_id"`
	AffiliateID string    `json:"affiliate_id"`
	ReferralID  string    `json:"referral_id,omitempty"`
	Code        string    `json:"code"`
	SubID       string    `json:"sub_id,omitempty"`
	FirstSaleAt time.Time `json:"first_sale_at"`
}

func init() {
	reindexers = append(reindexers, jsonReindexer("provider event", pProviderEvent, func(e *ProviderEvent) []derivedKey { return e.derived() }))
}

func (e *ProviderEvent) derived() []derivedKey {
	return []derivedKey{
		uniqueEntry("event_id", key(uProviderEvent).str(e.Provider).str(e.EventID), e.ID),
		indexEntry(key(iProviderEventByProvider).str(e.Provider).time(e.ReceivedAt).id(e.ID)),
	}
}

// ProviderEventSeen reports whether the provider's event was handled before.
func (tx *Tx) ProviderEventSeen(provider, eventID string) (bool, error) {
	return tx.exists(key(uProviderEvent).str(provider).str(eventID))
}

// InsertProviderEvent records a handled event; the same provider event id
// again fails with ErrDuplicate.
func (tx *Tx) InsertProviderEvent(e *ProviderEvent) error {
	if err := tx.putDerived(nil, e.derived()); err != nil {
		return err
	}
	return tx.setJSON(key(pProviderEvent).id(e.ID), e)
}

// ProviderEvents returns a provider's newest handled events, at most limit.
func (tx *Tx) ProviderEvents(provider string, limit int) ([]*ProviderEvent, error) {
	prefix := key(iProviderEventByProvider).str(provider)
	var out []*ProviderEvent
	err := tx.scan(prefix, nil, true, false, func(k []byte, _ *badger.Item) (bool, error) {
		e, err := getRecord[ProviderEvent](tx, "provider event", "", key(pProviderEvent).id(string(k[len(k)-IDLen:])))
		if err != nil {
			return false, err
		}
		out = append(out, e)
		return len(out) < limit, nil
	})
	return out, err
}

func providerLinkKey(provider, kind, id string) []byte {
	return key(pProviderLink).str(provider).str(kind).str(id)
}

// ProviderPurchase returns what a provider's order or refund id is linked
// to (a purchase id), or a payment intent (the order it paid); ErrNotFound
// when nothing.
func (tx *Tx) ProviderPurchase(provider, kind, id string) (string, error) {
	v, err := tx.get(providerLinkKey(provider, kind, id))
	if err != nil {
		return "", fmt.Errorf("store: %s %s %q: %w", provider, kind, id, err)
	}
	return string(v), nil
}

// LinkProviderPurchase links a provider's order or refund id to a
// purchase id, or a payment intent to its order id.
func (tx *Tx) LinkProviderPurchase(provider, kind, id, purchaseID string) {
	tx.set(providerLinkKey(provider, kind, id), []byte(purchaseID))
}

// ProviderAttribution returns what a provider's customer or subscription
// was first attributed to (ErrNotFound when never).
func (tx *Tx) ProviderAttribution(provider, kind, id string) (*ProviderAttribution, error) {
	return getRecord[ProviderAttribution](tx, provider+" "+kind, id, providerLinkKey(provider, kind, id))
}

// PutProviderAttribution remembers a customer's or subscription's first
// attribution.
func (tx *Tx) PutProviderAttribution(provider, kind, id string, a *ProviderAttribution) error {
	return tx.setJSON(providerLinkKey(provider, kind, id), a)
}
