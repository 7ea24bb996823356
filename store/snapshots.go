package store

import (
	"sync"
	"time"
)

// Snapshot timestamps. Badger runs in managed mode: the store, not Badger's
// oracle, picks the timestamp every transaction reads and commits at. With a
// single writer that is simple: the writer commits at the last committed
// timestamp + 1, and a reader reads at the last committed one.
//
// Why not Badger's own timestamps: there, opening any transaction first
// waits until every commit with a lower timestamp is done, and under group
// commit a commit is nearly always in flight, waiting for its fsync. So a
// lead's lookup of its referral waited for somebody else's fsync before the
// lead could even join the next batch, and every transaction's begin and end
// also went through one watermark goroutine. Here a reader sees the last
// commit that has finished and never waits (docs/PERFORMANCE.md, "Third
// pass": about 10% more clicks and leads per second).
//
// What Badger no longer knows is which old versions an open reader may still
// need, so the store tells it: releaseVersions passes the oldest read
// timestamp in use (the last commit when no reader is open) to
// SetDiscardTs, and compactions drop only versions older than that.
type snapshots struct {
	mu   sync.Mutex
	last uint64         // the newest committed timestamp
	open map[uint64]int // read timestamp → read transactions open at it
}

func newSnapshots(last uint64) *snapshots {
	return &snapshots{last: last, open: make(map[uint64]int)}
}

// begin registers a reader and returns the timestamp it reads at. Taking
// the timestamp and registering it under one lock is what makes oldest safe:
// no reader can get a timestamp that oldest has already passed.
func (s *snapshots) begin() uint64 {
	s.mu.Lock()
	ts := s.last
	s.open[ts]++
	s.mu.Unlock()
	return ts
}

// end unregisters a reader that began at ts.
func (s *snapshots) end(ts uint64) {
	s.mu.Lock()
	if n := s.open[ts]; n > 1 {
		s.open[ts] = n - 1
	} else {
		delete(s.open, ts)
	}
	s.mu.Unlock()
}

// lastCommitted returns the newest committed timestamp.
func (s *snapshots) lastCommitted() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// committed publishes ts as the newest commit, never moving it back. The
// writer calls it after each commit; Restore after loading a backup, which
// runs on a database nothing else writes to.
func (s *snapshots) committed(ts uint64) {
	s.mu.Lock()
	s.last = max(s.last, ts)
	s.mu.Unlock()
}

// oldest returns the oldest timestamp a reader may still read at.
func (s *snapshots) oldest() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.last
	for ts := range s.open {
		o = min(o, ts)
	}
	return o
}

// releaseEvery is how often the writer lets Badger drop old versions. Only
// compactions act on it, and they run seconds apart.
const releaseEvery = time.Second

// releaseVersions lets compactions drop every version that no open reader
// can see any more.
func (db *DB) releaseVersions() {
	db.bdb.SetDiscardTs(db.snaps.oldest())
}
