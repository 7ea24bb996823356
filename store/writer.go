package store

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The single writer (group commit). Update hands an operation to the writer
// goroutine; the writer takes everything that queued up while the previous
// batch was being committed, runs those operations in one Badger transaction,
// commits it (one fsync for the whole batch) and only then answers each
// caller. Under load this turns thousands of requests per second into a few
// hundred commits, and because there is only one writer, counters and unique
// keys never conflict.

type writeOp struct {
	fn   func(*Tx) error
	done chan error
}

// doneChan is a channel for the writer's answer to one Update, from the
// free list when it has one. The writer sends on each exactly once and the
// caller receives that one value, so a received channel is empty again and
// can serve the next operation. A list rather than a sync.Pool: the pool is
// emptied by every garbage collection, which under load comes every few
// hundred operations while as many are in flight.
func (db *DB) doneChan() chan error {
	select {
	case ch := <-db.freeDone:
		return ch
	default:
		return make(chan error, 1)
	}
}

// recycleDone puts an emptied answer channel back on the free list, or
// leaves it to the collector when the list is full.
func (db *DB) recycleDone(ch chan error) {
	select {
	case db.freeDone <- ch:
	default:
	}
}

type writerStats struct {
	batches atomic.Int64
	ops     atomic.Int64
}

// WriterStats reports how many batches and operations the writer has
// committed, for the metrics endpoint.
func (db *DB) WriterStats() (batches, ops int64) {
	return db.stats.batches.Load(), db.stats.ops.Load()
}

// Stats are the store's sizes and writer counters.
type Stats struct {
	LSMBytes, VlogBytes    int64 // on disk
	WriteBatches, WriteOps int64 // committed by the writer since start
}

// Stats reads the store's sizes and writer counters.
func (db *DB) Stats() Stats {
	var s Stats
	s.LSMBytes, s.VlogBytes = db.Size()
	s.WriteBatches, s.WriteOps = db.WriterStats()
	return s
}

// Update runs fn as one atomic operation and returns after it has been
// committed (and synced, when SyncWrites is on). If fn returns an error none
// of its writes are applied and that error is returned.
func (db *DB) Update(fn func(*Tx) error) error {
	db.closeMu.RLock()
	if db.closed {
		db.closeMu.RUnlock()
		return ErrClosed
	}
	op := writeOp{fn: fn, done: db.doneChan()}
	db.ops <- op
	db.closeMu.RUnlock()
	err := <-op.done
	db.recycleDone(op.done)
	return err
}

func (db *DB) runWriter() {
	defer db.writerWG.Done()
	batch := make([]writeOp, 0, db.maxBatch)
	released := time.Now()
	for first := range db.ops {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < db.maxBatch {
			select {
			case op, ok := <-db.ops:
				if !ok {
					break fill
				}
				batch = append(batch, op)
			default:
				break fill
			}
		}
		db.commitBatch(batch)
		if now := time.Now(); now.Sub(released) >= releaseEvery {
			db.releaseVersions()
			released = now
		}
	}
}

func (db *DB) commitBatch(batch []writeOp) {
	results := make([]error, len(batch))
	var after []func()
	var rev int64
	for start := 0; start < len(batch); {
		n, c := db.commitSome(batch[start:], results[start:])
		after = append(after, c.hooks...)
		rev = max(rev, c.accountsRev)
		start += n
	}
	if rev > 0 {
		// Before any caller is answered: see revision.go.
		db.accountsRev.Store(rev)
	}
	db.stats.batches.Add(1)
	db.stats.ops.Add(int64(len(batch)))
	// Hooks first: a caller that gets its answer can count on them having
	// run (a test that waits for the webhook dispatcher after a purchase
	// once found it idle because the wake-up had not happened yet).
	for _, fn := range after {
		fn()
	}
	for i, op := range batch {
		op.done <- results[i]
	}
}

// committed is what the successful operations of a commit leave to do and
// to publish.
type committed struct {
	hooks       []func()
	accountsRev int64                // the accounts revision reached; 0 = unchanged
	rollups     map[rollupID]*Rollup // summed rollup deltas, written before the commit
	balances    map[string]*[4]int64 // summed balance deltas by key, likewise (commissions.go)
}

