package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Badger maps every table file and writes new tables through the mapping, so
// each table written since start stays in the process's resident set until
// it is compacted away or the kernel reclaims it: under write load that grew
// the server by 300+ MiB of page cache counted as its own memory. Nothing in
// Badger's options changes that, so the store hands the pages back itself:
// when the file-backed resident memory passes the budget, the older tables'
// mappings get MADV_DONTNEED and the newest ones (half the budget) stay, as
// they are the next compaction's inputs and the most read.
//
// On a shared file mapping MADV_DONTNEED only unmaps the pages from this
// process: they stay in the kernel's page cache (dirty ones are still
// written back), so nothing is lost and a page read again costs a minor
// fault, not a disk read. The first version used MADV_PAGEOUT, which also
// evicts the pages from the page cache: at a million leads every search
// and attribution read that reached an older table went back to the disk
// (docs/PERFORMANCE.md, issue 17). Should a table be unmapped between
// reading /proc/self/maps and the advice, whatever now lives at that
// address is a mapping Badger made the same way, and loses resident pages
// at worst.
//
// Only a table's data blocks are unmapped: its index and bloom filter, at
// the end of the file, stay, as long as they fit in the budget. Badger reads them in place through the
// mapping on every point read and every seek, so unmapping them made each
// read of an older table fault its filter and index back in (a point read
// cost ~40 µs at a million leads).

// trimSupported reports whether trimming can work on this system.
const trimSupported = true

// trimMappedTables unmaps the resident pages of dir's older table files
// when the process's file-backed resident memory is above budget. It
// reports false when the kernel refuses the advice.
func trimMappedTables(dir string, budget int64) bool {
	if residentFileBytes() <= budget {
		return true
	}
	maps := tableMappings(dir)
	slices.SortFunc(maps, func(a, b tableMapping) int { return b.fid - a.fid }) // newest first
	var kept int64
	for _, m := range maps {
		if kept+m.size <= budget/2 {
			kept += m.size
			continue
		}
		// The data blocks go; the index and filter stay while the budget
		// has room for them, newest tables first, and go too past it.
		n := min(m.size, tableDataEnd(m.path))
		if index := m.size - n; kept+index <= budget {
			kept += index
		} else {
			n = m.size
		}
		if n <= 0 {
			continue
		}
		_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.addr, uintptr(n), unix.MADV_DONTNEED)
		if errno == syscall.EINVAL {
			return false
		}
	}
	return true
}

type tableMapping struct {
	addr uintptr
	size int64
	fid  int
	path string
}

// dataEnds remembers where each table file's data blocks end (tables never
// change once written); it starts again when it has grown large.
var dataEnds = struct {
	sync.Mutex
	m map[string]int64
}{m: map[string]int64{}}

// tableDataEnd is the offset, rounded down to a page, where a Badger table
// file's data blocks end and its index begins. The footer is, from the
// end: the checksum's length (4 bytes), the checksum, the index's length
// (4 bytes), the index (table.initIndex in Badger v4). A file it cannot
// read as a table counts as data to its end.
func tableDataEnd(path string) int64 {
	dataEnds.Lock()
	defer dataEnds.Unlock()
	if end, ok := dataEnds.m[path]; ok {
		return end
	}
	end := readTableDataEnd(path)
	if len(dataEnds.m) >= 8192 {
		clear(dataEnds.m)
	}
	dataEnds.m[path] = end
	return end
}

func readTableDataEnd(path string) int64 {
	whole := int64(math.MaxInt64)
	f, err := os.Open(path)
	if err != nil {
		return whole
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return whole
	}
	var b [4]byte
	u32 := func(at int64) int64 {
		if at < 0 || at+4 > st.Size() {
			return -1
		}
		if _, err := f.ReadAt(b[:], at); err != nil {
			return -1
		}
		return int64(binary.BigEndian.Uint32(b[:]))
	}
	pos := st.Size() - 4
	chk := u32(pos)
	if chk < 0 {
		return whole
	}
	pos -= chk + 4
	idx := u32(pos)
	if idx < 0 || idx > pos {
		return whole
	}
	start := pos - idx
	page := int64(os.Getpagesize())
	return start / page * page
}

// residentFileBytes is RssFile from /proc/self/status.
func residentFileBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("RssFile:")); ok {
			if f := strings.Fields(string(rest)); len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// tableMappings lists the mappings of dir's *.sst files.
func tableMappings(dir string) []tableMapping {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []tableMapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 7f0c2a000000-7f0c2a400000 r--s 00000000 fd:01 1234  /data/db/000012.sst
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || filepath.Dir(fields[5]) != dir {
			continue
		}
		name, ok := strings.CutSuffix(filepath.Base(fields[5]), ".sst")
		if !ok {
			continue
		}
		lo, hi, _ := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		fid, err3 := strconv.Atoi(name)
		if err1 != nil || err2 != nil || err3 != nil || end <= start || strings.Trim(fields[2], "0") != "" {
			continue // not a whole table mapped from its start, as Badger maps them
		}
		out = append(out, tableMapping{addr: uintptr(start), size: int64(end - start), fid: fid, path: fields[5]})
	}
	return out
}
