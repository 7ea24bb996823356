package store

import (
	"errors"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
)

// The writer's counter cache. Every batch reads and rewrites its rollups,
// tallies and balances (writeRollups, writeBalances): a lead alone touches
// a rollup and five tallies. A point read in Badger of a key that is
// rewritten all the time is the most expensive read there is: unless the
// newest version sits in a memtable at exactly the read timestamp, Badger
// visits every level, and such a key has a version in every level-0 table
// (one per memtable flush), so each read seeks a dozen tables. At 200k
// leads that was 29% of the server's CPU, growing with the store
// (docs/PERFORMANCE.md, issue 17).
//
// The writer is the only goroutine that writes these keys, so it can keep
// what it committed: the value of each counter key it has read or written
// (nil for a key known not to exist), updated only after the batch's
// commit succeeded, and dropped whole on a failed commit, on a write of a
// counter key by an ordinary operation, and when keys are removed behind
// the writer's back (DropPrefix, Restore), so a counter is never read
// from the cache in a state Badger does not hold.

// counterCacheEntries bounds the cache (about 150 bytes an entry): past it
// the cache starts again empty, and fills back from Badger.
const counterCacheEntries = 64 << 10

type counterCache struct {
	vals map[string][]byte // nil value = the key does not exist
	// gen is bumped by whoever removes keys outside the writer; the writer
	// drops the cache when it sees a new generation.
	gen, seen atomic.Int64
}

func newCounterCache() *counterCache {
	return &counterCache{vals: make(map[string][]byte, 1024)}
}

// invalidate is called after keys were removed outside the writer.
func (c *counterCache) invalidate() { c.gen.Add(1) }

// startBatch drops the cache if keys were removed since the last batch.
// Writer goroutine only, like every method below.
func (c *counterCache) startBatch() {
	if g := c.gen.Load(); g != c.seen.Load() {
		c.reset()
		c.seen.Store(g)
	}
}

func (c *counterCache) reset() { c.vals = make(map[string][]byte, 1024) }

// written is called for every key an ordinary operation writes: such a
// write is not a counter update the cache follows, so the key is forgotten.
func (c *counterCache) written(k string) {
	if _, ok := c.vals[k]; ok {
		delete(c.vals, k)
	}
}

// committed records the values a counter write left (its Tx's buffer),
// once they are committed.
func (c *counterCache) committed(buf map[string][]byte) {
	if len(c.vals)+len(buf) > counterCacheEntries {
		c.reset()
	}
	for k, v := range buf {
		c.vals[k] = v
	}
}

// getCounter reads a counter key for writeRollups and writeBalances: the
// operation's own writes, then the cache, then Badger (remembered).
func (tx *Tx) getCounter(k []byte) ([]byte, error) {
	if v, ok := tx.buf[string(k)]; ok {
		if v == nil {
			return nil, ErrNotFound
		}
		return v, nil
	}
	c := tx.counters
	if c != nil {
		if v, ok := c.vals[string(k)]; ok {
			if v == nil {
				return nil, ErrNotFound
			}
			return v, nil
		}
	}
	item, err := tx.txn.Get(k)
	var v []byte
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		err = ErrNotFound
	case err == nil:
		v, err = item.ValueCopy(nil)
		if err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	if c != nil {
		c.vals[string(k)] = v
	}
	return v, err
}

// getCounterDecoded is getDecoded through getCounter.
func (tx *Tx) getCounterDecoded(k []byte, unmarshal func([]byte) error) error {
	b, err := tx.getCounter(k)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return unmarshal(b)
}
