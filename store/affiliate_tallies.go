package store

import (
	"bytes"
	"container/heap"
)

// WalkAffiliateTallies calls fn with each affiliate's totals over the days
// from..to (both included) in one program, or in all programs when
// programID is "", in affiliate id order. Unattributed purchases come under
// NoAffiliate. Refunded money is not filled in (the per-day edges come from
// r: rollups, which do not keep it). t.Paid is sorted by currency, without
// zero entries (nil when empty). fn must not keep id or t: both are reused
// for the next affiliate.
//
// Cost: whole BlockDays-day blocks of the range read one t-blk key per
// active affiliate and program; the at most 2×(BlockDays-1) edge days read
// one r: rollup per active affiliate and program and day. A 90-day
// dashboard reads about 18 keys per active affiliate and program instead
// of 90. One iterator serves all blocks and one all edge days.
//
// Nothing is allocated per affiliate. The keys under one prefix and program
// come in affiliate order, so the scans yield sorted runs of keys: the walk
// keeps each key's affiliate id and value in chunks, then merges the runs
// (a heap over their heads) and adds up an affiliate's keys where they
// meet. With 10,000 affiliates active, a map of per-affiliate sums had been
// two thirds of the dashboard's time and 2.8 MB per view, and the heap's
// growth into fresh pages made the first views after a start twice as slow
// (docs/PERFORMANCE.md, issue 17).
func (tx *Tx) WalkAffiliateTallies(programID string, from, to uint32, fn func(id []byte, t *Tally) error) error {
	if from > to {
		return nil
	}
	dayPrefixes, blockPrefixes := affiliateTallyPrefixes(programID, from, to)
	// A key under a prefix holds the affiliate id last, after the program
	// id when the prefix does not name the program.
	rest := IDLen
	if programID == "" {
		rest = 2 * IDLen
	}
	var rs tallyRuns
	add := func(prefix, k, v []byte) error {
		if len(k) != len(prefix)+rest {
			return errCorrupt
		}
		if rs.n >= tallyRowsBeforeCollapse {
			if err := rs.collapse(); err != nil {
				return err
			}
		}
		rs.add(k[len(k)-IDLen:], v)
		return nil
	}
	if err := tx.scanPrefixes([]byte(pRollup), dayPrefixes, add); err != nil {
		return err
	}
	if err := tx.scanPrefixes([]byte(tBlock), blockPrefixes, add); err != nil {
		return err
	}
	return rs.merge(fn)
}

// affiliateTallyPrefixes splits from..to into the edge days read from r:
// rollups and the whole blocks read from t-blk: tallies.
func affiliateTallyPrefixes(programID string, from, to uint32) (days, blocks [][]byte) {
	var edges [][2]uint32
	firstBlock := (from + BlockDays - 1) / BlockDays // first block starting at or after from
	endBlock := (to + 1) / BlockDays                 // blocks before this one end at or before to
	if firstBlock >= endBlock {
		edges = append(edges, [2]uint32{from, to})
	} else {
		if from < firstBlock*BlockDays {
			edges = append(edges, [2]uint32{from, firstBlock*BlockDays - 1})
		}
		if endBlock*BlockDays <= to {
			edges = append(edges, [2]uint32{endBlock * BlockDays, to})
		}
	}
	for _, e := range edges {
		for day := e[0]; day <= e[1] && day >= e[0]; day++ { // day >= e[0] stops a wrap at MaxUint32
			p := key(pRollup).day(day)
			if programID != "" {
				p = p.id(programID)
			}
			days = append(days, p)
		}
	}
	for b := firstBlock; b < endBlock; b++ {
		p := key(tBlock).day(b)
		if programID != "" {
			p = p.id(programID)
		}
		blocks = append(blocks, p)
	}
	return days, blocks
}

// tallyRowsPerChunk and tallyValueChunk size the walk's storage: fixed
// chunks, so that keeping 10,000 keys never copies what it already holds.
const (
	tallyRowsPerChunk = 1024
	tallyValueChunk   = 64 << 10
)

