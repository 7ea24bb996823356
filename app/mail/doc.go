// Package mail is the mail engine: it renders Spiffy's emails from the
// embedded templates (embedded/mail, a plain-text and an HTML part each,
// carrying the program owner's name), and its Sender delivers the mail
// queued in the store's outbox over SMTP (STARTTLS, implicit TLS or none)
// with retries and backoff.
//
// It is built from the store, a clock, a logger and Settings; it never
// calls back into package app. Package app owns the outbox: the write that
// causes a mail (an invite, a sign-up, a payout) stores it and wakes the
// Sender with WakeAfterCommit.
package mail
