package main

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The disk's own floor (issue 17): every tracked event waits for one
// flush of the write-ahead log, so no latency figure of spiffy can be
// better than how long this disk takes to make one small append durable.
// -target fsync writes 4 KiB at a time to a file in the data dir's
// filesystem and fdatasyncs after each append, one after the other, the
// way the store's writer syncs each batch; then it writes into a mapped
// file and msyncs the page, as Badger's write-ahead log does.

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
	fmt.Printf("fsync   4 KiB write + fdatasync in %s: %d in %s (%.0f/s)  p50 %s  p99 %s  p99.9 %s  max %s\n",
		dir, n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(),
		ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max))
	return measureMsync(f, d)
}

// measureMsync does what Badger's write-ahead log does: a small write into
// a memory-mapped, preallocated file, then msync(MS_SYNC) of the page.
func measureMsync(f *os.File, d time.Duration) error {
	const size = 16 << 20
	if err := f.Truncate(size); err != nil {
		return err
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return err
	}
	defer syscall.Munmap(m)
	var h histogram
	start := time.Now()
	var n, off int
	for time.Since(start) < d {
		t0 := time.Now()
		copy(m[off:off+512], "a batch of entries, as the WAL gets them")
		page := off &^ (os.Getpagesize() - 1)
		if err := unix.Msync(m[page:off+512], unix.MS_SYNC); err != nil {
			return err
		}
		h.add(time.Since(t0))
		n++
		off = (off + 512) % size
	}
	elapsed := time.Since(start)
	fmt.Printf("msync   512 B into a mapped file + msync: %d in %s (%.0f/s)  p50 %s  p99 %s  p99.9 %s  max %s\n",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(),
		ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max))
	return nil
}
