package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/dgraph-io/badger/v4"
)

// Tx is one caller's view of a transaction. Read-only Txs come from View.
// Writable Txs come from Update: their writes are buffered per operation and
// reach the shared Badger transaction only if the operation returns nil, so a
// failed operation leaves nothing behind even though it shares a batch.
//
// Reads see committed data, the writes of earlier operations in the same
// batch, and (for Get) the operation's own buffered writes. Iterators do not
// see the operation's own buffered writes.
type Tx struct {
	txn         *badger.Txn
	writable    bool
	buf         map[string][]byte // pending writes of this operation; nil value = delete
	afterCommit []func()
	accountsRev int64                    // the accounts revision this operation moved to; 0 = unchanged
	rollups     []rollupDelta            // rollup deltas, written with the batch (tracking.go)
	balances    []balanceDelta           // balance deltas by key, written with the batch (commissions.go)
	bufBytes    int                      // bytes written to buf, overwrites included (Full)
	ttls        map[string]time.Duration // keys of buf that expire (setTTL); nil = none
	counters    *counterCache            // the writer's counter cache, for getCounter; nil = read Badger
}

// reset makes tx a fresh writable Tx on txn for the writer's next
// operation, keeping the room of its buffer and delta slices.
func (tx *Tx) reset(txn *badger.Txn) {
	clear(tx.buf)
	clear(tx.afterCommit) // let the previous operation's hooks go
	*tx = Tx{
		txn: txn, writable: true, buf: tx.buf, afterCommit: tx.afterCommit[:0],
		rollups: tx.rollups[:0], balances: tx.balances[:0],
	}
}

// Full reports whether the operation has buffered about as much as one
// write should carry: a long job (moving a payout's commissions, approving
// a backlog) stops there and goes on in its next write, well below
// Badger's transaction size limit.
func (tx *Tx) Full() bool { return len(tx.buf) >= maxOpEntries || tx.bufBytes >= maxOpBytes }

// The bounds Full checks: with 8 MB memtables Badger refuses a transaction
// of more than about 1.2 MB or 13,000 entries, and the writer batches
// other operations with this one.
const (
	maxOpEntries = 4000
	maxOpBytes   = 400 << 10
)

func (tx *Tx) get(k []byte) ([]byte, error) {
	if tx.buf != nil {
		if v, ok := tx.buf[string(k)]; ok {
			if v == nil {
				return nil, ErrNotFound
			}
			return v, nil
		}
	}
	item, err := tx.txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get: %w", err)
	}
	return item.ValueCopy(nil)
}

func (tx *Tx) exists(k []byte) (bool, error) {
	_, err := tx.get(k)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (tx *Tx) set(k, v []byte) {
	if !tx.writable {
		panic("store: write in a read-only transaction")
	}
	if v == nil {
		v = []byte{}
	}
	tx.buf[string(k)] = v
	tx.bufBytes += len(k) + len(v)
	if tx.ttls != nil {
		delete(tx.ttls, string(k))
	}
}

// setTTL is set for a key Badger drops by itself ttl after the commit.
func (tx *Tx) setTTL(k, v []byte, ttl time.Duration) {
	tx.set(k, v)
	if tx.ttls == nil {
		tx.ttls = map[string]time.Duration{}
	}
	tx.ttls[string(k)] = ttl
}

func (tx *Tx) del(k []byte) {
	if !tx.writable {
		panic("store: write in a read-only transaction")
	}
	tx.buf[string(k)] = nil
	tx.bufBytes += len(k)
}

// AfterCommit registers fn to run once the batch holding this operation has
// been committed and synced, before the operation's caller is answered (for
// example to wake a dispatcher). It is not run when the operation fails. It
// runs on the writer goroutine: it must be quick and must not call Update.
func (tx *Tx) AfterCommit(fn func()) { tx.afterCommit = append(tx.afterCommit, fn) }

// flush moves the operation's buffered writes into the Badger transaction.
func (tx *Tx) flush() error {
	for k, v := range tx.buf {
		var err error
		ttl, expires := tx.ttls[k]
		// Badger only reads the key it is given (it hashes it, copies it
		// into its own pending-writes map and, at commit, into the
		// versioned key), so the map's own string serves as the key's
		// bytes instead of a copy per key.
		kb := unsafe.Slice(unsafe.StringData(k), len(k))
		switch {
		case v == nil:
			err = tx.txn.Delete(kb)
		case expires:
			err = tx.txn.SetEntry(badger.NewEntry(kb, v).WithTTL(ttl))
		default:
			err = tx.txn.Set(kb, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) getJSON(k []byte, v any) error {
	b, err := tx.get(k)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("store: decode %q: %w", k, err)
	}
	return nil
}

func (tx *Tx) setJSON(k []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %q: %w", k, err)
	}
	tx.set(k, b)
	return nil
}

// getDecoded reads k and decodes it with unmarshal; a missing key leaves
// the target as it is (its zero value), as for a counter.
func (tx *Tx) getDecoded(k []byte, unmarshal func([]byte) error) error {
	b, err := tx.get(k)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return unmarshal(b)
}

// getInt64 reads a big-endian counter; a missing key is 0.
func (tx *Tx) getInt64(k []byte) (int64, error) {
	b, err := tx.get(k)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, errCorrupt
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// addInt64 adds delta to a big-endian counter and returns the new value.
func (tx *Tx) addInt64(k []byte, delta int64) (int64, error) {
	v, err := tx.getInt64(k)
	if err != nil {
		return 0, err
	}
	v += delta
	tx.set(k, binary.BigEndian.AppendUint64(nil, uint64(v)))
	return v, nil
}

// Counter returns the value of the named counter (0 when never set).
func (tx *Tx) Counter(name string) (int64, error) { return tx.getInt64(counterKey(name)) }

// AddCounter adds delta to the named counter.
func (tx *Tx) AddCounter(name string, delta int64) error {
	_, err := tx.addInt64(counterKey(name), delta)
	return err
}

// scan calls fn for each key with the given prefix, in key order or reverse.
// When start is non-nil iteration begins there (inclusive; for reverse scans,
// at the greatest key <= start). fn returns false to stop. With values false
// only keys are read (a key-only scan never touches the value log).
func (tx *Tx) scan(prefix, start []byte, reverse, values bool, fn func(k []byte, item *badger.Item) (bool, error)) error {
	opts := badger.IteratorOptions{Prefix: prefix, Reverse: reverse, PrefetchValues: values, PrefetchSize: 64}
	it := tx.txn.NewIterator(opts)
	defer it.Close()
	seek := start
	if seek == nil {
		seek = prefix
		if reverse {
			seek = prefixEnd(prefix)
		}
	}
	for it.Seek(seek); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		more, err := fn(item.Key(), item)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return nil
}

// prefixEnd returns a key greater than every key with prefix p, for reverse seeks.
func prefixEnd(p []byte) []byte {
	return append(bytes.Clone(p), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
