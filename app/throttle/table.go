package throttle

import (
	"container/list"
	"errors"
	"fmt"
	"time"
)

// ErrThrottled is every refusal of this package: too many attempts, try
// later. A refusal that knows how long to wait is a *WaitError, which
// matches it with errors.Is.
var ErrThrottled = errors.New("too many attempts")

// WaitError is a refusal that says how long until the next attempt may
// be made.
type WaitError struct{ Wait time.Duration }

func (e *WaitError) Error() string {
	return fmt.Sprintf("too many attempts; try again in %s", e.Wait.Round(time.Second))
}

// Unwrap makes a WaitError match ErrThrottled.
func (e *WaitError) Unwrap() error { return ErrThrottled }

// RetryAfter is how long err says to wait before trying again, when err is
// a *WaitError.
func RetryAfter(err error) (time.Duration, bool) {
	var w *WaitError
	if errors.As(err, &w) {
		return w.Wait, true
	}
	return 0, false
}

// wait is a refusal for the time left until until, or nil once it has
// passed.
func wait(until, now time.Time) error {
	if d := until.Sub(now); d > 0 {
		return &WaitError{Wait: d}
	}
	return nil
}

// table holds one number and one time per key, least recently touched
// first, so that both forgetting stale keys and making room under a flood
// of new ones take the oldest at O(1). It is not safe for concurrent use;
// its owner locks.
type table struct {
	max   int           // keys kept at most
	stale time.Duration // a key untouched this long is forgotten
	order *list.List    // of *entry, least recently touched first
	keys  map[string]*list.Element
}

type entry struct {
	key string
	n   int       // failures (SignIns)
	at  time.Time // when n last grew (SignIns), or when the bucket is full again (Rate)
}

func newTable(max int, stale time.Duration) *table {
	if max < 1 {
		max = 1
	}
	return &table{max: max, stale: stale, order: list.New(), keys: map[string]*list.Element{}}
}

// get is key's entry, or nil when it has none or its entry went stale.
func (t *table) get(key string, now time.Time) *entry {
	el := t.keys[key]
	if el == nil {
		return nil
	}
	e := el.Value.(*entry)
	if now.Sub(e.at) >= t.stale {
		t.drop(el)
		return nil
	}
	return e
}

// touch is key's entry, made when missing, moved to the back: the caller
// is about to change it. Stale keys are dropped first; when the table is
// still full, the least recently touched key goes, which errs towards
// letting that key's next attempt through rather than growing without
// bound.
func (t *table) touch(key string, now time.Time) *entry {
	if e := t.get(key, now); e != nil {
		t.order.MoveToBack(t.keys[key])
		return e
	}
	for el := t.order.Front(); el != nil && (len(t.keys) >= t.max || now.Sub(el.Value.(*entry).at) >= t.stale); el = t.order.Front() {
		t.drop(el)
	}
	e := &entry{key: key}
	t.keys[key] = t.order.PushBack(e)
	return e
}

// forgive takes n failures off key's count, forgetting the key at none.
func (t *table) forgive(key string, n int) {
	if el := t.keys[key]; el != nil {
		if e := el.Value.(*entry); e.n > n {
			e.n -= n
		} else {
			t.drop(el)
		}
	}
}

func (t *table) remove(key string) *entry {
	el := t.keys[key]
	if el == nil {
		return nil
	}
	t.drop(el)
	return el.Value.(*entry)
}

func (t *table) drop(el *list.Element) {
	delete(t.keys, el.Value.(*entry).key)
	t.order.Remove(el)
}

func (t *table) len() int { return len(t.keys) }
