package store

import (
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Badger's own Size() reads counters that it only keeps with its metrics
// on, and badgerOptions turns them off (they cost on every read and
// write), so it always answered 0. The store measures the files instead:
// the LSM tree is the *.sst tables, the value log the *.vlog files (the
// write-ahead *.mem files are neither, as in Badger's own count).
//
// Sizes are the disk space the files take, not their length: Badger
// creates each value-log file at twice its 128 MB limit as a sparse file,
// so a new, empty store has a "256 MB" value log that takes 4 KB.

// sizesTTL is how long one measurement is reused: /metrics scrapes (every
// 15–60 s, sometimes from several scrapers) then cost one directory read
// per period, not one per scrape.
const sizesTTL = 5 * time.Second

// diskSizes measures and caches the sizes of the files in dir.
type diskSizes struct {
	dir string // "" (no directory): nothing on disk, sizes are 0

	mu        sync.Mutex
	at        time.Time
	lsm, vlog int64
}

// get returns the sizes, measured at most sizesTTL before now.
func (s *diskSizes) get(now time.Time) (lsm, vlog int64) {
	if s.dir == "" {
		return 0, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at.IsZero() || now.Sub(s.at) >= sizesTTL || now.Before(s.at) {
		s.lsm, s.vlog = measureDir(s.dir)
		s.at = now
	}
	return s.lsm, s.vlog
}

// measureDir sums the disk space of the tables and value-log files in dir.
// Compaction and value-log GC delete files while it runs; a file gone
// between listing and reading counts as nothing.
func measureDir(dir string) (lsm, vlog int64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".sst" && ext != ".vlog") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed by a compaction or GC since the listing
		}
		n := diskBytes(info)
		if ext == ".sst" {
			lsm += n
		} else {
			vlog += n
		}
	}
	return lsm, vlog
}
