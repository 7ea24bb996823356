package store

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmarks of the write path as the tracking endpoints use it: many
// goroutines, one small db.Update each, fsync on (as in production). They
// report writes per committed batch, which is what group commit buys, and
// are the quickest way to compare badgerOptions settings:
//
//	go test ./store/ -run '^$' -bench 'Writer' -benchtime 5s

func benchWriter(b *testing.B, sync bool, parallelism int, op func(i int64, now time.Time) func(*Tx) error) {
	db, err := Open(Options{Dir: b.TempDir(), SyncWrites: sync})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var n atomic.Int64
	batches0, ops0 := db.WriterStats()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if err := db.Update(op(i, time.Now())); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	batches, ops := db.WriterStats()
	if batches > batches0 {
		b.ReportMetric(float64(ops-ops0)/float64(batches-batches0), "writes/batch")
	}
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "writes/s")
}

func benchClick(i int64, now time.Time) func(*Tx) error {
	c := &Click{
		ID: NewID(now), ProgramID: benchProgram, AffiliateID: benchAffiliate, Code: "ann", SubID: "spring",
		VisitorID: "v" + strconv.FormatInt(i, 36) + "abcdefghijklmnop", URL: "https://shop.example.com/?ref=ann",
		Referrer: "https://blog.example/post", IP: "198.51.100.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0",
		CreatedAt: now,
	}
	return func(tx *Tx) error { return tx.InsertClick(c) }
}

func benchLead(i int64, now time.Time) func(*Tx) error {
	l := &Lead{
		ID: NewID(now), ProgramID: benchProgram, AffiliateID: benchAffiliate, ReferralID: NewID(now), Code: "ann",
		SubID: "spring", Email: fmt.Sprintf("lead%d@example.com", i), Name: "Lead Person", URL: "https://shop.example.com/signup",
		VisitorID: "v" + strconv.FormatInt(i, 36), IP: "198.51.100.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0",
		CreatedAt: now,
	}
	return func(tx *Tx) error {
		// As TrackLead does: the email check inside the write.
		if _, err := tx.LeadByEmail(l.ProgramID, l.Email); err == nil {
			return nil
		}
		return tx.InsertLead(l)
	}
}

const (
	benchProgram   = "01HZZZZZZZZZZZZZZZZZZZZZZP"
	benchAffiliate = "01HZZZZZZZZZZZZZZZZZZZZZZA"
)

func BenchmarkWriterClicksSync64(b *testing.B)   { benchWriter(b, true, 32, benchClick) }
func BenchmarkWriterLeadsSync64(b *testing.B)    { benchWriter(b, true, 32, benchLead) }
func BenchmarkWriterClicksNoSync64(b *testing.B) { benchWriter(b, false, 32, benchClick) }
