// Package webhook is the delivery engine of affiliate webhooks: the
// Dispatcher that sends queued messages and records every attempt
// (dispatcher.go), Standard Webhooks signing and the retry schedule
// (sign.go), and an HTTP client that refuses non-public targets at save
// time and again at connect time (client.go, guard.go).
//
// It is built from the store, a clock, a logger and options; it never
// calls back into package app. Package app owns the outbox: the write that
// creates a lead or a purchase queues its messages and hands them over
// with Dispatcher.EnqueueAfterCommit.
package webhook
