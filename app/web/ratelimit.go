package web

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ipLimiter is a token bucket per client IP (rate r per second, burst 2r),
// in a map bounded to max entries.
type ipLimiter struct {
	mu    sync.Mutex
	m     map[string]*rate.Limiter
	limit rate.Limit
	burst int
	max   int
	now   func() time.Time
}

func newIPLimiter(perSecond float64, max int, now func() time.Time) *ipLimiter {
	burst := int(math.Ceil(2 * perSecond))
	if burst < 1 {
		burst = 1
	}
	return &ipLimiter{m: make(map[string]*rate.Limiter), limit: rate.Limit(perSecond), burst: burst, max: max, now: now}
}

func (l *ipLimiter) allow(ip string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.m[ip]
	if lim == nil {
		if len(l.m) >= l.max {
			l.evict(now)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[ip] = lim
	}
	return lim.AllowN(now, 1)
}

// evict drops the buckets that have refilled completely: such a bucket
// behaves exactly like a new one, so forgetting it changes nothing. If the
// map is still too full (a flood from many addresses), it drops buckets that
// still hold a token, then any, until the map is three quarters full: an
// address that is being throttled right now is the last to be forgotten,
// and a forgotten one only gets a fresh bucket, which errs towards letting
// its requests through. Each eviction frees a quarter of the map, so its
// cost is amortised over the inserts that refill it.
func (l *ipLimiter) evict(now time.Time) {
	full := float64(l.burst)
	for ip, lim := range l.m {
		if lim.TokensAt(now) >= full {
			delete(l.m, ip)
		}
	}
	target := l.max * 3 / 4
	for ip, lim := range l.m {
		if len(l.m) <= target {
			return
		}
		if lim.TokensAt(now) >= 1 {
			delete(l.m, ip)
		}
	}
	for ip := range l.m {
		if len(l.m) <= target {
			return
		}
		delete(l.m, ip)
	}
}

// size reports how many addresses the limiter tracks (for tests).
func (l *ipLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
