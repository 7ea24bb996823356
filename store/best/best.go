// Package best keeps the k best of the values a walk meets: a bounded
// selection for walks that meet values out of the order they are shown in
// (a search key's email before its time, an affiliate term before its id,
// the dashboard's affiliates by id rather than by rank), so that no walk
// keeps or sorts every value it meets.
package best

import "slices"

// K keeps the k best values offered, best first, each once.
type K[T any] struct {
	k int
	// cmp(a, b) < 0 when a is better, 0 when a and b are the same value.
	cmp     func(a, b T) int
	items   []T
	dropped bool
}

// New keeps the k best values by cmp.
func New[T any](k int, cmp func(a, b T) int) *K[T] {
	return &K[T]{k: k, cmp: cmp, items: make([]T, 0, max(k, 0))}
}

// Admits reports whether v ranks among the k best so far, so that a caller
// can skip preparing a value Offer would drop.
func (b *K[T]) Admits(v T) bool {
	return b.k > 0 && (len(b.items) < b.k || b.cmp(v, b.items[b.k-1]) < 0)
}

// Offer keeps v if it is among the k best so far and not kept already.
func (b *K[T]) Offer(v T) {
	if b.k <= 0 {
		b.dropped = true
		return
	}
	if len(b.items) == b.k {
		if c := b.cmp(v, b.items[b.k-1]); c >= 0 {
			b.dropped = b.dropped || c > 0
			return // most values of a long walk stop here
		}
	}
	i, found := slices.BinarySearchFunc(b.items, v, b.cmp)
	if found {
		return
	}
	if len(b.items) == b.k {
		b.items, b.dropped = b.items[:b.k-1], true
	}
	b.items = slices.Insert(b.items, i, v)
}

// Items returns the values kept, best first.
func (b *K[T]) Items() []T { return b.items }

// Dropped reports whether a value other than those kept was offered.
func (b *K[T]) Dropped() bool { return b.dropped }
