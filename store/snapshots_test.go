package store

import (
	"bytes"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// compactAll pushes every write into table files and compacts them, so
// Badger drops the versions the store has released.
func compactAll(t *testing.T, db *DB) {
	t.Helper()
	// DropPrefix flushes the memtables to level 0 first; the dropped key is
	// one of its own.
	if err := db.Update(func(tx *Tx) error { tx.set([]byte("zz-compact"), []byte{1}); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.bdb.DropPrefix([]byte("zz-compact")); err != nil {
		t.Fatal(err)
	}
	if err := db.bdb.Flatten(1); err != nil {
		t.Fatal(err)
	}
}

// versions counts the stored versions of a counter.
func versions(t *testing.T, db *DB, name string) int {
	t.Helper()
	txn := db.bdb.NewTransactionAt(db.snaps.lastCommitted(), false)
	defer txn.Discard()
	it := txn.NewIterator(badger.IteratorOptions{AllVersions: true})
	defer it.Close()
	k := counterKey(name)
	n := 0
	for it.Seek(k); it.ValidForPrefix(k); it.Next() {
		if bytes.Equal(it.Item().Key(), k) {
			n++
		}
	}
	return n
}

func addCounter(t *testing.T, db *DB, name string, delta int64) {
	t.Helper()
	if err := db.Update(func(tx *Tx) error { return tx.AddCounter(name, delta) }); err != nil {
		t.Fatal(err)
	}
}

// TestOpenReaderKeepsItsSnapshot: versions an open reader can see survive
// releases and compactions made while it reads; once it has finished they
// are dropped.
func TestOpenReaderKeepsItsSnapshot(t *testing.T) {
	db := openTest(t)
	addCounter(t, db, "c", 1)

	reading, done := make(chan struct{}), make(chan struct{})
	seen := make(chan int64, 2)
	go func() {
		_ = db.View(func(tx *Tx) error {
			n, _ := tx.Counter("c")
			seen <- n
			close(reading)
			<-done
			n, err := tx.Counter("c")
			if err != nil {
				n = -1
			}
			seen <- n
			return nil
		})
		close(seen)
	}()
	<-reading
	for range 4 {
		addCounter(t, db, "c", 1)
	}
	db.releaseVersions()
	compactAll(t, db)
	close(done)
	if a, b := <-seen, <-seen; a != 1 || b != 1 {
		t.Fatalf("the open reader read %d, then %d after a compaction; want 1 both times", a, b)
	}
	if got := versions(t, db, "c"); got < 2 {
		t.Fatalf("%d version(s) of the counter kept while a reader needed the first", got)
	}

	// Once the reader has ended, one more version makes the next
	// compaction rewrite the counter's table.
	<-seen
	addCounter(t, db, "c", 1)
	db.releaseVersions()
	compactAll(t, db)
	if got := versions(t, db, "c"); got != 1 {
		t.Fatalf("%d versions of the counter after its readers ended, want 1", got)
	}
	var n int64
	if err := db.View(func(tx *Tx) (err error) { n, err = tx.Counter("c"); return }); err != nil || n != 6 {
		t.Fatalf("counter %d (%v), want 6", n, err)
	}
}

// TestSnapshotsOldest: the oldest timestamp in use is the oldest open
// reader's, or the last commit when none is open.
func TestSnapshotsOldest(t *testing.T) {
	s := newSnapshots(7)
	a := s.begin()
	s.committed(8)
	b, c := s.begin(), s.begin()
	s.committed(9)
	if a != 7 || b != 8 || c != 8 {
		t.Fatalf("readers began at %d %d %d, want 7 8 8", a, b, c)
	}
	if got := s.oldest(); got != 7 {
		t.Fatalf("oldest %d, want 7", got)
	}
	s.end(a)
	s.end(b)
	if got := s.oldest(); got != 8 {
		t.Fatalf("oldest %d with a reader left at 8, want 8", got)
	}
	s.end(c)
	if got := s.oldest(); got != 9 {
		t.Fatalf("oldest %d with no reader, want the last commit 9", got)
	}
	s.committed(3)
	if got := s.lastCommitted(); got != 9 {
		t.Fatalf("the last commit moved back to %d", got)
	}
}

// TestRestoreIsReadableAtOnce: a backup from a store with more commits than
// the one it is restored into is visible right after Restore, in the same
// process, and later writes build on it.
func TestRestoreIsReadableAtOnce(t *testing.T) {
	src := openTest(t)
	for range 20 {
		addCounter(t, src, "c", 1)
	}
	if err := src.Update(func(tx *Tx) error { return tx.bumpAccountsRevision() }); err != nil {
		t.Fatal(err)
	}
	var backup bytes.Buffer
	if err := src.Backup(&backup); err != nil {
		t.Fatal(err)
	}

	dst := openTest(t)
	if err := dst.Restore(&backup); err != nil {
		t.Fatal(err)
	}
	if got := dst.AccountsRevision(); got != 1 {
		t.Fatalf("accounts revision %d after the restore, want 1", got)
	}
	addCounter(t, dst, "c", 1)
	var n int64
	if err := dst.View(func(tx *Tx) (err error) { n, err = tx.Counter("c"); return }); err != nil || n != 21 {
		t.Fatalf("counter %d (%v) after the restore and one more add, want 21", n, err)
	}
}
