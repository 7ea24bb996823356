package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The list engine at scale, without the HTTP and app layers: a data set
// written straight through the store's live write path (InsertClick,
// InsertLead, InsertPurchase, UpdatePurchase), then timed queries. The data
// set is kept between runs in $SPIFFY_BENCH_DIR (default: the system temp
// dir) and sized by $SPIFFY_BENCH_LEADS (default 1,000,000):
//
//	go test ./store/ -run '^$' -bench 'Engine$' -benchtime 1x -timeout 60m
//
// and, on a copy (it rewrites every derived key):
//
//	go test ./store/ -run '^$' -bench 'ReindexAtScale$' -benchtime 1x -timeout 60m

// benchSet describes the generated data set.
type benchSet struct {
	db      *DB
	end     time.Time // the end of the last day
	affs    []string  // by size, largest first
	prgs    []string
	leads   int
	prefixs []string
}

// benchData opens (or generates) the data set: 3 programs, 1,000
// affiliates of Zipf-like sizes, n leads, n/10 purchases (5% refunded) and
// 2n clicks over 90 days, written in time order as the live path does.
func benchData(b *testing.B) *benchSet {
	b.Helper()
	n := 1_000_000
	if s := os.Getenv("SPIFFY_BENCH_LEADS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 10000 {
			b.Fatalf("SPIFFY_BENCH_LEADS=%q: want a number >= 10000", s)
		}
		n = v
	}
	root := os.Getenv("SPIFFY_BENCH_DIR")
	if root == "" {
		root = os.TempDir()
	}
	dir := filepath.Join(root, fmt.Sprintf("spiffy-engine-%d", n))
	_, statErr := os.Stat(filepath.Join(dir, "ready"))
	db, err := Open(Options{Dir: filepath.Join(dir, "db"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SyncWrites: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(7, 11))
	s := &benchSet{db: db, end: end, leads: n, prefixs: []string{"j", "ma", "mic", "z", "s", "dav", "x", "ch", "wen", "li"}}
	for i := 0; i < 3; i++ {
		s.prgs = append(s.prgs, MinID(end.AddDate(-1, 0, i))[:20]+fmt.Sprintf("%06d", i))
	}
	weights := make([]float64, 1000)
	var total float64
	for i := range weights {
		s.affs = append(s.affs, MinID(end.AddDate(-1, 0, 0))[:16]+fmt.Sprintf("%010d", i))
		weights[i] = 1 / float64(i+3)
		total += weights[i]
	}
	cum := make([]float64, len(weights))
	acc := 0.0
	for i, w := range weights {
		acc += w / total
		cum[i] = acc
	}
	pickAff := func() int {
		i, _ := slices.BinarySearch(cum, rng.Float64())
		return min(i, len(cum)-1)
	}
	if statErr == nil {
		return s
	}
	benchFirst := []string{"james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "william", "elizabeth",
		"david", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah", "charles", "karen", "chris", "nancy",
		"daniel", "lisa", "matthew", "betty", "anthony", "margaret", "mark", "sandra", "zoe", "yusuf", "xavier", "wen"}
	benchDomains := []string{"gmail.com", "outlook.com", "yahoo.com", "example.com", "proton.me", "icloud.com"}
	b.Logf("generating %d leads into %s (kept for later runs)", n, dir)
	start := time.Now()
	span := 90 * 24 * time.Hour
	begin := end.Add(-span)
	var ops chan func(*Tx) error
	var wg sync.WaitGroup
	var failed error
	var mu sync.Mutex
	startWriters := func() {
		ops = make(chan func(*Tx) error, 4)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for op := range ops {
					if err := db.Update(op); err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
					}
				}
			}()
		}
	}
	startWriters()
	const batch = 300
	var refunds []*Purchase
	for i := 0; i < n; i += batch {
		type ev struct {
			c *Click
			l *Lead
			p *Purchase
		}
		var evs []ev
		for j := i; j < min(i+batch, n); j++ {
			at := begin.Add(time.Duration(float64(span) * float64(j) / float64(n)))
			a, p := pickAff(), rng.IntN(3)
			code := fmt.Sprintf("aff%d-%d", a, p)
			for k := 0; k < 2; k++ {
				evs = append(evs, ev{c: &Click{ID: NewID(at), ProgramID: s.prgs[p], AffiliateID: s.affs[a], Code: code,
					VisitorID: fmt.Sprintf("v%d-%d", j, k), URL: "https://shop.example.com/?ref=" + code, CreatedAt: at}})
			}
			first := benchFirst[rng.IntN(len(benchFirst))]
			email := fmt.Sprintf("%s.%s%d@%s", first, benchFirst[rng.IntN(len(benchFirst))], j, benchDomains[rng.IntN(len(benchDomains))])
			evs = append(evs, ev{l: &Lead{ID: NewID(at), ProgramID: s.prgs[p], AffiliateID: s.affs[a], Code: code, SubID: "s" + strconv.Itoa(j%7),
				Email: email, Name: first, URL: "https://shop.example.com/signup", CreatedAt: at}})
			if j%10 == 0 {
				pu := &Purchase{ID: NewID(at), OrderID: fmt.Sprint("o", j), ProgramID: s.prgs[p], Email: email, Amount: int64(1000 + rng.IntN(20000)),
					Currency: "USD", Status: "paid", PurchasedAt: at.Add(-time.Duration(rng.IntN(48)) * time.Hour), CreatedAt: at}
				if rng.IntN(5) > 0 {
					pu.AffiliateID, pu.Code, pu.Commission = s.affs[a], code, pu.Amount/5
				}
				evs = append(evs, ev{p: pu})
				if j%200 == 0 {
					refunds = append(refunds, pu)
				}
			}
		}
		ops <- func(tx *Tx) error {
			for _, e := range evs {
				var err error
				switch {
				case e.c != nil:
					err = tx.InsertClick(e.c)
				case e.l != nil:
					err = tx.InsertLead(e.l)
				default:
					err = tx.InsertPurchase(e.p)
				}
				if err != nil {
					return err
				}
			}
			return nil
		}
	}
	close(ops)
	wg.Wait() // every purchase is stored before any is refunded
	startWriters()
	for i := 0; i < len(refunds); i += batch {
		chunk := refunds[i:min(i+batch, len(refunds))]
		ops <- func(tx *Tx) error {
			for _, p := range chunk {
				q := *p
				q.Status = "refunded"
				if err := tx.UpdatePurchase(&q); err != nil {
					return err
				}
			}
			return nil
		}
	}
	close(ops)
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
	if err := os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated in %s", time.Since(start).Round(time.Second))
	return s
}

