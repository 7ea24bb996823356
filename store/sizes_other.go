//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package store

import "io/fs"

// diskBytes is the file's length: this system's stat has no block count,
// so a sparse value-log file counts at its full length.
func diskBytes(info fs.FileInfo) int64 { return info.Size() }
