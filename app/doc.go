// Package app holds Spiffy's product rules: accounts and auth, programs and
// enrolments, tracking and attribution, purchases, commissions and payouts,
// sharing policy, erasure, and the queueing of outgoing messages (the
// webhook outbox), and the checks in front of every page view. The rules
// that share one write transaction stay together here; everything around
// them lives in sub-packages: the HTTP layer (app/web), the pages'
// composite views (app/views), the webhook events' bodies (app/event) and
// their delivery (app/webhook), payment providers' webhooks
// (app/provider), CSV exports (app/export), the tracking path's account
// cache (app/accounts), sessions' and tokens' mechanism (app/session),
// mail sending (app/mail), configuration (app/config) and the demo seeder
// (app/demo).
//
// Domain functions take plain input structs and return records or errors
// from errors.go; an error carries a Kind, never an HTTP status, and the
// HTTP layer maps it.
package app
