package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// The disk's own floor (issue 17): every tracked event waits for one
// flush of the write-ahead log, so no latency figure of spiffy can be
// better than how long this disk takes to make one small append durable.
// -target fsync appends 4 KiB at a time to a file in the data dir's
// filesystem and fdatasyncs after each append, one after the other, the
// way the store's writer syncs each batch.

func measureFsync(dir string, d time.Duration) error {
	f, err := os.CreateTemp(dir, "loadgen-fsync-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page := make([]byte, 4096)
	var h histogram
	start := time.Now()
	var n int64
	for time.Since(start) < d {
		t0 := time.Now()
		if _, err := f.Write(page); err != nil {
			return err
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return err
		}
		h.add(time.Since(t0))
		n++
		if n%4096 == 0 { // keep the file small: rewrite from its start
			if _, err := f.Seek(0, 0); err != nil {
				return err
			}
		}
	}
	elapsed := time.Since(start)
	fmt.Printf("fsync   4 KiB append + fdatasync in %s: %d in %s (%.0f/s)  p50 %s  p99 %s  p99.9 %s  max %s\n",
		dir, n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(),
		ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max))
	return nil
}
