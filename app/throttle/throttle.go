// Package throttle limits attempts per key (an email, an IP) in memory:
// SignIns gives failed sign-ins growing delays per IP and per account,
// Rate is a token bucket per key (sign-ups and password-reset requests per
// IP), and Throttle counts failures within a window (reset mails per
// account). Refusals match ErrThrottled;
// those that know how long to wait are a *WaitError. Package app decides
// which keys and limits apply.
package throttle

import (
	"sync"
	"time"
)

// Throttle limits failures per key. It is safe for concurrent use.
type Throttle struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string][]time.Time
}

// New is a throttle that blocks a key after max failures within window.
func New(max int, window time.Duration) *Throttle {
	return &Throttle{max: max, window: window, fails: map[string][]time.Time{}}
}

// Blocked reports whether key has failed max times within the window
// before now.
func (t *Throttle) Blocked(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	recent := t.fails[key][:0]
	for _, f := range t.fails[key] {
		if now.Sub(f) < t.window {
			recent = append(recent, f)
		}
	}
	if len(recent) == 0 {
		delete(t.fails, key)
	} else {
		t.fails[key] = recent
	}
	return len(recent) >= t.max
}

// Fail records a failure of key at now.
func (t *Throttle) Fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.fails) > 100000 { // bound memory under a spray of random keys
		t.fails = map[string][]time.Time{}
	}
	t.fails[key] = append(t.fails[key], now)
}

// Reset forgets key's failures.
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	delete(t.fails, key)
	t.mu.Unlock()
}
