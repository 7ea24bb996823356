package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTruncateIP(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"203.0.113.77":            "203.0.113.0",
		"203.0.113.0":             "203.0.113.0",
		"::ffff:198.51.100.9":     "198.51.100.0",
		"2001:db8:abcd:12:1::5":   "2001:db8:abcd::",
		"2001:db8:abcd::":         "2001:db8:abcd::",
		"fe80::1%eth0":            "fe80::",
		"not an address":          "",
		"203.0.113.77:8080":       "",
		"2001:0db8:0001:0002::ff": "2001:db8:1::",
	} {
		if got := TruncateIP(in); got != want {
			t.Errorf("TruncateIP(%q) = %q, want %q", in, got, want)
		}
		if got := TruncateIP(want); got != want {
			t.Errorf("TruncateIP is not idempotent on %q: %q", want, got)
		}
	}
}

// privacyFixture stores clicks and leads through the live write path.
type privacyFixture struct {
	t    *testing.T
	db   *DB
	prg  string
	aff  string
	base time.Time
}

func newPrivacyFixture(t *testing.T) *privacyFixture {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return &privacyFixture{t: t, db: openTest(t), prg: NewID(base), aff: NewID(base), base: base}
}

func (f *privacyFixture) click(at time.Time, vid, ip, ua string) *Click {
	f.t.Helper()
	c := &Click{ID: NewID(at), ProgramID: f.prg, AffiliateID: f.aff, Code: "ann", VisitorID: vid,
		URL: "https://shop.example/landing?ref=ann&email=pat%40example.com#top", Referrer: "https://search.example/?q=pat",
		IP: ip, UserAgent: ua, CreatedAt: at}
	if err := f.db.Update(func(tx *Tx) error { return tx.InsertClick(c) }); err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *privacyFixture) lead(at time.Time, email, ip, ua string) *Lead {
	f.t.Helper()
	l := &Lead{ID: NewID(at), ProgramID: f.prg, AffiliateID: f.aff, Code: "ann", Email: email, Name: "Pat",
		URL: "https://shop.example/signup", IP: ip, UserAgent: ua, CreatedAt: at}
	if err := f.db.Update(func(tx *Tx) error { return tx.InsertLead(l) }); err != nil {
		f.t.Fatal(err)
	}
	return l
}

func (f *privacyFixture) getClick(id string) *Click {
	f.t.Helper()
	c, err := Read(f.db, func(tx *Tx) (*Click, error) { return tx.Click(id) })
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *privacyFixture) getLead(id string) *Lead {
	f.t.Helper()
	l, err := Read(f.db, func(tx *Tx) (*Lead, error) { return tx.Lead(id) })
	if err != nil {
		f.t.Fatal(err)
	}
	return l
}

