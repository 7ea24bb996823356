package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// portalWorld is two programs with different sharing and two affiliates:
// alice is in both, bob only in the shared one. Each has leads, purchases
// and clicks, next to unattributed and self-referral rows that must never
// show up in anyone's portal.
type portalWorld struct {
	env            *apptest.Env
	now            time.Time
	shared, closed *store.Program
	alice, bob     *store.Affiliate
}

func newPortalWorld(t *testing.T) *portalWorld {
	t.Helper()
	env := apptest.New(t)
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	env.SetClock(now)
	w := &portalWorld{env: env, now: now}
	w.shared = env.Program("Shared Shop", func(in *app.ProgramInput) {
		in.ShareLeads, in.SharePurchasers, in.TrackLeads = apptest.Ptr(true), apptest.Ptr(true), apptest.Ptr(true)
	})
	w.closed = env.Program("Closed Club")
	w.alice = env.Affiliate("Alice", "alice@partners.example", "alice", w.shared, w.closed)
	w.bob = env.Affiliate("Bob", "bob@partners.example", "bob", w.shared)
	return w
}

func (w *portalWorld) code(t *testing.T, p *store.Program, af *store.Affiliate) string {
	t.Helper()
	e, _, err := w.env.App.Enroll(p.ID, af.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	return e.Code
}

// lead stores a lead through the store API (af nil = unattributed).
func (w *portalWorld) lead(t *testing.T, p *store.Program, af *store.Affiliate, email, name string, at time.Time) *store.Lead {
	t.Helper()
	l := &store.Lead{ID: store.NewID(at), ProgramID: p.ID, Email: email, Name: name, SubID: "news",
		IP: "203.0.113.7", UserAgent: "SecretAgent/1.0", URL: "https://shop.example.com/private", CreatedAt: at}
	if af != nil {
		l.AffiliateID, l.Code = af.ID, w.code(t, p, af)
	}
	if err := w.env.DB.Update(func(tx *store.Tx) error { return tx.InsertLead(l) }); err != nil {
		t.Fatal(err)
	}
	return l
}

func (w *portalWorld) purchase(t *testing.T, p *store.Program, af *store.Affiliate, order, email string, amount int64, at time.Time, mutate ...func(*store.Purchase)) *store.Purchase {
	t.Helper()
	pu := &store.Purchase{ID: store.NewID(at), OrderID: order, ProgramID: p.ID, Email: email, Name: "Buyer " + order,
		Product: "Pro plan", Amount: amount, Currency: "USD", Commission: amount * 3 / 10, Status: "paid", PurchasedAt: at, CreatedAt: at}
	if af != nil {
		pu.AffiliateID, pu.Code = af.ID, w.code(t, p, af)
	}
	for _, m := range mutate {
		m(pu)
	}
	if err := w.env.DB.Update(func(tx *store.Tx) error { return tx.InsertPurchase(pu) }); err != nil {
		t.Fatal(err)
	}
	return pu
}

func (w *portalWorld) clicks(t *testing.T, p *store.Program, af *store.Affiliate, n int, at time.Time) {
	t.Helper()
	code := w.code(t, p, af)
	err := w.env.DB.Update(func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			c := &store.Click{ID: store.NewID(at), ProgramID: p.ID, AffiliateID: af.ID, Code: code, IP: "203.0.113.9", CreatedAt: at}
			if err := tx.InsertClick(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPortalDateRange(t *testing.T) {
	now := time.Date(2026, 3, 15, 18, 30, 0, 0, time.UTC)
	cases := []struct {
		name, from, to   string
		wantFrom, wantTo string
		days             int
		err              string
	}{
		{"default is the last 30 days", "", "", "2026-02-14", "2026-03-15", 30, ""},
		{"both ends", "2026-03-01", "2026-03-10", "2026-03-01", "2026-03-10", 10, ""},
		{"one day", "2026-03-10", "2026-03-10", "2026-03-10", "2026-03-10", 1, ""},
		{"only to", "", "2026-01-31", "2026-01-02", "2026-01-31", 30, ""},
		{"only from runs to today", "2026-03-01", "", "2026-03-01", "2026-03-15", 15, ""},
		{"only from in the future", "2026-04-01", "", "2026-04-01", "2026-04-01", 1, ""},
		{"trimmed", " 2026-03-01 ", " 2026-03-02", "2026-03-01", "2026-03-02", 2, ""},
		{"bad from", "yesterday", "", "", "", 0, "invalid_from"},
		{"bad to", "", "2026-13-01", "", "", 0, "invalid_to"},
		{"to before from", "2026-03-10", "2026-03-01", "", "", 0, "invalid_to"},
		{"too long", "2024-01-01", "2026-01-01", "", "", 0, "invalid_range"},
		{"before 1970", "1969-12-01", "1969-12-31", "", "", 0, "invalid_from"},
		{"sql in a date", "2026-03-01' OR 1=1", "", "", "", 0, "invalid_from"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := views.ParsePortalRange(tc.from, tc.to, now)
			if tc.err != "" {
				var ae *app.Error
				if !errors.As(err, &ae) || ae.Code != tc.err || ae.Kind != app.KindInvalid {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.FromParam() != tc.wantFrom || r.ToParam() != tc.wantTo || r.Days() != tc.days {
				t.Fatalf("range %s..%s (%d days), want %s..%s (%d)", r.FromParam(), r.ToParam(), r.Days(), tc.wantFrom, tc.wantTo, tc.days)
			}
			if !r.End().Equal(r.To.AddDate(0, 0, 1)) {
				t.Fatalf("end %v is not the day after to", r.End())
			}
		})
	}
}

func TestPortalReportShowsOnlyOwnReferrals(t *testing.T) {
	w := newPortalWorld(t)
	d := day("2026-03-10")
	aliceLead := w.lead(t, w.shared, w.alice, "ann@customers.example", "Ann", d.Add(9*time.Hour))
	bobLead := w.lead(t, w.shared, w.bob, "ben@customers.example", "Ben", d.Add(10*time.Hour))
	w.lead(t, w.shared, nil, "nobody@customers.example", "Unattributed", d.Add(11*time.Hour))
	w.lead(t, w.closed, w.alice, "cat@customers.example", "Cat", d.Add(12*time.Hour))
	w.purchase(t, w.shared, w.alice, "A-1", "ann@customers.example", 10000, d.Add(13*time.Hour))
	w.purchase(t, w.shared, w.bob, "B-1", "ben@customers.example", 5000, d.Add(14*time.Hour))
	w.purchase(t, w.shared, nil, "U-1", "alice@partners.example", 7000, d.Add(15*time.Hour), func(p *store.Purchase) { p.SelfReferral = true })
	w.purchase(t, w.shared, w.alice, "A-2", "amy@customers.example", 2000, d.Add(16*time.Hour), func(p *store.Purchase) { p.Status = "refunded" })
	w.clicks(t, w.shared, w.alice, 8, d.Add(8*time.Hour))
	w.clicks(t, w.shared, w.bob, 3, d.Add(8*time.Hour))

	rng, _ := views.ParsePortalRange("2026-03-01", "2026-03-10", w.now)
	cases := []struct {
		name          string
		af            *store.Affiliate
		list          string
		wantList      string
		wantEmails    []string
		clicks, leads int64
		purchases     int64
		commission    []string
	}{
		{"alice leads", w.alice, "leads", "leads", []string{aliceLead.Email}, 8, 1, 2, []string{"$30.00"}},
		{"bob leads", w.bob, "leads", "leads", []string{bobLead.Email}, 3, 1, 1, []string{"$15.00"}},
		{"alice purchases", w.alice, "purchases", "purchases", []string{"amy@customers.example", "ann@customers.example"}, 8, 1, 2, []string{"$30.00"}},
		{"bob purchases", w.bob, "purchases", "purchases", []string{"ben@customers.example"}, 3, 1, 1, []string{"$15.00"}},
		{"unknown list falls back to leads", w.alice, "clicks", "leads", []string{aliceLead.Email}, 8, 1, 2, []string{"$30.00"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := w.env.App.PortalReport(tc.af.ID, w.shared.ID, views.PortalReportQuery{Range: rng, List: tc.list})
			if err != nil {
				t.Fatal(err)
			}
			if rep.List != tc.wantList {
				t.Fatalf("list %q, want %q", rep.List, tc.wantList)
			}
			var got []string
			for _, l := range rep.Leads {
				got = append(got, l.Email)
			}
			for _, p := range rep.Purchases {
				got = append(got, p.Email)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantEmails) {
				t.Fatalf("rows %v, want %v", got, tc.wantEmails)
			}
			tot := rep.Totals
			if tot.Clicks != tc.clicks || tot.Leads != tc.leads || tot.Purchases != tc.purchases || fmt.Sprint(tot.Commission()) != fmt.Sprint(tc.commission) {
				t.Fatalf("totals %+v commission %v, want clicks %d leads %d purchases %d commission %v",
					tot, tot.Commission(), tc.clicks, tc.leads, tc.purchases, tc.commission)
			}
			// The range's last day is included, and the chart has one point per day.
			if len(rep.Days) != 10 || rep.Days[9].Clicks != tc.clicks || !rep.Days[9].Date.Equal(d) {
				t.Fatalf("days: %d, last %+v", len(rep.Days), rep.Days[len(rep.Days)-1])
			}
		})
	}

	// Alice's other program shares nothing: stats, but no list.
	rep, err := w.env.App.PortalReport(w.alice.ID, w.closed.ID, views.PortalReportQuery{Range: rng, List: "leads"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.List != "" || rep.Leads != nil || rep.Purchases != nil || rep.Totals.Leads != 1 {
		t.Fatalf("closed program report: list %q leads %v purchases %v totals %+v", rep.List, rep.Leads, rep.Purchases, rep.Totals)
	}
	// A range that ends the day before sees nothing.
	early, _ := views.ParsePortalRange("2026-03-01", "2026-03-09", w.now)
	rep, err = w.env.App.PortalReport(w.alice.ID, w.shared.ID, views.PortalReportQuery{Range: early, List: "leads"})
	if err != nil || len(rep.Leads) != 0 || rep.Totals.Clicks != 0 {
		t.Fatalf("range before the data: err %v leads %v totals %+v", err, rep.Leads, rep.Totals)
	}
}

func TestPortalAccessRules(t *testing.T) {
	w := newPortalWorld(t)
	rng := views.DefaultPortalRange(w.now)
	pending := w.env.Affiliate("Pat", "pat@partners.example", "", w.shared)
	if _, err := w.env.App.UpdateAffiliate(pending.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusPending)}); err != nil {
		t.Fatal(err)
	}
	blocked := w.env.Affiliate("Blair", "blair@partners.example", "", w.shared)
	if _, err := w.env.App.UpdateAffiliate(blocked.ID, app.AffiliateInput{Status: apptest.Ptr(app.StatusBlocked)}); err != nil {
		t.Fatal(err)
	}
	deleted := w.env.Program("Gone")
	w.env.App.Enroll(deleted.ID, w.alice.ID, "")
	if err := w.env.App.DeleteProgram(deleted.ID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		af        string
		program   string
		kind      string
		forbidden bool // else not found
	}{
		{"not enrolled", w.bob.ID, w.closed.ID, "leads", false},
		{"no such program", w.alice.ID, store.NewID(w.now), "leads", false},
		{"garbage program id", w.alice.ID, "../../etc", "leads", false},
		{"deleted program", w.alice.ID, deleted.ID, "leads", false},
		{"no such affiliate", store.NewID(w.now), w.shared.ID, "leads", false},
		{"pending affiliate", pending.ID, w.shared.ID, "leads", true},
		{"blocked affiliate", blocked.ID, w.shared.ID, "leads", true},
		{"leads not shared", w.alice.ID, w.closed.ID, "leads", true},
		{"purchases not shared", w.alice.ID, w.closed.ID, "purchases", true},
		{"unknown kind", w.alice.ID, w.shared.ID, "clicks", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, write, err := w.env.App.PortalCSV(tc.af, tc.program, tc.kind, rng)
			if write != nil {
				t.Fatal("a writer was handed out")
			}
			status, _ := web.Classify(err)
			want := http.StatusNotFound
			if tc.forbidden {
				want = http.StatusForbidden
				if !errors.Is(err, app.ErrForbidden) {
					t.Fatalf("err %v does not match ErrForbidden", err)
				}
			}
			if status != want {
				t.Fatalf("csv: status %d (%v), want %d", status, err, want)
			}
			// The program page follows the same rules, except that a program
			// sharing nothing still shows its statistics.
			if tc.kind == "leads" {
				_, err := w.env.App.PortalReport(tc.af, tc.program, views.PortalReportQuery{Range: rng})
				if tc.name == "leads not shared" {
					if err != nil {
						t.Fatalf("report of an unshared program: %v", err)
					}
					return
				}
				if status, _ := web.Classify(err); status != want {
					t.Fatalf("report: status %d (%v), want %d", status, err, want)
				}
			}
		})
	}

	// Home: a pending affiliate sees its programs but no links; a blocked one nothing.
	progs, err := w.env.App.PortalPrograms(pending.ID, rng)
	if err != nil || len(progs) != 1 || progs[0].Link != "" {
		t.Fatalf("pending home: %v %+v", err, progs)
	}
	if _, err := w.env.App.PortalPrograms(blocked.ID, rng); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("blocked home: %v", err)
	}
	progs, err = w.env.App.PortalPrograms(w.alice.ID, rng)
	if err != nil || len(progs) != 2 || progs[0].Program.ID != w.closed.ID || progs[1].Program.ID != w.shared.ID {
		t.Fatalf("alice home (deleted program left out, sorted by name): %v %+v", err, progs)
	}
	if !strings.Contains(progs[1].Link, "?ref=alice") {
		t.Fatalf("link %q", progs[1].Link)
	}
}

func TestPortalSharingOffTakesEffectAtOnce(t *testing.T) {
	w := newPortalWorld(t)
	w.lead(t, w.shared, w.alice, "ann@customers.example", "Ann", w.now.Add(-time.Hour))
	rng := views.DefaultPortalRange(w.now)
	steps := []struct {
		shareLeads, sharePurchases bool
		wantList                   string
		leadsCSV, purchasesCSV     bool
	}{
		{true, true, "leads", true, true},
		{false, true, "purchases", false, true},
		{false, false, "", false, false},
		{true, false, "leads", true, false},
	}
	for i, s := range steps {
		if _, err := w.env.App.UpdateProgram(w.shared.ID, app.ProgramInput{ShareLeads: &s.shareLeads, SharePurchasers: &s.sharePurchases}); err != nil {
			t.Fatal(err)
		}
		rep, err := w.env.App.PortalReport(w.alice.ID, w.shared.ID, views.PortalReportQuery{Range: rng, List: "leads"})
		if err != nil {
			t.Fatal(err)
		}
		if rep.List != s.wantList || (s.wantList != "leads") != (len(rep.Leads) == 0) {
			t.Fatalf("step %d: list %q with %d leads, want %q", i, rep.List, len(rep.Leads), s.wantList)
		}
		for kind, allowed := range map[string]bool{"leads": s.leadsCSV, "purchases": s.purchasesCSV} {
			_, _, err := w.env.App.PortalCSV(w.alice.ID, w.shared.ID, kind, rng)
			if allowed != (err == nil) || !allowed && !errors.Is(err, app.ErrForbidden) {
				t.Fatalf("step %d: %s csv err %v, allowed %v", i, kind, err, allowed)
			}
		}
	}
}

func TestPortalPagingNeverCrossesAffiliates(t *testing.T) {
	w := newPortalWorld(t)
	base := day("2026-03-01")
	want := map[string]bool{}
	for i := 0; i < 23; i++ {
		at := base.Add(time.Duration(i) * time.Hour)
		l := w.lead(t, w.shared, w.alice, fmt.Sprintf("a%02d@customers.example", i), "A", at)
		want[l.Email] = true
		w.lead(t, w.shared, w.bob, fmt.Sprintf("b%02d@customers.example", i), "B", at.Add(time.Minute))
	}
	rng, _ := views.ParsePortalRange("2026-03-01", "2026-03-02", w.now)
	seen := map[string]bool{}
	cursor := ""
	var bobCursor string
	for page := 0; ; page++ {
		rep, err := w.env.App.PortalReport(w.alice.ID, w.shared.ID, views.PortalReportQuery{Range: rng, List: "leads", Cursor: cursor, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range rep.Leads {
			if !want[l.Email] || seen[l.Email] {
				t.Fatalf("page %d: unexpected or repeated row %s", page, l.Email)
			}
			seen[l.Email] = true
		}
		if rep.NextCursor == "" {
			break
		}
		cursor = rep.NextCursor
		if page > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("saw %d of %d leads", len(seen), len(want))
	}
	// Bob's cursor handed to Alice's listing only positions her own rows.
	rep, err := w.env.App.PortalReport(w.bob.ID, w.shared.ID, views.PortalReportQuery{Range: rng, List: "leads", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	bobCursor = rep.NextCursor
	rep, err = w.env.App.PortalReport(w.alice.ID, w.shared.ID, views.PortalReportQuery{Range: rng, List: "leads", Cursor: bobCursor, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range rep.Leads {
		if !want[l.Email] {
			t.Fatalf("bob's row %s through a cursor", l.Email)
		}
	}
	// A forged cursor is a clear 400, not a 500.
	_, err = w.env.App.PortalReport(w.alice.ID, w.shared.ID, views.PortalReportQuery{Range: rng, List: "leads", Cursor: "not-a-cursor"})
	if status, body := web.Classify(err); status != http.StatusBadRequest || body.Error != "invalid_cursor" {
		t.Fatalf("forged cursor: %d %+v", status, body)
	}
}

func TestPortalCSVRows(t *testing.T) {
	w := newPortalWorld(t)
	d := day("2026-03-05")
	w.lead(t, w.shared, w.alice, "=cmd@customers.example", `=HYPERLINK("http://evil.example","click")`, d.Add(time.Hour))
	w.lead(t, w.shared, w.bob, "ben@customers.example", "Ben", d.Add(2*time.Hour))
	w.lead(t, w.shared, w.alice, "last@customers.example", "Last Day", day("2026-03-10").Add(23*time.Hour+59*time.Minute))
	w.purchase(t, w.shared, w.alice, "A-1", "ann@customers.example", 4999, d.Add(3*time.Hour))
	w.purchase(t, w.shared, w.bob, "B-1", "ben@customers.example", 1000, d.Add(4*time.Hour))
	w.purchase(t, w.shared, nil, "S-1", "alice@partners.example", 1000, d.Add(5*time.Hour), func(p *store.Purchase) { p.SelfReferral = true })
	rng, _ := views.ParsePortalRange("2026-03-05", "2026-03-10", w.now)

	cases := []struct {
		kind string
		want [][]string
	}{
		{"leads", [][]string{
			{"created_at", "email", "name", "program", "referral_code", "sub_id", "purchased"},
			{"2026-03-10T23:59:00Z", "last@customers.example", "Last Day", "Shared Shop", "alice", "news", "no"},
			{"2026-03-05T01:00:00Z", "'=cmd@customers.example", `'=HYPERLINK("http://evil.example","click")`, "Shared Shop", "alice", "news", "no"},
		}},
		{"purchases", [][]string{
			{"purchased_at", "order_id", "email", "name", "product", "amount", "currency", "commission", "status", "sub_id"},
			{"2026-03-05T03:00:00Z", "A-1", "ann@customers.example", "Buyer A-1", "Pro plan", "49.99", "USD", "14.99", "paid", ""},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			name, write, err := w.env.App.PortalCSV(w.alice.ID, w.shared.ID, tc.kind, rng)
			if err != nil {
				t.Fatal(err)
			}
			if name != "shared-shop-"+tc.kind+"-2026-03-05-to-2026-03-10.csv" {
				t.Fatalf("file name %q", name)
			}
			var buf bytes.Buffer
			if err := write(context.Background(), &buf); err != nil {
				t.Fatal(err)
			}
			if bytes.HasPrefix(buf.Bytes(), []byte("\xef\xbb\xbf")) || !bytes.Contains(buf.Bytes(), []byte("\r\n")) {
				t.Fatalf("not RFC 4180 without BOM: %q", buf.String())
			}
			for _, secret := range []string{"203.0.113", "SecretAgent", "Bob", "ben@", "alice@partners", "private"} {
				if strings.Contains(buf.String(), secret) {
					t.Fatalf("file leaks %q:\n%s", secret, buf.String())
				}
			}
			got, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Fatalf("rows\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestPortalJoin(t *testing.T) {
	w := newPortalWorld(t)
	auto := w.env.Program("Open House", func(in *app.ProgramInput) { in.AutoApprove = apptest.Ptr(true) })
	ok := app.JoinInput{Name: "Nora New", Email: "nora@partners.example", Password: "long-enough", Terms: true}
	with := func(f func(*app.JoinInput)) app.JoinInput { in := ok; f(&in); return in }
	cases := []struct {
		name    string
		program string
		in      app.JoinInput
		kind    app.Kind
		field   string
	}{
		{"terms unchecked", w.shared.ID, with(func(in *app.JoinInput) { in.Terms = false }), app.KindInvalid, "terms"},
		{"no name", w.shared.ID, with(func(in *app.JoinInput) { in.Name = "  " }), app.KindInvalid, "name"},
		{"bad email", w.shared.ID, with(func(in *app.JoinInput) { in.Email = "nora" }), app.KindInvalid, "email"},
		{"short password", w.shared.ID, with(func(in *app.JoinInput) { in.Password = "short" }), app.KindInvalid, "password"},
		{"existing account", w.shared.ID, with(func(in *app.JoinInput) { in.Email = " ALICE@partners.example " }), app.KindConflict, "email"},
		{"no such program", store.NewID(w.now), ok, app.KindNotFound, ""},
	}
	count := func() int {
		all, err := w.env.App.Views().Affiliates()
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	before := count()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := w.env.App.JoinProgram(tc.program, tc.in)
			var ae *app.Error
			if !errors.As(err, &ae) || ae.Kind != tc.kind || ae.Field != tc.field {
				t.Fatalf("err %v, want kind %d on %q", err, tc.kind, tc.field)
			}
			if count() != before {
				t.Fatal("a refused sign-up stored an affiliate")
			}
		})
	}

	for _, tc := range []struct {
		program *store.Program
		email   string
		status  string
	}{{w.shared, "nora@partners.example", app.StatusPending}, {auto, "otto@partners.example", app.StatusActive}} {
		af, e, err := w.env.App.JoinProgram(tc.program.ID, with(func(in *app.JoinInput) { in.Email = tc.email }))
		if err != nil {
			t.Fatal(err)
		}
		if af.Status != tc.status || e.ProgramID != tc.program.ID || e.AffiliateID != af.ID || !strings.HasPrefix(e.Code, "noranew") {
			t.Fatalf("joined %+v %+v, want status %s", af, e, tc.status)
		}
		if _, err := w.env.App.AuthenticateAffiliate(tc.email, "long-enough", "127.0.0.1"); err != nil {
			t.Fatalf("cannot sign in after joining: %v", err)
		}
		ens, _ := w.env.App.Views().EnrollmentsOfAffiliate(af.ID)
		if len(ens) != 1 {
			t.Fatalf("enrollments %v", ens)
		}
	}
}

func TestPortalReferralLinkWithSub(t *testing.T) {
	cases := []struct{ landing, sub, want string }{
		{"https://shop.example.com/", "", "https://shop.example.com/?ref=al"},
		{"https://shop.example.com/", "yt", "https://shop.example.com/?ref=al&sub=yt"},
		{"https://shop.example.com/?lang=en#top", "spring sale&x=1", "https://shop.example.com/?lang=en&ref=al&sub=spring+sale%26x%3D1#top"},
		{"https://shop.example.com/", "  \x00  ", "https://shop.example.com/?ref=al"},
	}
	for _, tc := range cases {
		got := views.ReferralLinkWithSub(&store.Program{LandingURL: tc.landing}, "al", tc.sub)
		if got != tc.want {
			t.Errorf("ReferralLinkWithSub(%q, %q) = %q, want %q", tc.landing, tc.sub, got, tc.want)
		}
	}
}
