package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

func TestFailedOperationLeavesNothingInItsBatch(t *testing.T) {
	db := openTest(t)
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = db.Update(func(tx *Tx) error {
				tx.set([]byte(fmt.Sprintf("cnt:test-%03d\x00", i)), []byte("x"))
				if i%3 == 0 {
					return fmt.Errorf("op %d refuses", i)
				}
				return nil
			})
		}(i)
	}
	wg.Wait()
	err := db.View(func(tx *Tx) error {
		for i := 0; i < 200; i++ {
			ok, err := tx.exists([]byte(fmt.Sprintf("cnt:test-%03d\x00", i)))
			if err != nil {
				return err
			}
			if failed := i%3 == 0; ok == failed || (errs[i] != nil) != failed {
				return fmt.Errorf("op %d: stored=%v err=%v", i, ok, errs[i])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	batches, ops := db.WriterStats()
	if ops < 200 || batches < 1 {
		t.Fatalf("writer stats %d batches, %d ops", batches, ops)
	}
}

func TestConcurrentCountersNeverLoseAnIncrement(t *testing.T) {
	db := openTest(t)
	var wg sync.WaitGroup
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.Update(func(tx *Tx) error { return tx.AddCounter("hits", 1) }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var n int64
	db.View(func(tx *Tx) (err error) { n, err = tx.Counter("hits"); return })
	if n != 500 {
		t.Fatalf("counter = %d, want 500", n)
	}
}

func TestUniqueKeysRefuseSecondOwnerInSameBatch(t *testing.T) {
	db := openTest(t)
	prg := NewID(time.Now())
	var wg sync.WaitGroup
	results := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			now := time.Now()
			l := &Lead{ID: NewID(now), ProgramID: prg, AffiliateID: NewID(now), Email: "Same@Example.com", CreatedAt: now}
			results <- db.Update(func(tx *Tx) error { return tx.InsertLead(l) })
		}()
	}
	wg.Wait()
	close(results)
	ok, dup := 0, 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrDuplicate):
			dup++
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 || dup != 19 {
		t.Fatalf("%d stored, %d duplicates; want 1 and 19", ok, dup)
	}
	var r Rollup
	db.View(func(tx *Tx) error {
		return tx.Rollups(0, DayNumber(time.Now())+1, prg, func(_ uint32, _, _ string, x *Rollup) { r.Add(x) })
	})
	if r.Leads != 1 {
		t.Fatalf("rollup counts %d leads, want 1: a refused op leaked its rollup", r.Leads)
	}
}

func TestPanicInOperationIsAnError(t *testing.T) {
	db := openTest(t)
	err := db.Update(func(tx *Tx) error { panic("boom") })
	if err == nil {
		t.Fatal("panic not reported")
	}
	// The writer survives.
	if err := db.Update(func(tx *Tx) error { return tx.AddCounter("after", 1) }); err != nil {
		t.Fatal(err)
	}
}

func TestOversizedBatchSplitsWithoutHalfApplying(t *testing.T) {
	db := openTest(t)
	big := make([]byte, 900)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- db.Update(func(tx *Tx) error {
				for j := 0; j < 400; j++ { // ~360 KB per op: many ops cannot share a transaction
					tx.set([]byte(fmt.Sprintf("cnt:big-%02d-%03d\x00", i, j)), big)
				}
				return nil
			})
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	db.View(func(tx *Tx) error {
		return tx.scan([]byte("cnt:big-"), nil, false, false, func([]byte, *badger.Item) (bool, error) { n++; return true, nil })
	})
	if n != 64*400 {
		t.Fatalf("%d keys stored, want %d", n, 64*400)
	}
}

func TestCloseDrainsQueuedWrites(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var acked sync.Map
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if db.Update(func(tx *Tx) error { return tx.AddCounter(fmt.Sprint("c", i), 1) }) == nil {
				acked.Store(i, true)
			}
		}(i)
	}
	wg.Wait()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("update after close: %v", err)
	}
	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acked.Range(func(k, _ any) bool {
		var n int64
		db.View(func(tx *Tx) (err error) { n, err = tx.Counter(fmt.Sprint("c", k)); return })
		if n != 1 {
			t.Errorf("acknowledged write c%v lost after close/reopen", k)
		}
		return true
	})
}

