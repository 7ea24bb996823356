package store

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// affiliateFixture stores n affiliates (newest last), each enrolled in the
// first program with code "code<i>", every third one pending and the
// odd-numbered ones also in the second program.
type affiliateFixture struct {
	db       *DB
	programs []string
	affs     []*Affiliate // by age, oldest first
}

func newAffiliateFixture(t *testing.T, n int) *affiliateFixture {
	t.Helper()
	f := &affiliateFixture{db: openTest(t)}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.programs = []string{NewID(base), NewID(base)}
	names := []string{"Zoë Núñez", "Ada Lovelace", "Bob Smith", "Anna Bell"}
	for i := 0; i < n; i++ {
		at := base.Add(time.Duration(i) * time.Minute)
		a := &Affiliate{ID: NewID(at), Name: fmt.Sprintf("%s %d", names[i%len(names)], i),
			Email: fmt.Sprintf("Person%d@Example.com", i), Status: "active", CreatedAt: at}
		if i%3 == 0 {
			a.Status = "pending"
		}
		f.affs = append(f.affs, a)
		err := f.db.Update(func(tx *Tx) error {
			if err := tx.PutAffiliate(a); err != nil {
				return err
			}
			if err := tx.PutEnrollment(&Enrollment{ProgramID: f.programs[0], AffiliateID: a.ID, Code: fmt.Sprintf("Code%d", i), CreatedAt: at}); err != nil {
				return err
			}
			if i%2 == 1 {
				return tx.PutEnrollment(&Enrollment{ProgramID: f.programs[1], AffiliateID: a.ID, Code: fmt.Sprintf("second%d", i), CreatedAt: at})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *affiliateFixture) page(t *testing.T, q AffiliatePageQuery) *AffiliatePage {
	t.Helper()
	var p *AffiliatePage
	if err := f.db.View(func(tx *Tx) (err error) { p, err = tx.AffiliatePage(q); return }); err != nil {
		t.Fatal(err)
	}
	return p
}

// want lists the ids of the affiliates that keep passes, newest first.
func (f *affiliateFixture) want(keep func(i int, a *Affiliate) bool) []string {
	var out []string
	for i := len(f.affs) - 1; i >= 0; i-- {
		if keep(i, f.affs[i]) {
			out = append(out, f.affs[i].ID)
		}
	}
	return out
}

func TestNormSearch(t *testing.T) {
	for in, want := range map[string]string{
		"  Zoë   Núñez ":  "zoe nunez",
		"ÅSA@Example.COM": "asa@example.com",
		"":                "",
	} {
		if got := NormSearch(in); got != want {
			t.Errorf("NormSearch(%q) = %q, want %q", in, got, want)
		}
	}
	long := NormSearch(string(make([]byte, 0)) + "é" + fmt.Sprintf("%0200d", 0))
	if len(long) > maxTermLen {
		t.Errorf("term of %d bytes", len(long))
	}
}

// TestAffiliatePagesWalkEveryFilterBothWays pages forward to the end and
// back to the start under each filter and checks every page against the
// records.
func TestAffiliatePagesWalkEveryFilterBothWays(t *testing.T) {
	f := newAffiliateFixture(t, 37)
	cases := []struct {
		name string
		q    AffiliatePageQuery
		keep func(i int, a *Affiliate) bool
	}{
		{"all", AffiliatePageQuery{}, func(int, *Affiliate) bool { return true }},
		{"pending", AffiliatePageQuery{Status: "pending"}, func(i int, _ *Affiliate) bool { return i%3 == 0 }},
		{"program", AffiliatePageQuery{ProgramID: f.programs[1]}, func(i int, _ *Affiliate) bool { return i%2 == 1 }},
		{"program and status", AffiliatePageQuery{ProgramID: f.programs[1], Status: "active"}, func(i int, _ *Affiliate) bool { return i%2 == 1 && i%3 != 0 }},
		{"name word", AffiliatePageQuery{Q: "nunez"}, func(i int, _ *Affiliate) bool { return i%4 == 0 }},
		{"accented query", AffiliatePageQuery{Q: "ZOË"}, func(i int, _ *Affiliate) bool { return i%4 == 0 }},
		{"whole name", AffiliatePageQuery{Q: "ada  love"}, func(i int, _ *Affiliate) bool { return i%4 == 1 }},
		{"email prefix", AffiliatePageQuery{Q: "person1"}, func(i int, _ *Affiliate) bool { return fmt.Sprint(i)[0] == '1' }},
		{"code prefix", AffiliatePageQuery{Q: "second"}, func(i int, _ *Affiliate) bool { return i%2 == 1 }},
		{"search in program", AffiliatePageQuery{Q: "code", ProgramID: f.programs[1], Status: "pending"}, func(i int, _ *Affiliate) bool { return i%2 == 1 && i%3 == 0 }},
		{"no match", AffiliatePageQuery{Q: "nobody"}, func(int, *Affiliate) bool { return false }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := f.want(tc.keep)
			q := tc.q
			q.Limit = 4
			var got []string
			var pages []*AffiliatePage
			p := f.page(t, q)
			for {
				pages = append(pages, p)
				got = append(got, p.IDs...)
				if p.Next == "" {
					break
				}
				q.After, q.Before = p.Next, ""
				p = f.page(t, q)
				if len(pages) > 20 {
					t.Fatal("no end")
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("forward: got %d ids %v\nwant %d %v", len(got), got, len(want), want)
			}
			if pages[0].Prev != "" {
				t.Errorf("first page has a previous page")
			}
			// Back from the last page, page by page, to the first.
			for i := len(pages) - 1; i > 0; i-- {
				q.After, q.Before = "", pages[i].Prev
				if pages[i].Prev == "" {
					t.Fatalf("page %d has no previous", i)
				}
				back := f.page(t, q)
				if !slices.Equal(back.IDs, pages[i-1].IDs) {
					t.Fatalf("back to page %d: %v, want %v", i-1, back.IDs, pages[i-1].IDs)
				}
			}
		})
	}
}

func TestAffiliateCountsAndFind(t *testing.T) {
	f := newAffiliateFixture(t, 10)
	// Block one and rename another: counts and search follow.
	a, b := *f.affs[1], *f.affs[2]
	a.Status = "blocked"
	b.Name = "Renamed Person"
	if err := f.db.Update(func(tx *Tx) error {
		if err := tx.PutAffiliate(&a); err != nil {
			return err
		}
		return tx.PutAffiliate(&b)
	}); err != nil {
		t.Fatal(err)
	}
	err := f.db.View(func(tx *Tx) error {
		counts, err := tx.AffiliateStatusCounts()
		if err != nil {
			return err
		}
		if fmt.Sprint(counts) != "map[active:5 blocked:1 pending:4]" {
			t.Errorf("counts %v", counts)
		}
		if n, _ := tx.ProgramEnrolledCount(f.programs[1]); n != 5 {
			t.Errorf("program 2 has %d enrolled, want 5", n)
		}
		for _, text := range []string{b.ID, " PERSON2@example.com ", "code2", "CODE2"} {
			got, err := tx.FindAffiliate(text)
			if err != nil || got.ID != b.ID {
				t.Errorf("FindAffiliate(%q) = %v, %v", text, got, err)
			}
		}
		if _, err := tx.FindAffiliate("nobody"); !isNotFound(err) {
			t.Errorf("unknown text: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := f.page(t, AffiliatePageQuery{Q: "renamed"}); !slices.Equal(p.IDs, []string{b.ID}) {
		t.Errorf("new name not found: %v", p.IDs)
	}
	if p := f.page(t, AffiliatePageQuery{Q: "bob smith 2"}); len(p.IDs) != 0 {
		t.Errorf("old name still found: %v", p.IDs)
	}
	if p := f.page(t, AffiliatePageQuery{Status: "blocked"}); !slices.Equal(p.IDs, []string{a.ID}) {
		t.Errorf("blocked: %v", p.IDs)
	}
}

// TestAffiliateResultsOfAllTime checks the per-affiliate totals against
// the events, and that migration 6 rebuilds them and the search keys for
// data written before it.
func TestAffiliateResultsOfAllTime(t *testing.T) {
	f := newFixture(t, 7)
	want := map[string]*Tally{}
	add := func(aff, prg string, d *Tally) {
		k := aff + prg
		if want[k] == nil {
			want[k] = &Tally{}
		}
		want[k].Add(d)
	}
	for _, l := range f.leads {
		add(l.AffiliateID, l.ProgramID, &Tally{Leads: 1})
	}
	for _, p := range f.purchases {
		if p.AffiliateID == "" {
			continue
		}
		d := &Tally{Purchases: 1}
		if p.Status == "refunded" {
			d.Refunds, d.Refunded = 1, []RollupMoney{{p.Currency, p.Amount, p.Commission}}
		} else {
			d.Paid = []RollupMoney{{p.Currency, p.Amount, p.Commission}}
		}
		add(p.AffiliateID, p.ProgramID, d)
	}
	check := func(when string) {
		for _, aff := range f.affs {
			var got map[string]*Tally
			if err := f.db.View(func(tx *Tx) (err error) { got, err = tx.AffiliateResults(aff, ""); return }); err != nil {
				t.Fatal(err)
			}
			for prg, tl := range got {
				if fmt.Sprint(*tl) != fmt.Sprint(*want[aff+prg]) {
					t.Errorf("%s: %s in %s: %+v, want %+v", when, aff, prg, *tl, *want[aff+prg])
				}
			}
			for _, prg := range f.programs {
				if want[aff+prg] != nil && got[prg] == nil {
					t.Errorf("%s: %s in %s missing", when, aff, prg)
				}
			}
		}
	}
	check("live")
	live := dumpDerived(t, f.db)
	if err := affiliateSearchMigration(f.db); err != nil {
		t.Fatal(err)
	}
	check("migrated")
	if after := dumpDerived(t, f.db); fmt.Sprint(after) != fmt.Sprint(live) {
		t.Errorf("migration 6 changed the derived keys of data written with them")
	}
}

// TestAffiliateKeysRebuildIdentically: reindex and migration 6 both
// rebuild the affiliates' search, status and count keys byte for byte.
func TestAffiliateKeysRebuildIdentically(t *testing.T) {
	f := newAffiliateFixture(t, 12)
	a := *f.affs[4]
	a.Status, a.Name, a.Email = "blocked", "Other Name", "other@example.com"
	if err := f.db.Update(func(tx *Tx) error { return tx.PutAffiliate(&a) }); err != nil {
		t.Fatal(err)
	}
	live := dumpDerived(t, f.db)
	for _, rebuild := range []func(*DB) error{
		func(db *DB) error { return db.Reindex(nil) },
		affiliateSearchMigration,
	} {
		if err := rebuild(f.db); err != nil {
			t.Fatal(err)
		}
		got := dumpDerived(t, f.db)
		if fmt.Sprint(got) != fmt.Sprint(live) {
			for k := range live {
				if _, ok := got[k]; !ok {
					t.Errorf("lost %q", k)
				}
			}
			for k, v := range got {
				if lv, ok := live[k]; !ok || string(lv) != string(v) {
					t.Errorf("added or changed %q", k)
				}
			}
		}
	}
}

// TestMigration6AddsAffiliateKeysToOldData: a data dir written before
// migration 6 (schema 5, none of its keys) gets them at Open.
func TestMigration6AddsAffiliateKeysToOldData(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	a := &Affiliate{ID: NewID(now), Name: "Old Timer", Email: "old@example.com", Status: "active", CreatedAt: now}
	prg := NewID(now)
	l := &Lead{ID: NewID(now), ProgramID: prg, AffiliateID: a.ID, Email: "x@example.com", CreatedAt: now}
	if err := db.Update(func(tx *Tx) error {
		if err := tx.PutAffiliate(a); err != nil {
			return err
		}
		if err := tx.PutEnrollment(&Enrollment{ProgramID: prg, AffiliateID: a.ID, Code: "OLDIE", CreatedAt: now}); err != nil {
			return err
		}
		return tx.InsertLead(l)
	}); err != nil {
		t.Fatal(err)
	}
	db = remigrate(t, db, dir, 5, iAffiliateSearch, iAffiliateStatus, tAffiliateStatus, tProgramEnrolled, tAffiliateResults)
	err = db.View(func(tx *Tx) error {
		p, err := tx.AffiliatePage(AffiliatePageQuery{Q: "oldi"})
		if err != nil || !slices.Equal(p.IDs, []string{a.ID}) {
			t.Errorf("search by code after migration: %v %v", p, err)
		}
		res, err := tx.AffiliateResults(a.ID, "")
		if err != nil || res[prg] == nil || res[prg].Leads != 1 {
			t.Errorf("results after migration: %v %v", res, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAffiliateSearchRounds: a search whose nearest matches the filters
// mostly refuse takes more than one round of the bounded selection, and
// still pages through every match in order, both ways.
func TestAffiliateSearchRounds(t *testing.T) {
	f := newAffiliateFixture(t, 200)
	q := AffiliatePageQuery{Q: "person", Status: "pending", Limit: 40}
	want := f.want(func(i int, _ *Affiliate) bool { return i%3 == 0 })
	var got []string
	var pages []*AffiliatePage
	for {
		p := f.page(t, q)
		pages = append(pages, p)
		got = append(got, p.IDs...)
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if !slices.Equal(got, want) || len(pages) != 2 {
		t.Fatalf("%d pages, %d ids, want %d", len(pages), len(got), len(want))
	}
	q.After, q.Before = "", pages[1].Prev
	if back := f.page(t, q); !slices.Equal(back.IDs, pages[0].IDs) {
		t.Fatalf("back: %v", back.IDs)
	}
}
