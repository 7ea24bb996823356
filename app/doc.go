// Package app holds Spiffy's product rules — configuration, programs,
// affiliates, API keys, tracking and attribution, commissions, sharing
// policy, exports and the webhook outbox — and the Echo server that exposes
// them: middleware, the JSON API under /api/v1 and the tracking endpoints.
//
// Domain functions take plain input structs and return records or errors
// from errors.go; they never return echo.HTTPError. The central error
// handler in server.go maps those errors to JSON or to a friendly page.
package app