// timeIt runs fn n times per iteration and reports p50/p99 in ms.
func timeIt(b *testing.B, n int, fn func(i int)) {
	b.Helper()
	var all []time.Duration
	b.ResetTimer()
	for range b.N {
		for i := range n {
			t := time.Now()
			fn(i)
			all = append(all, time.Since(t))
		}
	}
	b.StopTimer()
	slices.Sort(all)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

func (s *benchSet) view(b *testing.B, fn func(tx *Tx) error) {
	if err := s.db.View(fn); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEngine times the engine's queries over the generated data set.
func BenchmarkEngine(b *testing.B) {
	s := benchData(b)
	mid := s.affs[20:400] // from thousands of leads down to a few hundred
	window := func(i int) (time.Time, time.Time) {
		to := s.end.AddDate(0, 0, -(i % 60))
		return to.AddDate(0, 0, -30), to
	}
	b.Run("page/affiliate-30d", func(b *testing.B) {
		timeIt(b, 500, func(i int) {
			from, to := window(i)
			s.view(b, func(tx *Tx) error {
				_, _, err := tx.Leads(LeadQuery{AffiliateID: mid[i%len(mid)], From: from, To: to})
				return err
			})
		})
	})
	b.Run("count/affiliate-30d", func(b *testing.B) {
		timeIt(b, 500, func(i int) {
			from, to := window(i)
			s.view(b, func(tx *Tx) error {
				_, err := tx.CountLeads(LeadQuery{AffiliateID: mid[i%len(mid)], From: from, To: to})
				return err
			})
		})
	})
	b.Run("page+count/affiliate-30d-prefix", func(b *testing.B) {
		timeIt(b, 500, func(i int) {
			from, to := window(i)
			q := LeadQuery{AffiliateID: mid[i%len(mid)], From: from, To: to, EmailPrefix: s.prefixs[i%len(s.prefixs)]}
			s.view(b, func(tx *Tx) error {
				if _, _, err := tx.Leads(q); err != nil {
					return err
				}
				_, err := tx.CountLeads(q)
				return err
			})
		})
	})
	b.Run("page+count/all-prefix", func(b *testing.B) {
		timeIt(b, 200, func(i int) {
			q := LeadQuery{EmailPrefix: s.prefixs[i%len(s.prefixs)]}
			s.view(b, func(tx *Tx) error {
				if _, _, err := tx.Leads(q); err != nil {
					return err
				}
				_, err := tx.CountLeads(q)
				return err
			})
		})
	})
	// Cursors spread over the whole list, as a page deep in it.
	var cursors []string
	for d := 1; d <= 85; d++ {
		s.view(b, func(tx *Tx) error {
			_, next, err := tx.Leads(LeadQuery{To: s.end.AddDate(0, 0, -d), Limit: 1})
			cursors = append(cursors, next)
			return err
		})
	}
	b.Run("page/deep-cursor", func(b *testing.B) {
		timeIt(b, 500, func(i int) {
			s.view(b, func(tx *Tx) error { _, _, err := tx.Leads(LeadQuery{Cursor: cursors[i%len(cursors)]}); return err })
		})
	})
	b.Run("page/deep-cursor-program", func(b *testing.B) {
		timeIt(b, 500, func(i int) {
			s.view(b, func(tx *Tx) error {
				_, _, err := tx.Leads(LeadQuery{Cursor: cursors[i%len(cursors)], ProgramID: s.prgs[i%3]})
				return err
			})
		})
	})
	b.Run("purchases/status-refunded+totals", func(b *testing.B) {
		timeIt(b, 200, func(i int) {
			q := PurchaseQuery{Status: "refunded", ProgramID: s.prgs[i%3]}
			s.view(b, func(tx *Tx) error {
				if _, _, err := tx.Purchases(q); err != nil {
					return err
				}
				_, err := tx.PurchaseTotals(q)
				return err
			})
		})
	})
	b.Run("tallies/90d-series+top-affiliates", func(b *testing.B) {
		lo, hi := DayNumber(s.end.AddDate(0, 0, -90)), DayNumber(s.end)-1
		timeIt(b, 100, func(i int) {
			prg := ""
			if i%2 == 1 {
				prg = s.prgs[i%3]
			}
			s.view(b, func(tx *Tx) error {
				if _, err := tx.TallySum(TallyScope{ProgramID: prg}, lo, hi); err != nil {
					return err
				}
				return tx.WalkAffiliateTallies(prg, lo, hi, func([]byte, *Tally) error { return nil })
			})
		})
	})
	b.Run("stream/all-leads", func(b *testing.B) {
		var rows int
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			err := s.db.StreamLeads(context.Background(), LeadQuery{}, func(ls []*Lead) error { rows += len(ls); return nil })
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
		b.ReportMetric(0, "ns/op")
	})
}

// BenchmarkReindexAtScale rebuilds every derived key of the data set and
// checks that the result is byte-identical to what the live path wrote.
// It runs on a copy: point SPIFFY_BENCH_DIR at a scratch copy of the set.
func BenchmarkReindexAtScale(b *testing.B) {
	s := benchData(b)
	digest := func() (string, int) {
		h := sha256.New()
		n := 0
		if err := s.db.DumpDerived(func(k, v []byte) error {
			n++
			h.Write(k)
			h.Write([]byte{0})
			h.Write(v)
			h.Write([]byte{0})
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		return fmt.Sprintf("%x", h.Sum(nil)), n
	}
	before, keys := digest()
	b.ResetTimer()
	start := time.Now()
	records := 0
	if err := s.db.Reindex(func(_ string, done int) { records = max(records, done) }); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	after, keysAfter := digest()
	if !bytes.Equal([]byte(before), []byte(after)) || keys != keysAfter {
		b.Fatalf("reindex differs from the live path: %d keys %s before, %d keys %s after", keys, before[:12], keysAfter, after[:12])
	}
	b.ReportMetric(float64(keys), "derived-keys")
	b.ReportMetric(elapsed.Seconds(), "reindex-s")
	b.ReportMetric(0, "ns/op")
	b.Logf("reindex of %d derived keys took %s and matched the live path byte for byte", keys, elapsed.Round(time.Second))
}

// BenchmarkWritePath measures what a tracked click and lead cost the single
// writer, with their indexes, rollups, search keys and tallies, many callers
// at once as under load (fsync off, to time the CPU side).
func BenchmarkWritePath(b *testing.B) {
	for _, kind := range []string{"click", "lead"} {
		b.Run(kind, func(b *testing.B) {
			db := openTest(b)
			base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
			prgs := []string{NewID(base), NewID(base), NewID(base)}
			affs := make([]string, 200)
			for i := range affs {
				affs[i] = NewID(base)
			}
			var n atomicCounter
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.next()
					at := base.Add(time.Duration(i) * time.Millisecond)
					err := db.Update(func(tx *Tx) error {
						if kind == "click" {
							return tx.InsertClick(&Click{ID: NewID(at), ProgramID: prgs[i%3], AffiliateID: affs[i%200], Code: "c",
								VisitorID: fmt.Sprint("v", i), URL: "https://shop.example.com/", CreatedAt: at})
						}
						return tx.InsertLead(&Lead{ID: NewID(at), ProgramID: prgs[i%3], AffiliateID: affs[i%200], Code: "c",
							Email: fmt.Sprintf("p%d@example.com", i), URL: "https://shop.example.com/", CreatedAt: at})
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCounter) next() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}
