package store

import (
	"path/filepath"
	"time"
)

// The trimmer of mapped table files: the goroutine that keeps the resident
// part of Badger's mapped tables within Options.MappedTables. What it does
// on each tick is in mapped_linux.go.

// trimEvery is how often the mapped tables are checked against the budget:
// a compaction writes up to ~100 MB of new tables in a second or two.
const trimEvery = 100 * time.Millisecond

func (db *DB) startTrimming(dir string, budget int64) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		db.log.Warn("store: not trimming mapped tables", "err", err)
		return
	}
	db.stopTrim = make(chan struct{})
	db.trimWG.Add(1)
	go func() {
		defer db.trimWG.Done()
		t := time.NewTicker(trimEvery)
		defer t.Stop()
		for {
			select {
			case <-db.stopTrim:
				return
			case <-t.C:
				if !trimMappedTables(abs, budget) {
					db.log.Warn("store: the kernel refused MADV_DONTNEED: mapped tables stay resident")
					return
				}
			}
		}
	}()
}