// tallyRowsBeforeCollapse bounds the rows a walk holds (~5 MB): past it, what
// was read so far is summed into one run of one row per affiliate. A long
// range with many programs and affiliates active every day reads up to
// (edge days + blocks) × programs × affiliates keys, and holding them all
// would take memory in proportion. A variable for tests.
var tallyRowsBeforeCollapse = 64 << 10

// tallyRow is one stored tally or rollup: whose it is, and its value.
type tallyRow struct {
	id  [IDLen]byte
	val []byte // in one of tallyRuns' value chunks
}

// tallyRun is a stretch of rows in strictly increasing id order; next is
// the merge's position in it.
type tallyRun struct{ next, end int }

// tallyRuns holds a walk's rows, in the order read, cut into sorted runs.
type tallyRuns struct {
	chunks [][]tallyRow
	n      int
	vals   []byte // the current value chunk
	runs   []tallyRun
}

func (rs *tallyRuns) row(i int) *tallyRow {
	return &rs.chunks[i/tallyRowsPerChunk][i%tallyRowsPerChunk]
}

// add appends a key's row; an id not above the previous one starts a run.
func (rs *tallyRuns) add(id, val []byte) {
	if rs.n%tallyRowsPerChunk == 0 {
		rs.chunks = append(rs.chunks, make([]tallyRow, tallyRowsPerChunk))
	}
	if len(rs.runs) == 0 || bytes.Compare(id, rs.row(rs.n - 1).id[:]) <= 0 {
		rs.runs = append(rs.runs, tallyRun{next: rs.n, end: rs.n})
	}
	if cap(rs.vals)-len(rs.vals) < len(val) {
		rs.vals = make([]byte, 0, max(tallyValueChunk, len(val))) // earlier chunks stay with their rows
	}
	start := len(rs.vals)
	rs.vals = append(rs.vals, val...)
	r := rs.row(rs.n)
	copy(r.id[:], id)
	r.val = rs.vals[start:len(rs.vals):len(rs.vals)]
	rs.n++
	rs.runs[len(rs.runs)-1].end = rs.n
}

// collapse replaces the rows by one run of their sums, one per id.
func (rs *tallyRuns) collapse() error {
	var sums tallyRuns
	err := rs.merge(func(id []byte, t *Tally) error {
		sums.add(id, t.marshal())
		return nil
	})
	*rs = sums
	return err
}

// merge hands fn each id's sum over all runs, in id order.
func (rs *tallyRuns) merge(fn func(id []byte, t *Tally) error) error {
	h := &runHeap{rs: rs}
	for i := range rs.runs {
		h.runs = append(h.runs, i)
	}
	heap.Init(h)
	var (
		sum        Tally
		cur        [IDLen]byte
		have       bool
		currencies []string
	)
	emit := func() error {
		room := sum.Paid // kept for the next affiliate's money
		sum.Paid = normaliseMoney(sum.Paid)
		err := fn(cur[:], &sum)
		sum = Tally{Paid: room[:0]}
		return err
	}
	for h.Len() > 0 {
		run := &rs.runs[h.runs[0]]
		r := rs.row(run.next)
		if have && r.id != cur {
			if err := emit(); err != nil {
				return err
			}
		}
		cur, have = r.id, true
		if err := sum.addEncoded(r.val, &currencies); err != nil {
			return err
		}
		if run.next++; run.next == run.end {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
	}
	if have {
		return emit()
	}
	return nil
}

// runHeap orders runs by the id at their merge position.
type runHeap struct {
	rs   *tallyRuns
	runs []int
}

func (h *runHeap) Len() int { return len(h.runs) }
func (h *runHeap) Less(i, j int) bool {
	a, b := h.rs.row(h.rs.runs[h.runs[i]].next), h.rs.row(h.rs.runs[h.runs[j]].next)
	return bytes.Compare(a.id[:], b.id[:]) < 0
}
func (h *runHeap) Swap(i, j int) { h.runs[i], h.runs[j] = h.runs[j], h.runs[i] }
func (h *runHeap) Push(x any)    { h.runs = append(h.runs, x.(int)) }
func (h *runHeap) Pop() any {
	x := h.runs[len(h.runs)-1]
	h.runs = h.runs[:len(h.runs)-1]
	return x
}
