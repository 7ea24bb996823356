package store

import "slices"

// bestK keeps the k best values offered, best first, each once: a bounded
// selection for walks that meet their matches out of the order they are
// shown in (a search key's email before its time, an affiliate term before
// its id), so no walk keeps or sorts every match.
type bestK[T any] struct {
	k int
	// cmp(a, b) < 0 when a is better, 0 when a and b are the same value.
	cmp   func(a, b T) int
	items []T
	// dropped records that a value different from those kept was left out.
	dropped bool
}

func newBestK[T any](k int, cmp func(a, b T) int) *bestK[T] {
	return &bestK[T]{k: k, cmp: cmp, items: make([]T, 0, max(k, 0))}
}

// offer keeps v if it is among the k best so far and not kept already.
func (b *bestK[T]) offer(v T) {
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
