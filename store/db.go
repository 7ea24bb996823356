package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Errors returned by the store. Callers test them with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("already exists")
	ErrClosed    = errors.New("store: closed")
	ErrTooLarge  = errors.New("store: write too large for one transaction")
)

// Options configures Open.
type Options struct {
	// Dir is the Badger directory (data/db).
	Dir string
	// Logger receives Badger's warnings and errors; nil discards them.
	Logger *slog.Logger
	// SyncWrites fsyncs every commit before the writer answers. It is on in
	// production; tests may turn it off for speed.
	SyncWrites bool
	// MaxBatch caps how many write operations share one transaction.
	MaxBatch int
	// MappedTables, when above 0, is the budget in bytes for the process's
	// file-backed resident memory, most of which is Badger's mapped table
	// files; past it older tables' pages are handed back to the kernel
	// (mapped_linux.go). 0 leaves them to the kernel.
	MappedTables int64
}

// DB is Spiffy's store: a Badger database and the single writer in front of it.
type DB struct {
	bdb      *badger.DB
	ops      chan writeOp
	freeDone chan chan error // answer channels to reuse (writer.go)
	closeMu  sync.RWMutex
	closed   bool
	writerWG sync.WaitGroup
	maxBatch int
	log      *slog.Logger
	stats    writerStats
	stopTrim chan struct{} // closed by Close; nil when not trimming
	trimWG   sync.WaitGroup
	// accountsRev is the committed accounts revision (revision.go).
	accountsRev atomic.Int64
	// snaps hands out read and commit timestamps (snapshots.go).
	snaps *snapshots
	// sizes measures the files on disk for Size (sizes.go).
	sizes diskSizes
	// counters is the writer's cache of counter keys (counters.go).
	counters *counterCache
}

// Open opens (creating when needed) the database in opts.Dir, runs pending
// migrations and starts the writer.
func Open(opts Options) (*DB, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	bopts := badgerOptions(opts.Dir, opts.SyncWrites, log)
	bdb, err := badger.OpenManaged(bopts) // timestamps: snapshots.go
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", opts.Dir, err)
	}
	db := &DB{
		bdb:      bdb,
		snaps:    newSnapshots(bdb.MaxVersion()),
		ops:      make(chan writeOp, 4096),
		freeDone: make(chan chan error, 1024),
		maxBatch: opts.MaxBatch,
		log:      log,
		sizes:    diskSizes{dir: opts.Dir},
		counters: newCounterCache(),
	}
	if db.maxBatch <= 0 {
		db.maxBatch = 1024
	}
	db.releaseVersions()
	db.writerWG.Add(1)
	go db.runWriter()
	if err := db.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.loadAccountsRevision(); err != nil {
		db.Close()
		return nil, err
	}
	if opts.MappedTables > 0 && trimSupported {
		db.startTrimming(opts.Dir, opts.MappedTables)
	}
	return db, nil
}

// badgerOptions tunes Badger for a small VPS (2 cores, a few hundred MB for
// the whole process). Badger's defaults (64 MB memtables × 5, a 256 MB block
// cache, 1 GB value-log files) grow a busy process to 0.5–1 GiB. Measured
// choices (docs/PERFORMANCE.md, "Badger options"):
//
//   - 8 MB memtables, 3 of them: small arenas, and a flush every few seconds
//     at full tracking load. It also caps one transaction at 15% of a
//     memtable (1.2 MB, ~13,000 keys): the writer splits a batch past that.
//   - Every table 4 MB at every level (TableSizeMultiplier 1). With the
//     default ×2 per level, bottom-level tables of a 1 GB store are 16 MB and
//     a compaction holds up to ~2×(8+splits) builders of twice that size:
//     seeding 2M clicks peaked at 3 GB RSS. With a fixed size the
//     compaction's memory no longer grows with the store.
//   - Level 0 is compacted once it holds 12 tables (Badger: 5), and writes
//     stall at 24. Compacting L0 into L1 every 4 tables rewrote L1 about
//     three times as often, and the WAL's fsync waited behind those writes:
//     with 12, a 60 s lead load ran at 10,960 instead of 8,920 leads/s, p99
//     47 instead of 92 ms; an 8 s one at 13,800 instead of 11,600, p99 21
//     instead of 45 ms. A read checks up to 12 L0 tables' bloom filters.
//   - No compression, hence no block cache: a table builder keeps each
//     compressed block beside the raw one, and the cache keeps decompressed
//     copies, which together doubled the live heap under tracking load (max
//     live heap 51–66 MB against 99–120 MB with Snappy, RSS 167–216 against
//     245–288 MiB). Reads then come straight from the mmapped tables and
//     compactions skip Snappy (15% of a bulk load's CPU). The price is disk:
//     575 MB against 344 MB for the same 600k-click demo.
//   - No conflict detection: the store's single writer is the only
//     transactional writer (restore uses the loader, reindex DropPrefix), so
//     tracking reads and committed keys is pure overhead on the hot path.
//   - Values above 1 KB only go to the value log: records are smaller, so
//     reads never leave the LSM tree.
func badgerOptions(dir string, sync bool, log *slog.Logger) badger.Options {
	o := badger.DefaultOptions(dir).
		WithSyncWrites(sync).
		WithLogger(badgerLogger{log}).
		WithMetricsEnabled(false).
		WithDetectConflicts(false).
		WithMemTableSize(8 << 20).
		WithNumMemtables(3).
		WithNumLevelZeroTables(12).
		WithNumLevelZeroTablesStall(24).
		WithBaseTableSize(4 << 20).
		WithBaseLevelSize(32 << 20).
		WithBlockCacheSize(0).
		WithIndexCacheSize(8 << 20).
		WithValueThreshold(1 << 10).
		WithValueLogFileSize(128 << 20).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithCompression(options.None)
	o.TableSizeMultiplier = 1 // no With method in v4
	return o
}