// commitSome commits a prefix of ops in one transaction and returns how many
// it consumed (succeeded or failed) plus what the successful ones left. When
// the transaction grows too big it is thrown away and the operations that
// fitted are run again in a fresh one, so no operation is ever half applied.
func (db *DB) commitSome(ops []writeOp, results []error) (int, committed) {
	limit := len(ops)
	for {
		db.counters.startBatch()
		ts := db.snaps.lastCommitted()
		txn := db.bdb.NewTransactionAt(ts, true)
		n, c, tooBig := applyOps(txn, ops[:limit], results, db.counters)
		var rollupVals, balanceVals map[string][]byte
		if !tooBig && (len(c.rollups) > 0 || len(c.balances) > 0) {
			var err error
			rollupVals, err = writeRollups(txn, c.rollups, db.counters)
			if err == nil {
				balanceVals, err = writeBalances(txn, c.balances, db.counters)
			}
			if errors.Is(err, badger.ErrTxnTooBig) {
				// The operations fitted but their rollups did not: run
				// fewer of them.
				txn.Discard()
				if n == 1 {
					results[0] = ErrTooLarge
					return 1, committed{}
				}
				limit = n / 2
				continue
			}
			if err != nil {
				txn.Discard()
				for i := 0; i < n; i++ {
					if results[i] == nil {
						results[i] = fmt.Errorf("store: rollups: %w", err)
					}
				}
				return n, committed{}
			}
		}
		if tooBig {
			txn.Discard()
			if n == 0 {
				results[0] = ErrTooLarge
				return 1, committed{}
			}
			limit = n
			continue
		}
		err := txn.CommitAt(ts+1, nil)
		// Published even when the commit failed: Badger may have applied
		// part of it, and the next commit must not reuse the timestamp.
		db.snaps.committed(ts + 1)
		if err != nil {
			db.counters.reset() // what Badger holds now is not known
			c = committed{}
			for i := 0; i < n; i++ {
				if results[i] == nil {
					results[i] = fmt.Errorf("store: commit: %w", err)
				}
			}
			return n, c
		}
		db.counters.committed(rollupVals)
		db.counters.committed(balanceVals)
		return n, c
	}
}

// applyOps runs ops against txn. It returns how many ran and whether it
// stopped because the transaction is full (the op at index n did not fit).
func applyOps(txn *badger.Txn, ops []writeOp, results []error, counters *counterCache) (n int, c committed, tooBig bool) {
	// One Tx serves the batch's operations in turn, emptied between them:
	// its buffer map and delta slices keep their room instead of being
	// made again for every operation. What an operation leaves (hooks,
	// deltas) is copied out below before the next one starts.
	tx := &Tx{buf: make(map[string][]byte, 8)}
	for i, op := range ops {
		tx.reset(txn)
		err := runOp(op.fn, tx)
		if err == nil {
			err = tx.flush()
			if errors.Is(err, badger.ErrTxnTooBig) {
				return i, c, true
			}
		}
		results[i] = err
		if err == nil {
			for k := range tx.buf {
				counters.written(k) // not a counter update the cache follows
			}
			c.hooks = append(c.hooks, tx.afterCommit...)
			c.accountsRev = max(c.accountsRev, tx.accountsRev)
			for j := range tx.rollups {
				d := &tx.rollups[j]
				if c.rollups == nil {
					c.rollups = make(map[rollupID]*Rollup, len(tx.rollups))
				}
				if sum := c.rollups[d.id]; sum != nil {
					sum.addDelta(&d.sum)
				} else {
					// A copy: the slot is reused by the next operation.
					// Its slices stay with the copy, as reset zeroes the
					// slot rather than writing into them.
					sum := d.sum
					c.rollups[d.id] = &sum
				}
			}
			for _, d := range tx.balances {
				if c.balances == nil {
					c.balances = make(map[string]*[4]int64, len(tx.balances))
				}
				if sum := c.balances[d.key]; sum != nil {
					for j := range sum {
						sum[j] += d.sum[j]
					}
				} else {
					sum := d.sum
					c.balances[d.key] = &sum
				}
			}
		}
	}
	return len(ops), c, false
}

// runOp calls fn, turning a panic into an error so one bad operation cannot
// stop the writer that every other request depends on.
func runOp(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: panic in write operation: %v", r)
		}
	}()
	return fn(tx)
}