// TestOperationsSeeEveryEarlierOne: operations from many goroutines run in
// one strict order across batches. Each operation reads a counter and some
// count keys with an iterator; across all of them the values seen must be
// exactly 0..n-1, each once. A read that missed an earlier batch would
// repeat a value; an iterator that missed one would count fewer keys than
// the counter.
func TestOperationsSeeEveryEarlierOne(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir(), SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 600
	var wg sync.WaitGroup
	counted := make([]int64, n)
	scanned := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := db.Update(func(tx *Tx) error {
				v, err := tx.Counter("seq")
				if err != nil {
					return err
				}
				counted[i], scanned[i] = v, -1
				if i%4 == 0 {
					scanned[i] = 0
					err = tx.scan([]byte("cnt:scan-"), nil, false, false, func([]byte, *badger.Item) (bool, error) {
						scanned[i]++
						return true, nil
					})
					if err != nil {
						return err
					}
				}
				tx.set([]byte(fmt.Sprintf("cnt:scan-%04d", i)), []byte{1})
				return tx.AddCounter("seq", 1)
			})
			if err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i := 0; i < n; i++ {
		if scanned[i] >= 0 && counted[i] != int64(scanned[i]) {
			t.Fatalf("op %d read counter %d but iterated over %d keys", i, counted[i], scanned[i])
		}
		if seen[counted[i]] || counted[i] < 0 || counted[i] >= n {
			t.Fatalf("op %d saw %d: seen before or out of range", i, counted[i])
		}
		seen[counted[i]] = true
	}
	if batches, _ := db.WriterStats(); batches >= n {
		t.Logf("%d batches for %d operations: no batching happened", batches, n)
	}
}

// TestBatchedRollupsMatchReindex: rollups and tallies are summed per batch
// and written once. Many concurrent writers (clicks, leads, purchases,
// refunds, and operations that fail after adding to a rollup), spread over
// days, affiliates and currencies, must leave exactly the rollups and
// tallies a reindex computes from the records.
func TestBatchedRollupsMatchReindex(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir(), SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	prg := NewID(base)
	affs := []string{"", NewID(base), NewID(base)}
	currencies := []string{"EUR", "USD"}
	errRefused := errors.New("refused")
	var wg sync.WaitGroup
	for i := 0; i < 400; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			at := base.Add(time.Duration(i%3) * 24 * time.Hour)
			aff := affs[i%len(affs)]
			err := db.Update(func(tx *Tx) error {
				switch i % 5 {
				case 0, 1:
					return tx.InsertClick(&Click{ID: NewID(at), ProgramID: prg, AffiliateID: aff, CreatedAt: at})
				case 2:
					return tx.InsertLead(&Lead{ID: NewID(at), ProgramID: prg, AffiliateID: aff, Email: fmt.Sprintf("l%d@example.com", i), CreatedAt: at})
				case 3:
					p := &Purchase{ID: NewID(at), OrderID: fmt.Sprint("o", i), ProgramID: prg, AffiliateID: aff, Email: "p@example.com",
						Amount: int64(1000 + i), Commission: int64(100 + i), Currency: currencies[i%2], Status: "paid", PurchasedAt: at, CreatedAt: at}
					if err := tx.InsertPurchase(p); err != nil {
						return err
					}
					if i%2 == 1 {
						p.Status = "refunded"
						return tx.UpdatePurchase(p)
					}
					return nil
				default:
					if err := tx.InsertClick(&Click{ID: NewID(at), ProgramID: prg, AffiliateID: aff, CreatedAt: at}); err != nil {
						return err
					}
					return errRefused // its rollup delta must not count
				}
			})
			if err != nil && !errors.Is(err, errRefused) {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	var clicks int64
	if err := db.View(func(tx *Tx) error {
		return tx.Rollups(0, 1<<31, "", func(_ uint32, _, _ string, r *Rollup) { clicks += r.Clicks })
	}); err != nil {
		t.Fatal(err)
	}
	if clicks != 160 {
		t.Fatalf("%d clicks in the rollups, want 160 (refused operations must not count)", clicks)
	}
	// The totals, computed here independently of the store's summing.
	want := Tally{Clicks: 160, Leads: 80, Purchases: 80, Refunds: 40}
	for i := 3; i < 400; i += 5 {
		m := []RollupMoney{{currencies[i%2], int64(1000 + i), int64(100 + i)}}
		if i%2 == 1 {
			want.Refunded = mergeMoney(want.Refunded, m)
		} else {
			want.Paid = mergeMoney(want.Paid, m)
		}
	}
	var got *Tally
	if err := db.View(func(tx *Tx) (err error) {
		got, err = tx.TallySum(TallyScope{ProgramID: prg}, DayNumber(base), DayNumber(base)+2)
		return
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Fatalf("program tally\n got %+v\nwant %+v", *got, want)
	}
	writeMoney(t, db, base, prg, affs[1:], currencies)
	live := dumpDerived(t, db)
	if err := db.Reindex(nil); err != nil {
		t.Fatal(err)
	}
	rebuilt := dumpDerived(t, db)
	if len(live) != len(rebuilt) {
		t.Errorf("%d derived keys live, %d after reindex", len(live), len(rebuilt))
	}
	for k, v := range live {
		if rv, ok := rebuilt[k]; !ok || !bytes.Equal(rv, v) {
			t.Errorf("%q: live %x, reindex %x", k, v, rv)
		}
	}
	if batches, ops := db.WriterStats(); batches*2 > ops {
		t.Logf("%d batches for %d operations: little batching happened", batches, ops)
	}
}

// TestAfterCommitRunsBeforeTheAnswer: when Update returns, the operation's
// after-commit hooks have run; a failed operation's never run.
func TestAfterCommitRunsBeforeTheAnswer(t *testing.T) {
	db := openTest(t)
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var ran atomic.Bool
			err := db.Update(func(tx *Tx) error {
				// The pause gives an answer sent before the hooks time to be seen.
				tx.AfterCommit(func() { time.Sleep(time.Millisecond); ran.Store(true) })
				tx.set([]byte(fmt.Sprintf("cnt:hook-%03d", i)), []byte{1})
				if i%4 == 0 {
					return errors.New("refused")
				}
				return nil
			})
			if failed := i%4 == 0; (err != nil) != failed || ran.Load() == failed {
				t.Errorf("op %d: err %v, hook ran %v", i, err, ran.Load())
			}
		}(i)
	}
	wg.Wait()
}