// TestExpireNetworkDetails: clicks and leads older than the cutoff keep only
// the network of their IP and lose the user agent; newer ones are
// untouched; everything else on the records stays; a second run finds
// nothing; and the derived keys still match a reindex.
func TestExpireNetworkDetails(t *testing.T) {
	f := newPrivacyFixture(t)
	old := f.base
	cutoff := f.base.Add(30 * 24 * time.Hour)
	v4 := f.click(old, "vid-1", "203.0.113.77", "Mozilla/5.0 Firefox/1")
	v6 := f.click(old.Add(time.Minute), "vid-2", "2001:db8:abcd:12:1::5", "Safari/2")
	junk := f.click(old.Add(2*time.Minute), "", "unknown", "")
	oldLead := f.lead(old.Add(3*time.Minute), "pat@example.com", "198.51.100.9", "Chrome/3")
	edge := f.click(cutoff, "vid-3", "192.0.2.200", "Edge/4") // exactly at the cutoff: not older
	recent := f.click(cutoff.Add(time.Hour), "vid-1", "192.0.2.201", "Edge/5")
	recentLead := f.lead(cutoff.Add(time.Hour), "kim@example.com", "192.0.2.202", "Edge/6")
	before := dumpDerived(t, f.db)

	res, err := f.db.ExpireNetworkDetails(context.Background(), cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if res.Clicks != 3 || res.Leads != 1 {
		t.Fatalf("expired %+v, want 3 clicks and 1 lead", res)
	}
	for _, c := range []struct {
		orig   *Click
		wantIP string
	}{{v4, "203.0.113.0"}, {v6, "2001:db8:abcd::"}, {junk, ""}} {
		got := f.getClick(c.orig.ID)
		want := *c.orig
		want.IP, want.UserAgent = c.wantIP, ""
		want.CreatedAt = got.CreatedAt // decoded in UTC; compared below
		if *got != want || !got.CreatedAt.Equal(c.orig.CreatedAt) {
			t.Errorf("old click after expiry:\n got %+v\nwant %+v", got, want)
		}
	}
	if l := f.getLead(oldLead.ID); l.IP != "198.51.100.0" || l.UserAgent != "" || l.Email != "pat@example.com" || l.Name != "Pat" {
		t.Errorf("old lead after expiry: %+v", l)
	}
	for _, c := range []*Click{edge, recent} {
		if got := f.getClick(c.ID); got.IP != c.IP || got.UserAgent != c.UserAgent {
			t.Errorf("click of %v changed: %+v", c.CreatedAt, got)
		}
	}
	if l := f.getLead(recentLead.ID); l.IP != recentLead.IP || l.UserAgent != recentLead.UserAgent {
		t.Errorf("recent lead changed: %+v", l)
	}
	after := dumpDerived(t, f.db)
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("expiry changed derived keys")
	}

	// Again: nothing left to do, not even a write.
	if res, err := f.db.ExpireNetworkDetails(context.Background(), cutoff); err != nil || res != (RetentionResult{}) {
		t.Fatalf("second run %+v %v", res, err)
	}
	// Later, the recent records' turn comes.
	res, err = f.db.ExpireNetworkDetails(context.Background(), cutoff.Add(2*time.Hour))
	if err != nil || res.Clicks != 2 || res.Leads != 1 {
		t.Fatalf("run after the cutoff moved: %+v %v", res, err)
	}
	if got := f.getClick(recent.ID); got.IP != "192.0.2.0" || got.UserAgent != "" {
		t.Errorf("click after its time came: %+v", got)
	}
	if err := f.db.Reindex(nil); err != nil {
		t.Fatal(err)
	}
	if rebuilt := dumpDerived(t, f.db); fmt.Sprint(rebuilt) != fmt.Sprint(after) {
		t.Errorf("reindex after expiry differs from the live keys")
	}
}

// countdownCtx is a context that reports itself canceled after its Err has
// been asked n times: a run stopped between two steps.
type countdownCtx struct {
	context.Context
	n atomic.Int32
}

