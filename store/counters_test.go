package store

import (
	"fmt"
	"testing"
	"time"
)

// TestCounterCacheFollowsWritesBesideTheWriter checks that the writer's
// counter cache never hands out a value Badger no longer holds: after a
// prefix is dropped behind the writer's back, after an ordinary operation
// sets a counter key itself, and once the cache has started again past its
// bound. Each step counts one more lead of the same day and program, which
// reads the day's tally through the cache.
func TestCounterCacheFollowsWritesBesideTheWriter(t *testing.T) {
	db := openTest(t)
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	day := DayNumber(at)
	prg, aff := NewID(at), NewID(at)
	n := 0
	addLead := func() {
		t.Helper()
		n++
		l := &Lead{ID: NewID(at), ProgramID: prg, AffiliateID: aff, Email: fmt.Sprintf("c%d@example.com", n), CreatedAt: at}
		if err := db.Update(func(tx *Tx) error { return tx.InsertLead(l) }); err != nil {
			t.Fatal(err)
		}
	}
	dayLeads := func() int64 {
		t.Helper()
		var got int64
		if err := db.View(func(tx *Tx) error {
			return tx.TallyDays(TallyScope{ProgramID: prg}, day, day, func(_ uint32, t *Tally) { got = t.Leads })
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}

	addLead()
	addLead()
	if got := dayLeads(); got != 2 {
		t.Fatalf("after two leads the day's tally is %d", got)
	}

	// Dropped behind the writer's back (as a migration does): the next
	// lead starts the tally again from nothing, not from the cached 2.
	if err := db.dropPrefix(tProgram); err != nil {
		t.Fatal(err)
	}
	addLead()
	if got := dayLeads(); got != 1 {
		t.Errorf("after a drop and one lead the day's tally is %d, want 1 (a stale cache says 3)", got)
	}

	// An ordinary operation sets the counter itself.
	if err := db.Update(func(tx *Tx) error {
		tx.set(tallyProgramKey(prg, day), (&Tally{Leads: 10}).marshal())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	addLead()
	if got := dayLeads(); got != 11 {
		t.Errorf("after a direct write of 10 and one lead the day's tally is %d, want 11", got)
	}

	// Past its bound the cache starts again and reads Badger.
	filler := make(map[string][]byte, counterCacheEntries)
	for i := range counterCacheEntries {
		filler[fmt.Sprintf("test-filler-%d", i)] = nil
	}
	db.counters.committed(filler)
	addLead()
	if got := dayLeads(); got != 12 {
		t.Errorf("after the cache started again the day's tally is %d, want 12", got)
	}

	// And the whole of it matches what a rebuild from the records gives,
	// but for the one count set by hand.
	live := dumpDerived(t, db)
	if err := db.Reindex(nil); err != nil {
		t.Fatal(err)
	}
	rebuilt := dumpDerived(t, db)
	for k, v := range rebuilt {
		if k == string(tallyProgramKey(prg, day)) {
			continue
		}
		if string(live[k]) != string(v) {
			t.Errorf("%q: live %x, rebuilt %x", k, live[k], v)
		}
	}
	addLead()
	if got := dayLeads(); got != int64(n) {
		t.Errorf("after a reindex and one more lead the day's tally is %d, want %d", got, n)
	}
}
