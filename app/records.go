package app

import "github.com/spiffy/spiffy/store"

// The records the rules hand out, by the names the layers above use. They
// are the store's types: app adds no copy, and the HTTP layer and the UI
// need not import the store to name them.
type (
	Admin           = store.Admin
	APIKey          = store.APIKey
	Program         = store.Program
	Affiliate       = store.Affiliate
	Enrollment      = store.Enrollment
	Lead            = store.Lead
	Purchase        = store.Purchase
	WebhookEndpoint = store.WebhookEndpoint
	WebhookMessage  = store.WebhookMessage
	WebhookAttempt  = store.WebhookAttempt
	Commission      = store.Commission
	Payout          = store.Payout
	PayoutItem      = store.PayoutItem
	// Count is a list's row count; Exact is false when it stopped early.
	Count = store.Count
)

// ValidID reports whether s has the shape of a record id, so a malformed
// one can be refused before any lookup.
func ValidID(s string) bool { return store.ValidID(s) }
