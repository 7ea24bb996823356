package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixture is a small store filled through the live write path, plus the
// same rows in memory so every query can be checked against a brute-force
// answer.
type fixture struct {
	db        *DB
	base      time.Time
	programs  []string
	affs      []string
	leads     []*Lead
	purchases map[string]*Purchase
}

var fixtureEmails = []string{"anna", "anne", "bob", "bobby", "carl", "Zed", "ada"}

func newFixture(t *testing.T, seed int64) *fixture {
	t.Helper()
	f := &fixture{db: openTest(t), base: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), purchases: map[string]*Purchase{}}
	rng := rand.New(rand.NewSource(seed))
	for i := 0; i < 3; i++ {
		f.programs = append(f.programs, NewID(f.base))
	}
	for i := 0; i < 6; i++ {
		f.affs = append(f.affs, NewID(f.base))
	}
	// Leads over 20 days, created in time order as the live path does.
	var times []time.Time
	for i := 0; i < 400; i++ {
		times = append(times, f.base.Add(time.Duration(rng.Int63n(int64(20*24*time.Hour)))))
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i, at := range times {
		l := &Lead{
			ID: NewID(at), ProgramID: f.programs[rng.Intn(3)], AffiliateID: f.affs[rng.Intn(6)],
			Email: fmt.Sprintf("%s%d@Example.com", fixtureEmails[rng.Intn(len(fixtureEmails))], i),
			Name:  "Lead " + fmt.Sprint(i), Code: "code", SubID: "s", CreatedAt: at,
		}
		f.leads = append(f.leads, l)
		if err := f.db.Update(func(tx *Tx) error { return tx.InsertLead(l) }); err != nil {
			t.Fatal(err)
		}
	}
	// Purchases: some attributed, some not, two currencies, some refunded
	// later, purchased_at in any order (merchants backdate).
	for i := 0; i < 250; i++ {
		at := f.base.Add(time.Duration(rng.Int63n(int64(20 * 24 * time.Hour))))
		p := &Purchase{
			ID: NewID(f.base.Add(time.Duration(i) * time.Minute)), OrderID: fmt.Sprint("o", i),
			ProgramID: f.programs[rng.Intn(3)], Email: fmt.Sprintf("%s%d@example.com", fixtureEmails[rng.Intn(len(fixtureEmails))], i),
			Amount: int64(100 + rng.Intn(10000)), Currency: []string{"USD", "EUR"}[rng.Intn(2)], Status: "paid",
			PurchasedAt: at, CreatedAt: at,
		}
		if rng.Intn(4) > 0 {
			p.AffiliateID = f.affs[rng.Intn(6)]
			p.Commission = p.Amount / 10
		}
		if i%17 == 0 {
			p.Email = "" // erased or never given
		}
		f.purchases[p.ID] = p
		if err := f.db.Update(func(tx *Tx) error { return tx.InsertPurchase(p) }); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, p := range f.purchases {
		if n++; n%5 != 0 {
			continue
		}
		q := *p
		q.Status, q.RefundedAt = "refunded", at(f.base, 30*24)
		f.purchases[p.ID] = &q
		if err := f.db.Update(func(tx *Tx) error { return tx.UpdatePurchase(&q) }); err != nil {
			t.Fatal(err)
		}
	}
	// A lead that later bought: its record changes, its keys do not.
	l := *f.leads[10]
	l.PurchaseID = NewID(f.base)
	f.leads[10] = &l
	if err := f.db.Update(func(tx *Tx) error { return tx.UpdateLead(&l) }); err != nil {
		t.Fatal(err)
	}
	return f
}

func at(base time.Time, hours int) time.Time { return base.Add(time.Duration(hours) * time.Hour) }

func (f *fixture) wantLeads(q LeadQuery) []string {
	var out []*Lead
	prefix := NormEmail(q.EmailPrefix)
	for _, l := range f.leads {
		if q.ProgramID != "" && l.ProgramID != q.ProgramID || q.AffiliateID != "" && l.AffiliateID != q.AffiliateID ||
			!q.From.IsZero() && l.CreatedAt.Before(q.From) || !q.To.IsZero() && !l.CreatedAt.Before(q.To) ||
			q.Email != "" && NormEmail(l.Email) != NormEmail(q.Email) || !strings.HasPrefix(NormEmail(l.Email), prefix) {
			continue
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b *Lead) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	ids := []string{}
	for _, l := range out {
		ids = append(ids, l.ID)
	}
	return ids
}

func (f *fixture) wantPurchases(q PurchaseQuery) ([]string, PurchaseTotals) {
	var out []*Purchase
	prefix := NormEmail(q.EmailPrefix)
	tot := PurchaseTotals{MoneyKnown: true}
	for _, p := range f.purchases {
		aff := q.AffiliateID
		if aff == NoAffiliate {
			aff = ""
		}
		if q.ProgramID != "" && p.ProgramID != q.ProgramID || q.AffiliateID != "" && p.AffiliateID != aff ||
			q.Status != "" && p.Status != q.Status ||
			!q.From.IsZero() && p.PurchasedAt.Before(q.From) || !q.To.IsZero() && !p.PurchasedAt.Before(q.To) ||
			q.Email != "" && (p.Email == "" || NormEmail(p.Email) != NormEmail(q.Email)) || !strings.HasPrefix(NormEmail(p.Email), prefix) {
			continue
		}
		out = append(out, p)
		m := []RollupMoney{{p.Currency, p.Amount, p.Commission}}
		if p.Status == "refunded" {
			tot.Refunded = mergeMoney(tot.Refunded, m)
		} else {
			tot.Paid = mergeMoney(tot.Paid, m)
		}
	}
	tot.Count = Count{N: int64(len(out)), Exact: true}
	slices.SortFunc(out, func(a, b *Purchase) int {
		if c := b.PurchasedAt.Compare(a.PurchasedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	ids := []string{}
	for _, p := range out {
		ids = append(ids, p.ID)
	}
	return ids, tot
}

type dateCase struct {
	name     string
	from, to time.Time
}

func (f *fixture) dateCases() []dateCase {
	return []dateCase{
		{"any time", time.Time{}, time.Time{}},
		{"days 3-9", f.base.AddDate(0, 0, 3), f.base.AddDate(0, 0, 10)},
		{"from day 15", f.base.AddDate(0, 0, 15), time.Time{}},
		{"to day 2", time.Time{}, f.base.AddDate(0, 0, 3)},
		{"partial days", f.base.Add(50*time.Hour + 17*time.Minute), f.base.Add(140*time.Hour + 3*time.Second)},
		{"within one day", f.base.Add(99 * time.Hour), f.base.Add(101 * time.Hour)},
		{"empty range", f.base.AddDate(0, 0, 5), f.base.AddDate(0, 0, 5)},
		{"before everything", f.base.AddDate(-1, 0, 0), f.base.AddDate(-1, 0, 1)},
	}
}

func TestLeadQueriesMatchBruteForce(t *testing.T) {
	f := newFixture(t, 1)
	exact := f.leads[42].Email
	for _, prg := range []string{"", f.programs[1]} {
		for _, aff := range []string{"", f.affs[2]} {
			for _, dc := range f.dateCases() {
				for _, em := range [][2]string{{"", ""}, {strings.ToUpper(exact), ""}, {"", "ann"}, {"", "BOB"}, {"", "zz"}, {"", "a"}, {exact, "ann"}} {
					q := LeadQuery{ProgramID: prg, AffiliateID: aff, From: dc.from, To: dc.to, Email: em[0], EmailPrefix: em[1]}
					name := fmt.Sprintf("prg=%v aff=%v %s email=%q prefix=%q", prg != "", aff != "", dc.name, em[0], em[1])
					want := f.wantLeads(q)
					for _, limit := range []int{1, 7, 500} {
						var got []string
						q.Cursor, q.Limit = "", limit
						for pages := 0; ; pages++ {
							var page []*Lead
							var next string
							err := f.db.View(func(tx *Tx) (err error) { page, next, err = tx.Leads(q); return })
							if err != nil {
								t.Fatalf("%s: %v", name, err)
							}
							if len(page) > limit || next != "" && len(page) != limit {
								t.Fatalf("%s limit %d: page of %d with next %q", name, limit, len(page), next)
							}
							for _, l := range page {
								got = append(got, l.ID)
							}
							if next == "" {
								break
							}
							if pages > len(want)+1 {
								t.Fatalf("%s: endless pagination", name)
							}
							q.Cursor = next
						}
						if !slices.Equal(got, want) {
							t.Fatalf("%s limit %d: got %d rows, want %d\n got %v\nwant %v", name, limit, len(got), len(want), got, want)
						}
					}
					var c Count
					if err := f.db.View(func(tx *Tx) (err error) { c, err = tx.CountLeads(q); return }); err != nil {
						t.Fatal(err)
					}
					if c != (Count{N: int64(len(want)), Exact: true}) {
						t.Errorf("%s: count %+v, want %d", name, c, len(want))
					}
					var streamed []string
					err := f.db.StreamLeads(context.Background(), q, func(ls []*Lead) error {
						for _, l := range ls {
							streamed = append(streamed, l.ID)
						}
						return nil
					})
					if err != nil || !slices.Equal(streamed, want) {
						t.Errorf("%s: stream %v (%d rows), want %d", name, err, len(streamed), len(want))
					}
				}
			}
		}
	}
}

func TestPurchaseQueriesMatchBruteForce(t *testing.T) {
	f := newFixture(t, 2)
	var exact string
	for _, p := range f.purchases {
		if p.Email != "" {
			exact = p.Email
			break
		}
	}
	for _, prg := range []string{"", f.programs[0]} {
		for _, aff := range []string{"", f.affs[4], NoAffiliate} {
			for _, status := range []string{"", "paid", "refunded"} {
				for _, dc := range f.dateCases() {
					for _, em := range [][2]string{{"", ""}, {exact, ""}, {"", "bob"}, {"", "x"}} {
						q := PurchaseQuery{ProgramID: prg, AffiliateID: aff, Status: status, From: dc.from, To: dc.to, Email: em[0], EmailPrefix: em[1]}
						name := fmt.Sprintf("prg=%v aff=%.3s status=%s %s email=%q prefix=%q", prg != "", aff, status, dc.name, em[0], em[1])
						want, wantTot := f.wantPurchases(q)
						var got []string
						q.Limit = 9
						for {
							var page []*Purchase
							var next string
							if err := f.db.View(func(tx *Tx) (err error) { page, next, err = tx.Purchases(q); return }); err != nil {
								t.Fatalf("%s: %v", name, err)
							}
							for _, p := range page {
								got = append(got, p.ID)
							}
							if next == "" {
								break
							}
							q.Cursor = next
						}
						if !slices.Equal(got, want) {
							t.Fatalf("%s: got %d rows, want %d", name, len(got), len(want))
						}
						var tot PurchaseTotals
						if err := f.db.View(func(tx *Tx) (err error) { tot, err = tx.PurchaseTotals(q); return }); err != nil {
							t.Fatal(err)
						}
						if fmt.Sprint(tot) != fmt.Sprint(wantTot) {
							t.Errorf("%s: totals %+v, want %+v", name, tot, wantTot)
						}
					}
				}
			}
		}
	}
}

func TestPaginationWhileLeadsArrive(t *testing.T) {
	f := newFixture(t, 3)
	want := f.wantLeads(LeadQuery{})
	q := LeadQuery{Limit: 13}
	var got []string
	now := f.base.AddDate(0, 0, 21)
	for i := 0; ; i++ {
		var page []*Lead
		var next string
		if err := f.db.View(func(tx *Tx) (err error) { page, next, err = tx.Leads(q); return }); err != nil {
			t.Fatal(err)
		}
		for _, l := range page {
			got = append(got, l.ID)
		}
		// New leads arrive between every two pages.
		for j := 0; j < 5; j++ {
			now = now.Add(time.Second)
			l := &Lead{ID: NewID(now), ProgramID: f.programs[0], AffiliateID: f.affs[0], Email: fmt.Sprintf("new%d.%d@x.com", i, j), CreatedAt: now}
			if err := f.db.Update(func(tx *Tx) error { return tx.InsertLead(l) }); err != nil {
				t.Fatal(err)
			}
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paging while leads arrive: got %d rows, want %d (gaps or repeats)", len(got), len(want))
	}
}

func TestBadCursor(t *testing.T) {
	db := openTest(t)
	for _, c := range []string{"x", "!!!", encodeCursor([]byte("short")), encodeCursor(append(make([]byte, 8), "not-an-id-not-an-id-not-an"...))} {
		err := db.View(func(tx *Tx) error { _, _, err := tx.Leads(LeadQuery{Cursor: c}); return err })
		if err != ErrBadCursor {
			t.Errorf("cursor %q: %v, want ErrBadCursor", c, err)
		}
		err = db.View(func(tx *Tx) error { _, _, err := tx.Purchases(PurchaseQuery{Cursor: c}); return err })
		if err != ErrBadCursor {
			t.Errorf("purchase cursor %q: %v, want ErrBadCursor", c, err)
		}
	}
}

func TestSearchCountEstimatesPastBudget(t *testing.T) {
	f := newFixture(t, 4)
	q := LeadQuery{EmailPrefix: "a"}
	want := int64(len(f.wantLeads(q)))
	var c Count
	err := f.db.View(func(tx *Tx) (err error) {
		sp := leadSearchSpec(&q, newBounds(time.Time{}, time.Time{}))
		c, err = tx.searchCountBudget(sp, TallyScope{}, newBounds(time.Time{}, time.Time{}), func(t *Tally) int64 { return t.Leads }, nil, 20)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Exact || c.N < want/2 || c.N > want*2 {
		t.Errorf("estimate %+v, want inexact near %d", c, want)
	}
}

// affiliateTallies collects WalkAffiliateTallies into a map.
func affiliateTallies(tx *Tx, programID string, from, to uint32) (map[string]*Tally, error) {
	out := map[string]*Tally{}
	err := tx.WalkAffiliateTallies(programID, from, to, func(id []byte, t *Tally) error {
		c := *t
		c.Paid = slices.Clone(t.Paid)
		out[string(id)] = &c
		return nil
	})
	return out, err
}

func TestTalliesAndAffiliateTallies(t *testing.T) {
	collapseDefault := tallyRowsBeforeCollapse
	t.Cleanup(func() { tallyRowsBeforeCollapse = collapseDefault })
	f := newFixture(t, 5)
	from, to := DayNumber(f.base.AddDate(0, 0, 2)), DayNumber(f.base.AddDate(0, 0, 17))
	for _, prg := range []string{"", f.programs[2]} {
		want := map[string]*Tally{}
		add := func(aff string, d *Tally) {
			if want[aff] == nil {
				want[aff] = &Tally{}
			}
			want[aff].Add(d)
		}
		for _, l := range f.leads {
			if d := DayNumber(l.CreatedAt); d >= from && d <= to && (prg == "" || l.ProgramID == prg) {
				add(l.AffiliateID, &Tally{Leads: 1})
			}
		}
		for _, p := range f.purchases {
			if d := DayNumber(p.PurchasedAt); d >= from && d <= to && (prg == "" || p.ProgramID == prg) {
				d := &Tally{Purchases: 1}
				if p.Status == "refunded" {
					d.Refunds = 1
				} else {
					d.Paid = []RollupMoney{{p.Currency, p.Amount, p.Commission}}
				}
				add(orNoAffiliate(p.AffiliateID), d)
			}
		}
		for _, span := range [][2]uint32{{from, to}, {from, from}, {from + 1, from + 9}, {from + 8, from + 15}} {
			var got map[string]*Tally
			if err := f.db.View(func(tx *Tx) (err error) { got, err = affiliateTallies(tx, prg, span[0], span[1]); return }); err != nil {
				t.Fatal(err)
			}
			// The same with the rows summed every few keys read, as a long
			// range with many affiliates has them.
			tallyRowsBeforeCollapse = 5
			var collapsed map[string]*Tally
			if err := f.db.View(func(tx *Tx) (err error) { collapsed, err = affiliateTallies(tx, prg, span[0], span[1]); return }); err != nil {
				t.Fatal(err)
			}
			tallyRowsBeforeCollapse = collapseDefault
			if fmtTallies(collapsed) != fmtTallies(got) {
				t.Errorf("program %q, days %v: summed every 5 keys\n got %v\nwant %v", prg, span, fmtTallies(collapsed), fmtTallies(got))
			}
			if span == [2]uint32{from, to} && fmtTallies(got) != fmtTallies(want) {
				t.Errorf("program %q: affiliate tallies\n got %v\nwant %v", prg, fmtTallies(got), fmtTallies(want))
			}
			// Whatever the split between blocks and edge days, the sum
			// equals the day tallies of the same span.
			var sum, days Tally
			for _, t := range got {
				sum.Add(t)
			}
			if err := f.db.View(func(tx *Tx) error {
				return tx.TallyDays(TallyScope{ProgramID: prg}, span[0], span[1], func(_ uint32, t *Tally) { t.Refunded = nil; days.Add(t) })
			}); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(sum) != fmt.Sprint(days) {
				t.Errorf("program %q span %v: affiliate tallies sum to %+v, day tallies to %+v", prg, span, sum, days)
			}
		}
	}
}

// TestReindexMatchesLivePath rebuilds every derived key from the records and
// compares the result byte for byte with what the live write path kept.
func TestReindexMatchesLivePath(t *testing.T) {
	f := newFixture(t, 6)
	// An erased lead (no email) and an export record join the fixture.
	l := *f.leads[20]
	l.Email, l.Name = "", ""
	x := &Export{ID: NewID(f.base), Owner: "admin", Kind: "leads", Status: "done", CreatedAt: f.base, ExpiresAt: f.base.Add(24 * time.Hour)}
	if err := f.db.Update(func(tx *Tx) error {
		if err := tx.UpdateLead(&l); err != nil {
			return err
		}
		return tx.PutExport(x)
	}); err != nil {
		t.Fatal(err)
	}
	live := dumpDerived(t, f.db)
	if len(live) < 1000 {
		t.Fatalf("only %d derived keys: fixture too small", len(live))
	}
	if err := f.db.Reindex(nil); err != nil {
		t.Fatal(err)
	}
	rebuilt := dumpDerived(t, f.db)
	for k, v := range live {
		if rv, ok := rebuilt[k]; !ok {
			t.Errorf("reindex lost %q", k)
		} else if !bytes.Equal(rv, v) {
			t.Errorf("reindex changed %q: %x -> %x", k, v, rv)
		}
	}
	for k := range rebuilt {
		if _, ok := live[k]; !ok {
			t.Errorf("reindex added %q", k)
		}
	}
}

func dumpDerived(t *testing.T, db *DB) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	if err := db.DumpDerived(func(k, v []byte) error {
		m[string(k)] = bytes.Clone(v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

func fmtTallies(m map[string]*Tally) string {
	vals := map[string]Tally{}
	for k, v := range m {
		vals[k] = *v
	}
	return fmt.Sprint(vals)
}

// TestStreamManyChunks streams more rows than one chunk holds, with and
// without a filter, and stops early when fn or the context says so.
func TestStreamManyChunks(t *testing.T) {
	db := openTest(t)
	base := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	prg := []string{NewID(base), NewID(base)}
	aff := NewID(base)
	n := 2*StreamChunk + 300
	var want, wantPrg []string
	for i := 0; i < n; i += 500 {
		err := db.Update(func(tx *Tx) error {
			for j := i; j < min(i+500, n); j++ {
				at := base.Add(time.Duration(j) * time.Minute)
				l := &Lead{ID: NewID(at), ProgramID: prg[j%2], AffiliateID: aff, Email: fmt.Sprintf("p%d@x.com", j), CreatedAt: at}
				want = append([]string{l.ID}, want...)
				if j%2 == 1 {
					wantPrg = append([]string{l.ID}, wantPrg...)
				}
				if err := tx.InsertLead(l); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		q    LeadQuery
		want []string
	}{{LeadQuery{}, want}, {LeadQuery{ProgramID: prg[1]}, wantPrg}, {LeadQuery{EmailPrefix: "p"}, want}} {
		var got []string
		chunks := 0
		err := db.StreamLeads(context.Background(), tc.q, func(ls []*Lead) error {
			chunks++
			for _, l := range ls {
				got = append(got, l.ID)
			}
			return nil
		})
		if err != nil || !slices.Equal(got, tc.want) || chunks < len(tc.want)/StreamChunk {
			t.Errorf("%+v: %v, %d rows in %d chunks, want %d rows", tc.q, err, len(got), chunks, len(tc.want))
		}
	}
	stop := fmt.Errorf("enough")
	calls := 0
	err := db.StreamLeads(context.Background(), LeadQuery{}, func([]*Lead) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("fn error: %v after %d calls", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	err = db.StreamLeads(ctx, LeadQuery{}, func([]*Lead) error { calls++; cancel(); return nil })
	if err != context.Canceled || calls > 2 {
		t.Errorf("cancelled: %v after %d calls", err, calls)
	}
}

func TestDecodeLeadForExport(t *testing.T) {
	for _, l := range []Lead{
		{ID: NewID(time.Now()), ProgramID: "p", AffiliateID: "a", ReferralID: "r", Code: "c", SubID: "s",
			Email: "zoë@exämple.com", Name: strings.Repeat("N", 300), URL: "https://x/" + strings.Repeat("u", 200),
			VisitorID: "v", IP: "1.2.3.4", UserAgent: "UA", CreatedAt: time.UnixMicro(1767225600123456).UTC(), PurchaseID: "b"},
		{ID: "x", CreatedAt: time.UnixMicro(-5).UTC()},
		{},
	} {
		got, err := decodeLeadForExport(l.marshal())
		if err != nil {
			t.Fatal(err)
		}
		want := l
		want.ReferralID, want.URL, want.VisitorID, want.IP, want.UserAgent = "", "", "", "", ""
		if *got != want {
			t.Errorf("decoded %+v, want %+v", *got, want)
		}
	}
	if _, err := decodeLeadForExport([]byte{1, 0xff}); err == nil {
		t.Error("corrupt record decoded")
	}
}

// TestMigrationRebuildsSearchKeys: a data dir written before the search
// indexes and tallies existed (schema 1, none of those keys) gets them at
// Open, identical to what the live path writes.
func TestMigrationRebuildsSearchKeys(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	err = db.Update(func(tx *Tx) error {
		for i := 0; i < 50; i++ {
			at := base.Add(time.Duration(i) * time.Hour)
			if err := tx.InsertLead(&Lead{ID: NewID(at), ProgramID: NewID(base), AffiliateID: NewID(base), Email: fmt.Sprintf("m%d@x.com", i), CreatedAt: at}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := dumpDerived(t, db)
	for _, p := range []string{iLeadSearch, iLeadAffSearch, tAll, tProgram, tAffProgram, tBlock} {
		if err := db.bdb.DropPrefix([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	// A key of the retired layout, as a version 2 store may hold.
	if err := db.Update(func(tx *Tx) error {
		tx.set(metaKey("schema"), []byte{0, 0, 0, 1})
		tx.set(append([]byte("t-da:"), 1, 2, 3, 4), []byte{1})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(dumpDerived(t, db)) >= len(want) {
		t.Fatal("keys not dropped")
	}
	db.Close()
	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := dumpDerived(t, db)
	if len(got) != len(want) {
		t.Fatalf("after migration %d derived keys, want %d", len(got), len(want))
	}
	for k, v := range want {
		if !bytes.Equal(got[k], v) {
			t.Fatalf("key %q differs after migration", k)
		}
	}
	err = db.View(func(tx *Tx) error {
		_, err := tx.get(append([]byte("t-da:"), 1, 2, 3, 4))
		return err
	})
	if err != ErrNotFound {
		t.Errorf("retired tally key: %v, want it gone", err)
	}
	if v, _ := db.schemaVersion(); v != SchemaVersion() {
		t.Errorf("schema version %d, want %d", v, SchemaVersion())
	}
}

// TestNewestHitsKeepsTheNewest offers hits in any order and keeps the n
// newest, newest first, as a sort of all of them would.
func TestNewestHitsKeepsTheNewest(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, n := range []int{1, 3, 51} {
		for _, total := range []int{0, 2, 51, 52, 5000} {
			var all []searchHit
			for i := range total {
				all = append(all, searchHit{suffix: append(be64b(uint64(rng.Intn(total/2+1))), fmt.Sprintf("%026d", i)...)})
			}
			page := newestHits(n)
			for _, h := range all {
				page.Offer(h)
			}
			slices.SortFunc(all, func(a, b searchHit) int { return bytes.Compare(b.suffix, a.suffix) })
			want := all[:min(n, len(all))]
			if len(page.Items()) != len(want) {
				t.Fatalf("n %d of %d: kept %d, want %d", n, total, len(page.Items()), len(want))
			}
			for i := range want {
				if !bytes.Equal(page.Items()[i].suffix, want[i].suffix) {
					t.Fatalf("n %d of %d: hit %d is %x, want %x", n, total, i, page.Items()[i].suffix, want[i].suffix)
				}
			}
		}
	}
}

func be64b(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// TestLeadsAndCountMatchesLeadsThenCount: the one-walk page and count of an
// email-prefix search is what Leads and CountLeads give separately, on
// every page, with filters, and when the count stops at its budget before
// the page is full.
func TestLeadsAndCountMatchesLeadsThenCount(t *testing.T) {
	inexact := false
	check := func(t *testing.T, db *DB, q LeadQuery) (pages int) {
		t.Helper()
		for {
			var leads, want []*Lead
			var next, wantNext string
			var c, wantC Count
			if err := db.View(func(tx *Tx) (err error) {
				if leads, next, c, err = tx.LeadsAndCount(q); err != nil {
					return err
				}
				if want, wantNext, err = tx.Leads(q); err != nil {
					return err
				}
				wantC, err = tx.CountLeads(q)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			ids := func(ls []*Lead) (s []string) {
				for _, l := range ls {
					s = append(s, l.ID)
				}
				return s
			}
			if !slices.Equal(ids(leads), ids(want)) || next != wantNext || c != wantC {
				t.Fatalf("query %+v page %d: got %d leads, next %q, count %+v; want %d, %q, %+v",
					q, pages, len(leads), next, c, len(want), wantNext, wantC)
			}
			pages++
			inexact = inexact || !c.Exact
			if next == "" {
				return pages
			}
			q.Cursor = next
		}
	}
	f := newFixture(t, 7)
	for _, q := range []LeadQuery{
		{EmailPrefix: "a", Limit: 7},
		{EmailPrefix: "b", ProgramID: f.programs[1], Limit: 5},
		{EmailPrefix: "c", AffiliateID: f.affs[2], Limit: 3},
		{EmailPrefix: "a", From: f.base.AddDate(0, 0, 3), To: f.base.AddDate(0, 0, 9).Add(-time.Hour), Limit: 4},
		{EmailPrefix: "zzz"},
		{Limit: 50},
	} {
		check(t, f.db, q)
	}

	// Past the count's budget in one busy day: the count estimates, and the
	// pages still hand out every lead once. Emails are not in time order
	// within a day (the count's walk hands a day's hits out by email).
	db := openTest(t)
	day := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	prg := NewID(day)
	n := 2 * CountBudget
	for i := 0; i < n; i += 1000 {
		if err := db.Update(func(tx *Tx) error {
			for j := i; j < min(i+1000, n); j++ {
				at := day.Add(-time.Duration(j%8) * 24 * time.Hour).Add(time.Duration(j) * time.Second)
				if err := tx.InsertLead(&Lead{ID: NewID(at), ProgramID: prg, AffiliateID: NoAffiliate, Email: fmt.Sprintf("busy%05d@example.com", j*7919%n), CreatedAt: at}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if pages := check(t, db, LeadQuery{EmailPrefix: "busy", Limit: 500}); pages != (n+499)/500 {
		t.Errorf("%d pages of 500 for %d leads", pages, n)
	}
	if !inexact {
		t.Error("the count never stopped at its budget: the fixture does not test that case")
	}
}