func (c *countdownCtx) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestExpireNetworkDetailsBoundedAndResumable: many clicks take several
// bounded writes (by the chunk size and by Tx.Full); a stopped run resumes
// where it stopped without touching a record twice; the walk starts at the
// cursor, not at the beginning; and tracking writes go on meanwhile.
func TestExpireNetworkDetailsBoundedAndResumable(t *testing.T) {
	defer func(n int) { retentionChunk = n }(retentionChunk)
	retentionChunk = 40
	f := newPrivacyFixture(t)
	cutoff := f.base.Add(30 * 24 * time.Hour)
	const n = 300
	ids := make([]string, n)
	for i := range ids {
		ids[i] = f.click(f.base.Add(time.Duration(i)*time.Second), fmt.Sprint("vid-", i%7), fmt.Sprintf("203.0.%d.%d", i/250, 1+i%250), "UA").ID
	}

	// Stopped after two steps: 80 clicks done, the cursor just past them.
	ctx := &countdownCtx{Context: context.Background()}
	ctx.n.Store(2)
	res, err := f.db.ExpireNetworkDetails(ctx, cutoff)
	if err != context.Canceled || res.Clicks != 2*retentionChunk || res.Writes != 2 {
		t.Fatalf("stopped run: %+v %v", res, err)
	}
	if c := f.getClick(ids[2*retentionChunk]); c.UserAgent != "UA" {
		t.Fatalf("a stopped run went past its steps: %+v", c)
	}

	// Tracking goes on while the rest runs.
	var wg sync.WaitGroup
	wg.Add(1)
	var inserted []*Click
	var insertErr error
	go func() {
		defer wg.Done()
		for i := 0; i < 50 && insertErr == nil; i++ {
			at := cutoff.Add(time.Duration(i) * time.Second)
			c := &Click{ID: NewID(at), ProgramID: f.prg, AffiliateID: f.aff, VisitorID: "vid-new", IP: "192.0.2.1", UserAgent: "New", CreatedAt: at}
			insertErr = f.db.Update(func(tx *Tx) error { return tx.InsertClick(c) })
			inserted = append(inserted, c)
		}
	}()
	res, err = f.db.ExpireNetworkDetails(context.Background(), cutoff)
	wg.Wait()
	if insertErr != nil {
		t.Fatal(insertErr)
	}
	if err != nil || res.Clicks != n-2*retentionChunk {
		t.Fatalf("resumed run %+v %v, want the %d clicks left", res, err, n-2*retentionChunk)
	}
	if min := (n - 2*retentionChunk + retentionChunk - 1) / retentionChunk; res.Writes < min {
		t.Errorf("%d writes for %d clicks in chunks of %d", res.Writes, res.Clicks, retentionChunk)
	}
	for i, id := range ids {
		if c := f.getClick(id); c.UserAgent != "" || c.IP != fmt.Sprintf("203.0.%d.0", i/250) {
			t.Fatalf("click %d after the runs: %+v", i, c)
		}
	}
	for _, c := range inserted {
		if got := f.getClick(c.ID); got.UserAgent != "New" || got.IP != "192.0.2.1" {
			t.Fatalf("a click tracked during the run changed: %+v", got)
		}
	}

	// The walk starts at the cursor: a click stored with an id from before
	// it (only a backdated import could do that) is not visited again.
	backdated := f.click(f.base.Add(-time.Hour), "", "198.51.100.7", "Old")
	if res, err := f.db.ExpireNetworkDetails(context.Background(), cutoff); err != nil || res != (RetentionResult{}) {
		t.Fatalf("run after the backlog: %+v %v", res, err)
	}
	if c := f.getClick(backdated.ID); c.UserAgent != "Old" {
		t.Fatalf("the walk restarted from the beginning: %+v", c)
	}
}

