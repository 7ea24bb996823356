//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"io/fs"
	"syscall"
)

// diskBytes is the space a file takes on disk: its allocated blocks (of
// 512 bytes, whatever the file system's block size), at most its length.
func diskBytes(info fs.FileInfo) int64 {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return info.Size()
	}
	return min(int64(st.Blocks)*512, info.Size())
}
