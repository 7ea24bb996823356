// Package provider turns a payment provider's webhook request — the raw
// body and its signature header — into a normalised Event: a sale, a
// renewal, a refund, or (Stripe only) the link between a payment intent and
// the invoice it paid. It owns signature verification and the parsing of
// Stripe, Paddle Billing and Lemon Squeezy events, the providers' names and
// headers (names.go), and nothing else: it attributes nothing, stores
// nothing (Refusals keeps the last refused webhooks in memory,
// refusals.go) and imports no other Spiffy package.
//
// Each entry point (Stripe, Paddle, LemonSqueezy) verifies the signature
// before it reads a byte of the body as JSON, with the provider's own SDK
// where there is one (stripe-go's webhook package, paddle-go-sdk's
// WebhookVerifier; Lemon Squeezy has none, so its HMAC is checked here).
// Any failure to verify is ErrInvalidSignature; a verified body that cannot
// be read is ErrMalformed; an event Spiffy has no use for is an Event of
// KindIgnored, not an error.
//
// Parsing is deliberately loose about shape: events are decoded into small
// local structs rather than the SDKs' typed objects, fields that moved
// between API versions are read from every place a version puts them, ids
// may arrive as strings or as expanded objects, and amounts as numbers or
// digit strings. A merchant's Stripe account is pinned to whatever API
// version it was created with, so Spiffy must read them all.
package provider