// TestExpireNetworkDetailsFullWrites: records big enough that a chunk
// outgrows one write (Tx.Full) are split over more writes and none is missed.
func TestExpireNetworkDetailsFullWrites(t *testing.T) {
	defer func(n int) { retentionChunk = n }(retentionChunk)
	retentionChunk = 1 << 20 // only Tx.Full splits the work
	f := newPrivacyFixture(t)
	long := "https://shop.example/" + strings.Repeat("p", 2000)
	const n = 1000 // 1,000 × ~2 KB: several writes' worth
	var ids []string
	for i := 0; i < n; i += 100 {
		if err := f.db.Update(func(tx *Tx) error {
			for j := i; j < i+100; j++ {
				at := f.base.Add(time.Duration(j) * time.Millisecond)
				c := &Click{ID: NewID(at), ProgramID: f.prg, AffiliateID: f.aff, URL: long, IP: "203.0.113.5", UserAgent: "UA", CreatedAt: at}
				ids = append(ids, c.ID)
				if err := tx.InsertClick(c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := f.db.ExpireNetworkDetails(context.Background(), f.base.Add(time.Hour))
	if err != nil || res.Clicks != n {
		t.Fatalf("%+v %v", res, err)
	}
	if minWrites := n * len(long) / maxOpBytes; res.Writes < minWrites {
		t.Errorf("%d writes; Tx.Full should have split them into at least %d", res.Writes, minWrites)
	}
	for _, id := range ids {
		if c := f.getClick(id); c.UserAgent != "" || c.IP != "203.0.113.0" || c.URL != long {
			t.Fatalf("click after expiry: IP %q UA %q", c.IP, c.UserAgent)
		}
	}
}

// TestForgetClicks: the clicks named and every click of the visitor ids, in
// every program, lose IP, user agent, visitor id (and its index entry) and
// their URLs' queries; other visitors' clicks stay; a reindex agrees.
func TestForgetClicks(t *testing.T) {
	f := newPrivacyFixture(t)
	other := NewID(f.base)
	for _, id := range []string{f.prg, other} {
		p := &Program{ID: id, Name: "P " + id}
		if err := f.db.Update(func(tx *Tx) error { return tx.PutProgram(p) }); err != nil {
			t.Fatal(err)
		}
	}
	a := f.click(f.base, "vid-pat", "203.0.113.7", "UA")
	b := f.click(f.base.Add(time.Hour), "vid-pat", "203.0.113.7", "UA")
	c := &Click{ID: NewID(f.base), ProgramID: other, AffiliateID: f.aff, VisitorID: "vid-pat", IP: "203.0.113.7", CreatedAt: f.base}
	if err := f.db.Update(func(tx *Tx) error { return tx.InsertClick(c) }); err != nil {
		t.Fatal(err)
	}
	noVid := f.click(f.base, "", "203.0.113.8", "UA")
	kim := f.click(f.base, "vid-kim", "192.0.2.9", "UA")

	var trail ClickTrail
	trail.AddLead(&Lead{VisitorID: "vid-pat", ReferralID: noVid.ID})
	trail.AddPurchase(&Purchase{ReferralID: "not-an-id"})
	n, err := f.db.ForgetClicks(context.Background(), &trail)
	if err != nil || n != 4 {
		t.Fatalf("forgot %d clicks (%v), want 4", n, err)
	}
	for _, id := range []string{a.ID, b.ID, c.ID, noVid.ID} {
		got := f.getClick(id)
		if got.IP != "" || got.UserAgent != "" || got.VisitorID != "" || strings.ContainsAny(got.URL+got.Referrer, "?#") || got.AffiliateID != f.aff {
			t.Errorf("forgotten click %+v", got)
		}
	}
	if got := f.getClick(a.ID); got.URL != "https://shop.example/landing" || got.Referrer != "https://search.example/" {
		t.Errorf("URLs after forgetting: %q %q", got.URL, got.Referrer)
	}
	if got := f.getClick(kim.ID); got.IP != "192.0.2.9" || got.VisitorID != "vid-kim" || got.UserAgent != "UA" {
		t.Errorf("another visitor's click changed: %+v", got)
	}
	found := 0
	if err := f.db.View(func(tx *Tx) error {
		for _, prg := range []string{f.prg, other} {
			if err := tx.VisitorClicks(prg, "vid-pat", f.base.Add(24*time.Hour), func(*Click) bool { found++; return true }); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if found != 0 {
		t.Errorf("the visitor index still finds %d of the forgotten visitor's clicks", found)
	}
	live := dumpDerived(t, f.db)
	if err := f.db.Reindex(nil); err != nil {
		t.Fatal(err)
	}
	rebuilt := dumpDerived(t, f.db)
	for k, v := range live {
		if rv, ok := rebuilt[k]; !ok || !bytes.Equal(rv, v) {
			t.Errorf("reindex lost or changed %q", k)
		}
	}
	if len(rebuilt) != len(live) {
		t.Errorf("reindex: %d derived keys, live %d", len(rebuilt), len(live))
	}
	if n, err := f.db.ForgetClicks(context.Background(), &trail); err != nil || n != 0 {
		t.Errorf("forgetting again: %d %v", n, err)
	}
}
