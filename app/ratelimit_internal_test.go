package app

import (
	"fmt"
	"testing"
	"time"
)

func TestIPLimiterBucket(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newIPLimiter(20, 100, func() time.Time { return now })
	allowed := 0
	for i := 0; i < 100; i++ {
		if l.allow("198.51.100.1") {
			allowed++
		}
	}
	if allowed != 40 {
		t.Fatalf("burst allowed %d, want 40 (twice the rate)", allowed)
	}
	now = now.Add(time.Second)
	allowed = 0
	for i := 0; i < 100; i++ {
		if l.allow("198.51.100.1") {
			allowed++
		}
	}
	if allowed != 20 {
		t.Fatalf("after a second allowed %d, want 20", allowed)
	}
	if !l.allow("198.51.100.2") {
		t.Fatal("another address shares the bucket")
	}
}

func TestIPLimiterBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newIPLimiter(1, 1000, func() time.Time { return now })
	// A flood from many addresses never grows the map past its bound.
	for i := 0; i < 10000; i++ {
		l.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		if n := l.size(); n > 1000 {
			t.Fatalf("limiter holds %d addresses, bound 1000", n)
		}
	}
	// Idle buckets (refilled) are dropped first; a busy one survives.
	now = now.Add(time.Minute)
	busy := "192.0.2.99"
	for i := 0; i < 5; i++ {
		l.allow(busy)
	}
	for i := 0; i < 2000; i++ {
		l.allow(fmt.Sprintf("10.1.%d.%d", i/256, i%256))
		l.allow(busy) // keeps it throttled: never full
		if n := l.size(); n > 1000 {
			t.Fatalf("limiter holds %d addresses", n)
		}
	}
	if l.allow(busy) {
		t.Fatal("the busy address got a fresh bucket: it was evicted while throttled")
	}
}
