package app

import "time"

// Clock tells the time. The App and its engines take one at construction,
// so tests can move time without touching the App's fields (and without a
// data race with the goroutines that read it).
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
