package throttle

import (
	"sync"
	"time"
)

// Rate limits requests per key: burst at once, then one per every (a token
// bucket, kept as the time it is full again: the generic cell rate
// algorithm). It is safe for concurrent use and remembers at most maxKeys
// keys; a key whose bucket has refilled is forgotten, as a fresh bucket
// behaves the same. Under a flood of new keys the least recently used go
// first, which errs towards letting their next request through.
type Rate struct {
	mu    sync.Mutex
	every time.Duration
	burst int
	t     *table // entry.at: when the bucket is full again
}

// NewRate allows burst requests per key at once, then one per every.
func NewRate(every time.Duration, burst, maxKeys int) *Rate {
	if burst < 1 {
		burst = 1
	}
	// A bucket is stale (full) once its time has passed: stale 0 forgets it
	// from then on.
	return &Rate{every: every, burst: burst, t: newTable(maxKeys, 0)}
}

// Take spends one of key's requests at now, or returns a *WaitError
// saying when the next one is due (and spends nothing).
func (r *Rate) Take(key string, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	full := now // when the bucket is full again; now if it is already
	if e := r.t.get(key, now); e != nil {
		full = e.at
	}
	// The bucket holds burst requests: it may be full again at most
	// burst·every from now, and a request adds every.
	next := full.Add(r.every)
	if err := wait(next.Add(-time.Duration(r.burst)*r.every), now); err != nil {
		return err
	}
	r.t.touch(key, now).at = next
	return nil
}

// Size is how many keys are remembered (for tests).
func (r *Rate) Size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.t.len()
}
