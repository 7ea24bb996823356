//go:build !linux

package store

// Trimming mapped tables needs Linux's madvise and /proc (mapped_linux.go).
const trimSupported = false

func trimMappedTables(dir string, budget int64) bool { return false }
