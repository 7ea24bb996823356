package webhook

import "time"

// How long delivery keeps trying, and what it keeps.
const (
	// FailingLimit is how long an endpoint may fail without a single
	// success before it is disabled.
	FailingLimit = 5 * 24 * time.Hour
	// LogRetention is how long delivered and failed messages are kept in
	// the delivery log.
	LogRetention = 30 * 24 * time.Hour
	// maxAttemptLog caps the attempts kept per message (resends add more).
	maxAttemptLog = 20
)

// Who disabled an endpoint (store.WebhookEndpoint.DisabledBy).
const (
	DisabledByAffiliate = "affiliate"
	DisabledByMerchant  = "merchant"
	DisabledByAuto      = "auto"
)

// DisabledReason says on an endpoint who switched it off by hand, and when.
func DisabledReason(by string, at time.Time) string {
	day := at.UTC().Format(time.DateOnly)
	switch by {
	case DisabledByMerchant:
		return "Disabled by the program owner on " + day + "."
	case DisabledByAffiliate:
		return "Disabled by you on " + day + "."
	}
	return "Disabled on " + day + "."
}