// writeMoney adds, concurrently, commissions walked through every status
// (with partial amounts, clawbacks and a payout with items), so the
// reindex check covers their indexes and the balance counters.
func writeMoney(t *testing.T, db *DB, base time.Time, prg string, affs, currencies []string) {
	t.Helper()
	payout := &Payout{ID: NewID(base), Currency: "USD", Status: PayoutOpen, CreatedAt: base}
	if err := db.Update(func(tx *Tx) error { return tx.PutPayout(payout) }); err != nil {
		t.Fatal(err)
	}
	statuses := []string{CommissionPending, CommissionApproved, CommissionProcessing, CommissionPaid, CommissionVoided}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := base.Add(time.Duration(i) * time.Minute)
			aff, cur := affs[i%len(affs)], currencies[i%2]
			c := &Commission{ID: NewID(at), PurchaseID: NewID(at), ProgramID: prg, AffiliateID: aff, Kind: CommissionSale,
				Amount: int64(100 + i), Currency: cur, Status: CommissionPending, ApproveAt: at.AddDate(0, 0, 30), CreatedAt: at}
			err := db.Update(func(tx *Tx) error { return tx.PutCommission(c) })
			// Then, in later writes, on to its final status.
			for _, st := range statuses[1 : 1+i%len(statuses)] {
				if err != nil {
					break
				}
				c.Status = st
				switch st {
				case CommissionProcessing:
					c.PayoutID = payout.ID
				case CommissionPaid:
					c.PaidAt = at.Add(time.Hour)
				case CommissionVoided:
					c.PayoutID, c.PaidAt = "", time.Time{}
				}
				if i%7 == 0 {
					c.Amount -= 10 // a partial refund lowered it
				}
				err = db.Update(func(tx *Tx) error { return tx.PutCommission(c) })
			}
			if err == nil && i%9 == 0 {
				claw := &Commission{ID: NewID(at), PurchaseID: c.PurchaseID, ProgramID: prg, AffiliateID: aff, Kind: CommissionClawback,
					Amount: -25, Currency: cur, Status: CommissionApproved, ApproveAt: at, CreatedAt: at, ClawbackOf: c.ID}
				err = db.Update(func(tx *Tx) error { return tx.PutCommission(claw) })
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	err := db.Update(func(tx *Tx) error {
		for _, aff := range affs {
			if err := tx.PutPayoutItem(payout, &PayoutItem{PayoutID: payout.ID, AffiliateID: aff, Name: "n", Amount: 1, Commissions: 1}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.View(func(tx *Tx) error {
		return tx.Balances(BalanceQuery{}, func(*Balance) bool { n++; return true })
	}); err != nil || n == 0 {
		t.Fatalf("no balances written (%v)", err)
	}
}