// Close stops accepting writes, lets the writer finish every queued
// operation, and closes Badger. It is safe to call more than once.
func (db *DB) Close() error {
	db.closeMu.Lock()
	if db.closed {
		db.closeMu.Unlock()
		return nil
	}
	db.closed = true
	close(db.ops)
	db.closeMu.Unlock()
	db.writerWG.Wait()
	if db.stopTrim != nil {
		close(db.stopTrim)
		db.trimWG.Wait()
	}
	if err := db.bdb.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// View runs fn in a read-only transaction: a consistent snapshot of the
// last commit, taken without waiting for the writer.
func (db *DB) View(fn func(*Tx) error) error {
	ts := db.snaps.begin()
	defer db.snaps.end(ts)
	txn := db.bdb.NewTransactionAt(ts, false)
	defer txn.Discard()
	return fn(&Tx{txn: txn})
}

// Read runs fn in a read-only transaction (View) and returns what it
// read: the zero value when it fails.
func Read[T any](db *DB, fn func(*Tx) (T, error)) (T, error) {
	var out T
	err := db.View(func(tx *Tx) (err error) { out, err = fn(tx); return err })
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// Size returns the disk space of the LSM tree and the value log in bytes,
// measured from the files at most a few seconds ago (sizes.go).
func (db *DB) Size() (lsm, vlog int64) { return db.sizes.get(time.Now()) }

// RunGC runs Badger's value-log garbage collection until it finds nothing
// more to rewrite (or an error other than "nothing to do").
func (db *DB) RunGC(discardRatio float64) (rewritten int, err error) {
	for {
		err := db.bdb.RunValueLogGC(discardRatio)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return rewritten, nil
		}
		if err != nil {
			return rewritten, fmt.Errorf("store: value log gc: %w", err)
		}
		rewritten++
	}
}

// Backup writes a full, consistent backup of the database to w (Badger's
// backup stream format); it can run while the server is serving.
func (db *DB) Backup(w io.Writer) error {
	ts := db.snaps.begin()
	defer db.snaps.end(ts)
	stream := db.bdb.NewStreamAt(ts)
	stream.LogPrefix = "store.Backup"
	if _, err := stream.Backup(w, 0); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// Restore loads a backup written by Backup into this (normally empty) database.
func (db *DB) Restore(r io.Reader) error {
	err := db.bdb.Load(r, 256)
	db.counters.invalidate()
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	// The loaded entries keep their versions, which may be above the last
	// commit: read and write from the newest, or the restored data would be
	// invisible.
	db.snaps.committed(db.bdb.MaxVersion())
	return db.loadAccountsRevision()
}

// dropPrefix removes every key with prefix p, behind the writer's back:
// the writer's counter cache is told.
func (db *DB) dropPrefix(p string) error {
	err := db.bdb.DropPrefix([]byte(p))
	db.counters.invalidate()
	return err
}

// IsEmpty reports whether the database holds no keys at all.
func (db *DB) IsEmpty() (bool, error) {
	empty := true
	err := db.View(func(tx *Tx) error {
		it := tx.txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		return nil
	})
	return empty, err
}

type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.log.Error("badger: " + trimNL(fmt.Sprintf(f, a...)))
}
func (l badgerLogger) Warningf(f string, a ...any) {
	l.log.Warn("badger: " + trimNL(fmt.Sprintf(f, a...)))
}
func (l badgerLogger) Infof(f string, a ...any) {
	l.log.Debug("badger: " + trimNL(fmt.Sprintf(f, a...)))
}
func (l badgerLogger) Debugf(f string, a ...any) {}

func trimNL(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return s
}
