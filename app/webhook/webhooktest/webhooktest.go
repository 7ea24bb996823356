// Package webhooktest is the receiving end of webhooks in tests: a loopback
// server that records every request and answers as told, and a check of
// the signature with the Standard Webhooks reference library (not with our
// own signing code).
package webhooktest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Request is one request a Receiver got.
type Request struct {
	Header http.Header
	Body   []byte
}

// Receiver records what it receives. It is closed when the test ends.
type Receiver struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []Request
	respond func(n int, r *http.Request) int
}

// NewReceiver starts a receiver. respond picks the status of the n-th
// request (1-based) and may block; nil answers 200.
func NewReceiver(t testing.TB, respond func(n int, r *http.Request) int) *Receiver {
	rc := &Receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, Request{Header: r.Header.Clone(), Body: body})
		n := len(rc.reqs)
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.respond != nil {
			status = rc.respond(n, r)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// Answering returns a respond func that always answers status.
func Answering(status int) func(int, *http.Request) int {
	return func(int, *http.Request) int { return status }
}

// Requests returns what the receiver got so far, in order.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.reqs...)
}

// Verify fails the test unless r is signed with secret per Standard
// Webhooks; checkTime also checks the timestamp against the real clock
// (tests with a fixed clock leave it off).
func Verify(t testing.TB, secret string, r Request, checkTime bool) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if checkTime {
		err = wh.Verify(r.Body, r.Header)
	} else {
		err = wh.VerifyIgnoringTimestamp(r.Body, r.Header)
	}
	if err != nil {
		t.Fatalf("signature does not verify with the Standard Webhooks library: %v\nheaders %v", err, r.Header)
	}
}
