package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestTrimMappedTablesPagesOut: a mapped *.sst file of the store's
// directory leaves the resident set when the budget is passed, but its
// pages stay in the kernel's page cache (read again without the disk); a
// mapping of another file does not leave.
func TestTrimMappedTablesPagesOut(t *testing.T) {
	dir := t.TempDir()
	const size = 16 << 20
	mapFile := func(name string) []byte {
		t.Helper()
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, size/7+1)[:size]); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil { // clean pages, as Badger leaves its tables
			t.Fatal(err)
		}
		b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Munmap(b) })
		return b
	}
	touch := func(b []byte) (sum byte) {
		for i := 0; i < len(b); i += os.Getpagesize() {
			sum += b[i]
		}
		return sum
	}
	table := mapFile("000007.sst")
	other := mapFile("000008.vlog")
	tableSum := touch(table)
	sink = tableSum + touch(other)

	maps := tableMappings(dir)
	if len(maps) != 1 || maps[0].fid != 7 || maps[0].size != size {
		t.Fatalf("table mappings %+v, want one of 000007.sst, %d bytes", maps, size)
	}
	before := residentFileBytes()
	if before < 2*size {
		t.Fatalf("resident file memory %d after mapping two %d-byte files", before, size)
	}
	if !trimMappedTables(dir, before+1) {
		t.Fatal("trim refused")
	}
	if got := residentFileBytes(); got < before-size/4 {
		t.Fatalf("paged out under budget: %d -> %d", before, got)
	}
	if !trimMappedTables(dir, 1) {
		t.Fatal("the kernel refused MADV_DONTNEED")
	}
	after := residentFileBytes()
	if before-after < size*3/4 {
		t.Fatalf("resident file memory %d -> %d: the table's %d bytes were not paged out", before, after, size)
	}
	if before-after > size+size/4 {
		t.Fatalf("resident file memory %d -> %d: more than the table was paged out", before, after)
	}
	// mincore reports the page cache, whoever maps the page.
	vec := make([]byte, size/os.Getpagesize())
	if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&table[0])), uintptr(len(table)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	cached := 0
	for _, v := range vec {
		cached += int(v & 1)
	}
	if cached < len(vec)*3/4 {
		t.Fatalf("%d of the table's %d pages left in the page cache: the trim evicted them, and each read goes to the disk", cached, len(vec))
	}
	if touch(table) != tableSum {
		t.Fatal("the table reads differently after the page-out")
	}
}

// sink keeps the page reads from being optimised away.
var sink byte

// TestStoreTrimsItsTables: a store opened with a budget starts and stops its
// trimmer with it, and reads after a trim still find their data.
func TestStoreTrimsItsTables(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir, MappedTables: 1})
	if err != nil {
		t.Fatal(err)
	}
	if db.stopTrim == nil {
		t.Fatal("no trimmer started")
	}
	if err := db.Update(func(tx *Tx) error { return tx.AddCounter("c", 7) }); err != nil {
		t.Fatal(err)
	}
	if err := db.bdb.Flatten(1); err != nil { // the counter into a table file
		t.Fatal(err)
	}
	trimMappedTables(dir, 1)
	var n int64
	if err := db.View(func(tx *Tx) (err error) { n, err = tx.Counter("c"); return }); err != nil || n != 7 {
		t.Fatalf("counter %d %v after a trim, want 7", n, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTrimKeepsTableIndexes: trimming a real Badger table unmaps its data
// blocks but keeps its index and bloom filter, which every read of the
// table goes through, in the process.
func TestTrimKeepsTableIndexes(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	val := bytes.Repeat([]byte("v"), 200)
	for i := 0; i < 20000; i += 2000 {
		if err := db.Update(func(tx *Tx) error {
			for j := i; j < i+2000; j++ {
				tx.set(fmt.Appendf(nil, "test-key-%06d", j), val)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil { // the memtable into a table file
		t.Fatal(err)
	}
	if db, err = Open(Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	readAll := func() {
		t.Helper()
		if err := db.View(func(tx *Tx) error {
			for j := 0; j < 20000; j += 97 {
				if v, err := tx.get(fmt.Appendf(nil, "test-key-%06d", j)); err != nil || !bytes.Equal(v, val) {
					return fmt.Errorf("key %d: %q %v", j, v, err)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	readAll()
	abs, _ := filepath.Abs(dir)
	maps := tableMappings(abs)
	if len(maps) == 0 {
		t.Fatal("no table mapped")
	}
	m := maps[0]
	end := tableDataEnd(m.path)
	if end <= 0 || end >= m.size {
		t.Fatalf("data of %s ends at %d of %d bytes", m.path, end, m.size)
	}
	before := mappingRSS(t, m.addr)
	trimMappedTables(abs, 1<<20) // room for the index, not for the table
	if m.size <= 1<<20 {
		t.Fatalf("table of %d bytes: too small for this test", m.size)
	}
	after := mappingRSS(t, m.addr)
	index := m.size - end
	if after < index/2 || after > index+int64(os.Getpagesize()) {
		t.Errorf("table %s (%d bytes, index and filter %d): resident %d before the trim, %d after; want the index and filter to stay", m.path, m.size, index, before, after)
	}
	if before-after < end/2 {
		t.Errorf("resident %d -> %d: the data blocks (%d bytes) were not unmapped", before, after, end)
	}
	readAll()
}

// mappingRSS is the resident size of the mapping starting at addr, from
// /proc/self/smaps.
func mappingRSS(t *testing.T, addr uintptr) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("%x-", addr)
	found := false
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, head) {
			found = true
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Rss:"); ok && found {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no mapping at %x", addr)
	return 0
}

// TestTrimIndexesWithinBudget: when the budget has no room for a table's
// index, the whole table is unmapped.
func TestTrimIndexesWithinBudget(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *Tx) error {
		for j := 0; j < 2000; j++ {
			tx.set(fmt.Appendf(nil, "test-key-%06d", j), bytes.Repeat([]byte("v"), 200))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *Tx) error {
		_, err := tx.get([]byte("test-key-000007"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	maps := tableMappings(abs)
	if len(maps) == 0 {
		t.Fatal("no table mapped")
	}
	// A budget of one byte holds no index: nothing of the table stays.
	trimMappedTables(abs, 1)
	if got := mappingRSS(t, maps[0].addr); got != 0 {
		t.Errorf("%d bytes of the table resident past a budget with no room", got)
	}
}
