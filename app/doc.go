// Package app holds Spiffy's product rules: accounts and auth, programs and
// enrolments, tracking and attribution, purchases, sharing policy, reports,
// erasure, and the queueing of outgoing messages (the webhook outbox). The
// rules that share one write transaction stay together here; everything
// around them lives in sub-packages: the HTTP layer (app/web), webhook
// delivery (app/webhook), CSV exports (app/export), configuration
// (app/config) and the demo seeder (app/demo).
//
// Domain functions take plain input structs and return records or errors
// from errors.go; an error carries a Kind, never an HTTP status, and the
// HTTP layer maps it.
package app
