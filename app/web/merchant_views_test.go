package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocarina/gocsv"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/export"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// The merchant views over a small, hand-checked fixture:
//
//	Alpha (10% commission): Ann (code ann), Bob (code bob)
//	Beta (flat 3.00 USD):   Ann (code ann-xxxx)
//
//	lead  when (UTC)        program affiliate email               name
//	L1    03-01 10:00       Alpha   Ann       alice@example.com   Alice
//	L2    03-01 12:00       Alpha   Bob       albert@example.com  =SUM(A1)
//	L3    03-02 09:00       Beta    Ann       bob@example.com     Bob "Bobby" B
//	L4    03-03 15:00       Alpha   Ann       carol@example.com   -Carol
//	L5    03-05 08:00       Beta    Ann       alice@example.com   Alice
//	L6    03-05 20:00       Alpha   Bob       dave@sample.org     +Dave
//
//	purchase purchased_at   program email             amount     attributed to
//	U1       03-04 11:00    Alpha   alice@example.com 100.00 USD Ann (L1's email)  commission 10.00
//	U2       03-05 10:00    Alpha   erin@example.com   50.00 EUR Bob (L2's click), refunded
//	U3       03-05 18:00    Beta    zed@nowhere.test   20.00 USD nobody
//
// Each lead came through its own click; two more clicks (Ann/Alpha on 03-02,
// Bob/Alpha on 03-05) led nowhere.

var viewsT0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

type viewsFixture struct {
	env         *apptest.Env
	alpha, beta *store.Program
	ann, bob    *store.Affiliate
	annBeta     string
	L           map[string]string // lead name -> id
	U           map[string]string // purchase name -> id
	email       map[string]string // lead or purchase name -> email
}

func viewsDay(d, h int) time.Time {
	return viewsT0.AddDate(0, 0, d-1).Add(time.Duration(h) * time.Hour)
}

func newViewsFixture(t *testing.T) *viewsFixture {
	t.Helper()
	env := apptest.New(t, func(c *config.Config) { c.Tracking.RateLimit = 1e6 })
	env.Clock.Set(viewsT0)
	f := &viewsFixture{env: env, L: map[string]string{}, U: map[string]string{}, email: map[string]string{}}
	f.alpha = env.Program("Alpha", func(in *app.ProgramInput) {
		in.TrackLeads = apptest.Ptr(true)
		in.CommissionType, in.CommissionValue = apptest.Ptr("percent"), apptest.Ptr("10")
	})
	f.beta = env.Program("Beta", func(in *app.ProgramInput) {
		in.TrackLeads = apptest.Ptr(true)
		in.CommissionType, in.CommissionValue, in.Currency = apptest.Ptr("flat"), apptest.Ptr("3.00"), apptest.Ptr("USD")
	})
	f.ann = env.Affiliate("Ann Affiliate", "ann@partners.test", "ann", f.alpha, f.beta)
	f.bob = env.Affiliate("Bob, Partner", "bob@partners.test", "bob", f.alpha)
	f.annBeta = "ann-" + f.beta.ID[len(f.beta.ID)-4:]

	click := func(code, sub string, at time.Time) string {
		env.Clock.Set(at)
		rec := env.Request(http.MethodPost, "/t/click", map[string]string{"ref": code, "sub": sub})
		apptest.Expect(t, rec, http.StatusCreated)
		return apptest.Decode[struct{ Referral string }](t, rec).Referral
	}
	refs := map[string]string{}
	for _, l := range []struct {
		name, code, email, person string
		at                        time.Time
	}{
		{"L1", "ann", "alice@example.com", "Alice", viewsDay(1, 10)},
		{"L2", "bob", "albert@example.com", "=SUM(A1)", viewsDay(1, 12)},
		{"L3", f.annBeta, "bob@example.com", `Bob "Bobby" B`, viewsDay(2, 9)},
		{"L4", "ann", "carol@example.com", "-Carol", viewsDay(3, 15)},
		{"L5", f.annBeta, "alice@example.com", "Alice", viewsDay(5, 8)},
		{"L6", "bob", "dave@sample.org", "+Dave", viewsDay(5, 20)},
	} {
		refs[l.name] = click(l.code, "sub-"+l.name, l.at.Add(-time.Minute))
		env.Clock.Set(l.at)
		rec := env.Request(http.MethodPost, "/t/lead", map[string]string{"email": l.email, "name": l.person, "referral": refs[l.name]})
		apptest.Expect(t, rec, http.StatusCreated)
		f.L[l.name] = apptest.Decode[struct{ Lead string }](t, rec).Lead
		f.email[l.name] = l.email
	}
	click("ann", "", viewsDay(2, 18))
	click("bob", "", viewsDay(5, 21))

	env.Clock.Set(viewsDay(6, 12))
	for _, p := range []struct {
		name, program, email, amount, currency, referral string
		at                                               time.Time
	}{
		{"U1", f.alpha.ID, "alice@example.com", "100.00", "USD", "", viewsDay(4, 11)},
		{"U2", f.alpha.ID, "erin@example.com", "50.00", "EUR", refs["L2"], viewsDay(5, 10)},
		{"U3", f.beta.ID, "zed@nowhere.test", "20.00", "USD", "", viewsDay(5, 18)},
	} {
		rec := env.API(http.MethodPost, "/purchases", map[string]string{
			"order_id": "o-" + p.name, "program": p.program, "email": p.email, "name": "Buyer " + p.name,
			"product": "Plan", "amount": p.amount, "currency": p.currency, "referral": p.referral,
			"purchased_at": p.at.Format(time.RFC3339),
		})
		apptest.Expect(t, rec, http.StatusCreated)
		f.U[p.name] = apptest.Decode[web.PurchaseJSON](t, rec).ID
		f.email[p.name] = p.email
	}
	apptest.Expect(t, env.API(http.MethodPost, "/purchases/"+f.U["U2"]+"/refund", nil), http.StatusOK)
	return f
}

func (f *viewsFixture) ids(names ...string) []string {
	out := []string{}
	for _, n := range names {
		if id := f.L[n]; id != "" {
			out = append(out, id)
		} else {
			out = append(out, f.U[n])
		}
	}
	return out
}

func (f *viewsFixture) emails(names ...string) []string {
	out := []string{}
	for _, n := range names {
		out = append(out, f.email[n])
	}
	return out
}

// readCSV fetches a CSV through the API and parses it with gocsv.
func readCSV[T any](t *testing.T, env *apptest.Env, path string) []T {
	t.Helper()
	rec := env.API(http.MethodGet, path, nil)
	apptest.Expect(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("%s: content type %q", path, ct)
	}
	var rows []T
	if err := gocsv.UnmarshalBytes(rec.Body.Bytes(), &rows); err != nil {
		t.Fatalf("%s: parse %q: %v", path, rec.Body.String(), err)
	}
	return rows
}

func TestMerchantLeadFilters(t *testing.T) {
	f := newViewsFixture(t)
	a := f.env.App
	tests := []struct {
		name  string
		query url.Values
		want  []string // lead names, newest first
	}{
		{"everything", nil, []string{"L6", "L5", "L4", "L3", "L2", "L1"}},
		{"program", url.Values{"program": {f.alpha.ID}}, []string{"L6", "L4", "L2", "L1"}},
		{"affiliate", url.Values{"affiliate": {f.ann.ID}}, []string{"L5", "L4", "L3", "L1"}},
		{"program and affiliate", url.Values{"program": {f.alpha.ID}, "affiliate": {f.ann.ID}}, []string{"L4", "L1"}},
		{"affiliate not in program", url.Values{"program": {f.beta.ID}, "affiliate": {f.bob.ID}}, nil},
		{"date range", url.Values{"from": {"2026-03-02"}, "to": {"2026-03-03"}}, []string{"L4", "L3"}},
		{"from only", url.Values{"from": {"2026-03-05"}}, []string{"L6", "L5"}},
		{"to only", url.Values{"to": {"2026-03-01"}}, []string{"L2", "L1"}},
		{"one day", url.Values{"from": {"2026-03-04"}, "to": {"2026-03-04"}}, nil},
		{"exact email", url.Values{"q": {"alice@example.com"}}, []string{"L5", "L1"}},
		{"exact email any case", url.Values{"q": {" ALICE@Example.com "}}, []string{"L5", "L1"}},
		{"exact email and program", url.Values{"q": {"alice@example.com"}, "program": {f.beta.ID}}, []string{"L5"}},
		{"prefix", url.Values{"q": {"al"}}, []string{"L5", "L2", "L1"}},
		{"prefix any case", url.Values{"q": {"AL"}}, []string{"L5", "L2", "L1"}},
		{"prefix and program", url.Values{"q": {"al"}, "program": {f.alpha.ID}}, []string{"L2", "L1"}},
		{"prefix, affiliate and dates", url.Values{"q": {"al"}, "affiliate": {f.ann.ID}, "from": {"2026-03-02"}}, []string{"L5"}},
		{"prefix of the domain part", url.Values{"q": {"dave@sa"}}, []string{"L6"}},
		{"prefix matching nothing", url.Values{"q": {"zzz"}}, nil},
		{"prefix outside dates", url.Values{"q": {"d"}, "to": {"2026-03-04"}}, nil},
		{"everything combined", url.Values{"q": {"c"}, "program": {f.alpha.ID}, "affiliate": {f.ann.ID}, "from": {"2026-03-03"}, "to": {"2026-03-03"}}, []string{"L4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := f.ids(tt.want...)
			// JSON list, paged one row at a time: the same rows, same order.
			var got []string
			q := url.Values{}
			for k, v := range tt.query {
				q[k] = v
			}
			q.Set("limit", "1")
			for pages := 0; pages <= len(want); pages++ {
				rec := f.env.API(http.MethodGet, "/leads?"+q.Encode(), nil)
				apptest.Expect(t, rec, http.StatusOK)
				page := apptest.Decode[web.Page[web.LeadJSON]](t, rec)
				for _, l := range page.Data {
					got = append(got, l.ID)
				}
				if page.NextCursor == nil {
					break
				}
				q.Set("cursor", *page.NextCursor)
			}
			if !slices.Equal(got, want) {
				t.Errorf("json list: got %v, want %v", got, want)
			}
			// CSV: the same rows in the same order.
			rows := readCSV[export.LeadRow](t, f.env, "/leads.csv?"+tt.query.Encode())
			var emails []string
			for _, r := range rows {
				emails = append(emails, r.Email)
			}
			if wantEmails := f.emails(tt.want...); !slices.Equal(emails, wantEmails) && len(wantEmails)+len(emails) > 0 {
				t.Errorf("csv: got %v, want %v", emails, wantEmails)
			}
			// Count: exact, from the tallies or the search index.
			list, err := a.LeadList(views.ListFilterFromParams(tt.query), "", 50)
			if err != nil {
				t.Fatal(err)
			}
			if c := list.Count; c != (store.Count{N: int64(len(want)), Exact: true}) {
				t.Errorf("count %+v, want %d exact", c, len(want))
			}
		})
	}
}

func TestMerchantPurchaseFiltersAndTotals(t *testing.T) {
	f := newViewsFixture(t)
	a := f.env.App
	usd := func(amount, commission string) views.MoneyTotal {
		return views.MoneyTotal{Currency: "USD", Amount: "$" + amount, Commission: "$" + commission}
	}
	eur := views.MoneyTotal{Currency: "EUR", Amount: "€50.00", Commission: "€5.00"}
	tests := []struct {
		name           string
		query          url.Values
		want           []string
		paid, refunded []views.MoneyTotal
	}{
		{"everything", nil, []string{"U3", "U2", "U1"}, []views.MoneyTotal{usd("120.00", "10.00")}, []views.MoneyTotal{eur}},
		{"paid", url.Values{"status": {"paid"}}, []string{"U3", "U1"}, []views.MoneyTotal{usd("120.00", "10.00")}, nil},
		{"refunded", url.Values{"status": {"refunded"}}, []string{"U2"}, nil, []views.MoneyTotal{eur}},
		{"program", url.Values{"program": {f.beta.ID}}, []string{"U3"}, []views.MoneyTotal{usd("20.00", "0.00")}, nil},
		{"affiliate", url.Values{"affiliate": {f.ann.ID}}, []string{"U1"}, []views.MoneyTotal{usd("100.00", "10.00")}, nil},
		{"affiliate refunded", url.Values{"affiliate": {f.bob.ID}, "status": {"refunded"}}, []string{"U2"}, nil, []views.MoneyTotal{eur}},
		{"affiliate paid", url.Values{"affiliate": {f.bob.ID}, "status": {"paid"}}, nil, nil, nil},
		{"dates on purchased_at", url.Values{"from": {"2026-03-05"}, "to": {"2026-03-05"}}, []string{"U3", "U2"}, []views.MoneyTotal{usd("20.00", "0.00")}, []views.MoneyTotal{eur}},
		{"before the purchases", url.Values{"to": {"2026-03-03"}}, nil, nil, nil},
		{"exact email", url.Values{"q": {"alice@example.com"}}, []string{"U1"}, []views.MoneyTotal{usd("100.00", "10.00")}, nil},
		{"prefix", url.Values{"q": {"E"}}, []string{"U2"}, nil, []views.MoneyTotal{eur}},
		{"prefix and status", url.Values{"q": {"e"}, "status": {"paid"}}, nil, nil, nil},
		{"prefix, program, dates", url.Values{"q": {"z"}, "program": {f.beta.ID}, "from": {"2026-03-05"}}, []string{"U3"}, []views.MoneyTotal{usd("20.00", "0.00")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := f.ids(tt.want...)
			rec := f.env.API(http.MethodGet, "/purchases?"+tt.query.Encode(), nil)
			apptest.Expect(t, rec, http.StatusOK)
			var got []string
			for _, p := range apptest.Decode[web.Page[web.PurchaseJSON]](t, rec).Data {
				got = append(got, p.ID)
			}
			if !slices.Equal(got, want) && len(got)+len(want) > 0 {
				t.Errorf("json list: got %v, want %v", got, want)
			}
			rows := readCSV[export.PurchaseRow](t, f.env, "/purchases.csv?"+tt.query.Encode())
			var orders []string
			for _, r := range rows {
				orders = append(orders, strings.TrimPrefix(r.OrderID, "o-"))
			}
			if !slices.Equal(orders, tt.want) {
				t.Errorf("csv: got %v, want %v", orders, tt.want)
			}
			list, err := a.PurchaseList(views.ListFilterFromParams(tt.query), "", 50)
			if err != nil {
				t.Fatal(err)
			}
			r := list.Report
			if r.Count != (store.Count{N: int64(len(want)), Exact: true}) || !r.MoneyKnown ||
				!slices.Equal(r.Paid, tt.paid) && len(r.Paid)+len(tt.paid) > 0 ||
				!slices.Equal(r.Refunded, tt.refunded) && len(r.Refunded)+len(tt.refunded) > 0 {
				t.Errorf("report %+v, want %d rows, paid %v, refunded %v", r, len(want), tt.paid, tt.refunded)
			}
		})
	}
}

// TestMerchantCSVDialect checks the bytes: header, CRLF, quoting, the
// formula guard, names and yes/no, RFC3339 UTC, no BOM.
func TestMerchantCSVDialect(t *testing.T) {
	f := newViewsFixture(t)
	rec := f.env.API(http.MethodGet, "/leads.csv?program="+f.alpha.ID+"&to=2026-03-01", nil)
	apptest.Expect(t, rec, http.StatusOK)
	if cd := rec.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="leads-`) {
		t.Errorf("content disposition %q", cd)
	}
	want := "created_at,email,name,program,affiliate,referral_code,sub_id,purchased\r\n" +
		`2026-03-01T12:00:00Z,albert@example.com,'=SUM(A1),Alpha,"Bob, Partner",bob,sub-L2,no` + "\r\n" +
		"2026-03-01T10:00:00Z,alice@example.com,Alice,Alpha,Ann Affiliate,ann,sub-L1,yes\r\n"
	if got := rec.Body.String(); got != want {
		t.Errorf("leads.csv:\n got %q\nwant %q", got, want)
	}
	rec = f.env.API(http.MethodGet, "/leads.csv?q=bob@example.com", nil)
	want = "created_at,email,name,program,affiliate,referral_code,sub_id,purchased\r\n" +
		`2026-03-02T09:00:00Z,bob@example.com,"Bob ""Bobby"" B",Beta,Ann Affiliate,` + f.annBeta + ",sub-L3,no\r\n"
	if got := rec.Body.String(); got != want {
		t.Errorf("quoted name:\n got %q\nwant %q", got, want)
	}
	for q, cell := range map[string]string{"carol@example.com": ",'-Carol,", "dave@sample.org": ",'+Dave,"} {
		if body := f.env.API(http.MethodGet, "/leads.csv?q="+q, nil).Body.String(); !strings.Contains(body, cell) {
			t.Errorf("formula guard: %q lacks %q", body, cell)
		}
	}

	rec = f.env.API(http.MethodGet, "/purchases.csv?status=refunded", nil)
	apptest.Expect(t, rec, http.StatusOK)
	body := rec.Body.Bytes()
	if bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		t.Error("purchases.csv starts with a BOM")
	}
	lines := strings.Split(string(body), "\r\n")
	if lines[0] != "purchased_at,order_id,email,name,product,amount,currency,commission,status,program,affiliate,referral_code,sub_id" {
		t.Errorf("purchases header %q", lines[0])
	}
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "2026-03-05T10:00:00Z,o-U2,erin@example.com,Buyer U2,Plan,50.00,EUR,5.00,refunded,Alpha,\"Bob, Partner\",bob,") {
		t.Errorf("purchases rows %q", lines[1:])
	}
	// An unattributed purchase has an empty affiliate.
	rows := readCSV[export.PurchaseRow](t, f.env, "/purchases.csv?program="+f.beta.ID)
	if len(rows) != 1 || rows[0].Affiliate != "" || rows[0].Program != "Beta" || rows[0].Amount != "20.00" {
		t.Errorf("unattributed row %+v", rows)
	}
}

func TestMerchantBadFilters(t *testing.T) {
	f := newViewsFixture(t)
	unknown := store.NewID(viewsT0)
	tests := []struct {
		path, code string
	}{
		{"/leads.csv?from=2026-02-30", "invalid_from"},
		{"/leads.csv?from=yesterday", "invalid_from"},
		{"/leads.csv?to=03/05/2026", "invalid_to"},
		{"/leads.csv?from=2026-03-05&to=2026-03-01", "invalid_to"},
		{"/leads.csv?program=" + unknown, "unknown_program"},
		{"/leads.csv?program=nope", "unknown_program"},
		{"/leads.csv?affiliate=" + unknown, "unknown_affiliate"},
		{"/leads.csv?q=" + strings.Repeat("a", 300), "invalid_q"},
		{"/purchases.csv?status=pending", "invalid_status"},
		{"/purchases.csv?affiliate=x", "unknown_affiliate"},
		{"/leads?limit=0", "invalid_limit"},
		{"/leads?limit=10000", "invalid_limit"},
		{"/leads?limit=ten", "invalid_limit"},
		{"/leads?cursor=not-a-cursor", "invalid_cursor"},
		{"/purchases?cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invalid_cursor"},
	}
	for _, tt := range tests {
		rec := f.env.API(http.MethodGet, tt.path, nil)
		apptest.Expect(t, rec, http.StatusBadRequest)
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: content type %q", tt.path, ct)
		}
		if e := apptest.Decode[web.ErrorBody](t, rec); e.Error != tt.code || e.Message == "" {
			t.Errorf("%s: error %+v, want %s", tt.path, e, tt.code)
		}
	}
	// Without an API key the CSV is not served.
	apptest.Expect(t, f.env.Request(http.MethodGet, "/api/v1/leads.csv", nil), http.StatusUnauthorized)
	// A bad filter starts no export.
	if _, err := f.env.App.StartExport(app.Merchant, app.ExportLeads, views.ListFilter{From: "2026-13-01"}); err == nil {
		t.Error("export with a bad date started")
	}
	if _, err := f.env.App.StartExport(app.Merchant, "clicks", views.ListFilter{}); err == nil {
		t.Error("export of an unknown kind started")
	}
	if xs, _ := f.env.App.Exports(app.Merchant); len(xs) != 0 {
		t.Errorf("bad filters left exports behind: %+v", xs)
	}
}

func TestExportLifecycle(t *testing.T) {
	f := newViewsFixture(t)
	a := f.env.App
	filter := views.ListFilter{Program: f.alpha.ID}
	x, err := a.StartExport(app.Merchant, app.ExportLeads, filter)
	if err != nil {
		t.Fatal(err)
	}
	if x.Status != app.ExportRunning || x.Total != 4 {
		t.Errorf("started export %+v, want running with a total of 4", x)
	}
	a.WaitExports()
	list, err := a.Exports(app.Merchant)
	if err != nil || len(list) != 1 || list[0].ID != x.ID || list[0].Status != app.ExportDone || list[0].Rows != 4 || list[0].Percent != 100 {
		t.Fatalf("exports %+v (%v), want the finished one", list, err)
	}
	if list[0].Filter.Program != f.alpha.ID || !list[0].ExpiresAt.Equal(viewsDay(6, 12).Add(24*time.Hour)) {
		t.Errorf("export keeps filter %+v, expiry %v", list[0].Filter, list[0].ExpiresAt)
	}
	// The file holds what the API streams for the same filter.
	rc, v, err := a.OpenExport(app.Merchant, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	_, _ = file.ReadFrom(rc)
	rc.Close()
	if stream := f.env.API(http.MethodGet, "/leads.csv?program="+f.alpha.ID, nil).Body.String(); file.String() != stream {
		t.Errorf("export file differs from the stream:\n%q\n%q", file.String(), stream)
	}
	if !strings.HasPrefix(v.FileName, "leads-20260306-") || !strings.HasSuffix(v.FileName, ".csv") {
		t.Errorf("file name %q", v.FileName)
	}
	// Nobody else sees it.
	if _, err := a.Export(app.AffiliateScope(f.ann.ID), x.ID); err == nil {
		t.Error("an affiliate sees the admin's export")
	}
	path := filepath.Join(f.env.Config.ExportsDir(), x.ID+".csv")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("export file: %v", err)
	}

	// An affiliate's export holds only its own referrals, in portal columns.
	ax, err := a.StartExport(app.AffiliateScope(f.ann.ID), app.ExportPurchases, views.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	a.WaitExports()
	rc, _, err = a.OpenExport(app.AffiliateScope(f.ann.ID), ax.ID)
	if err != nil {
		t.Fatal(err)
	}
	file.Reset()
	_, _ = file.ReadFrom(rc)
	rc.Close()
	if want := "purchased_at,order_id,email,name,product,amount,currency,commission,status,sub_id\r\n2026-03-04T11:00:00Z,o-U1,"; !strings.HasPrefix(file.String(), want) || strings.Count(file.String(), "\r\n") != 2 {
		t.Errorf("affiliate export %q", file.String())
	}

	// Past exports.ttl it is no longer offered, then the cleanup deletes it.
	f.env.Clock.Set(viewsDay(7, 12).Add(time.Second))
	if list, _ := a.Exports(app.Merchant); len(list) != 0 {
		t.Errorf("expired exports still listed: %+v", list)
	}
	if _, _, err := a.OpenExport(app.Merchant, x.ID); err == nil {
		t.Error("expired export still downloadable")
	}
	if err := a.CleanupExports(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("expired file still there: %v", err)
	}
	err = f.env.DB.View(func(tx *store.Tx) error { _, err := tx.Export(x.ID); return err })
	if !strings.Contains(err.Error(), "not found") {
		t.Errorf("expired record still there: %v", err)
	}
}

func TestExportCleanupRemovesOrphanFiles(t *testing.T) {
	f := newViewsFixture(t)
	a := f.env.App
	dir := f.env.Config.ExportsDir()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, store.NewID(viewsT0)+".csv")
	fresh := filepath.Join(dir, store.NewID(viewsT0)+".csv")
	stalePart := filepath.Join(dir, store.NewID(viewsT0)+".csv.part") // no export is writing it
	for _, p := range []string{old, fresh, stalePart} {
		if err := os.WriteFile(p, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	// The clock is a week after the fixture; the old file was last written
	// two days before that, the fresh one an hour before.
	now := viewsDay(6, 12)
	if err := os.Chtimes(old, now.Add(-48*time.Hour), now.Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fresh, stalePart} {
		if err := os.Chtimes(p, now.Add(-time.Hour), now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.CleanupExports(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("old orphan kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh file removed: %v", err)
	}
	if _, err := os.Stat(stalePart); !os.IsNotExist(err) {
		t.Errorf("stale partial file kept: %v", err)
	}
}

func TestDashboard(t *testing.T) {
	f := newViewsFixture(t)
	a := f.env.App
	d, err := a.Dashboard(app.DashboardFilter{From: "2026-02-28", To: "2026-03-06"})
	if err != nil {
		t.Fatal(err)
	}
	type day struct{ clicks, leads, purchases int64 }
	want := []day{{0, 0, 0}, {2, 2, 0}, {2, 1, 0}, {1, 1, 0}, {0, 0, 1}, {3, 2, 2}, {0, 0, 0}}
	if len(d.Days) != len(want) {
		t.Fatalf("%d days, want %d", len(d.Days), len(want))
	}
	for i, w := range want {
		got := day{d.Days[i].Clicks, d.Days[i].Leads, d.Days[i].Purchases}
		if got != w || !d.Days[i].Day.Equal(viewsT0.AddDate(0, 0, i-1)) {
			t.Errorf("day %d (%s): %+v, want %+v", i, d.Days[i].Day.Format(time.DateOnly), got, w)
		}
	}
	if d.Clicks != 8 || d.Leads != 6 || d.Purchases != 3 || d.Refunds != 1 {
		t.Errorf("totals %d clicks %d leads %d purchases %d refunds", d.Clicks, d.Leads, d.Purchases, d.Refunds)
	}
	if d.LeadRate != 75 || d.PurchaseRate != 100.0/3 || d.ClickRate != 25 {
		t.Errorf("rates %v %v %v", d.LeadRate, d.PurchaseRate, d.ClickRate)
	}
	if len(d.Top) != 2 || d.Top[0].Name != "Ann Affiliate" || d.Top[0].Purchases != 1 || d.Top[0].Leads != 4 || d.Top[0].Clicks != 5 ||
		d.Top[1].Name != "Bob, Partner" || d.Top[1].Purchases != 0 || d.Top[1].Leads != 2 || d.Top[1].Clicks != 3 {
		t.Errorf("top affiliates %+v", d.Top)
	}
	if len(d.Top[0].Paid) != 1 || d.Top[0].Paid[0] != (views.MoneyTotal{Currency: "USD", Amount: "$100.00", Commission: "$10.00"}) {
		t.Errorf("top affiliate money %+v", d.Top[0].Paid)
	}

	// One program, a range inside the data.
	d, err = a.Dashboard(app.DashboardFilter{Program: f.beta.ID, From: "2026-03-02", To: "2026-03-05"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Clicks != 2 || d.Leads != 2 || d.Purchases != 1 || len(d.Top) != 1 || d.Top[0].AffiliateID != f.ann.ID {
		t.Errorf("beta dashboard %+v", d)
	}
	// No range: the last 30 days up to today.
	d, err = a.Dashboard(app.DashboardFilter{})
	if err != nil || len(d.Days) != 30 || !d.To.Equal(viewsDay(6, 0)) || d.Leads != 6 {
		t.Errorf("default range: %v %d days to %v, %d leads", err, len(d.Days), d.To, d.Leads)
	}

	for _, bad := range []app.DashboardFilter{
		{From: "2026-03-10", To: "2026-03-01"},
		{From: "March"},
		{To: "2026-03-01"},
		{From: "2020-01-01", To: "2026-01-01"},
		{Program: "nope"},
		{Program: store.NewID(viewsT0)},
	} {
		if _, err := a.Dashboard(bad); err == nil {
			t.Errorf("dashboard %+v: no error", bad)
		} else if status, _ := web.Classify(err); status != http.StatusBadRequest {
			t.Errorf("dashboard %+v: status %d (%v)", bad, status, err)
		}
	}
}

func TestLeadAndPurchaseDetail(t *testing.T) {
	f := newViewsFixture(t)
	a := f.env.App
	d, err := a.LeadDetail(f.L["L1"])
	if err != nil {
		t.Fatal(err)
	}
	if d.Click == nil || d.Click.SubID != "sub-L1" || d.Purchase == nil || d.Purchase.ID != f.U["U1"] ||
		d.ProgramName != "Alpha" || d.AffiliateName != "Ann Affiliate" {
		t.Errorf("lead detail %+v", d)
	}
	pd, err := a.PurchaseDetail(f.U["U2"])
	if err != nil {
		t.Fatal(err)
	}
	if pd.Click == nil || pd.Click.SubID != "sub-L2" || pd.AffiliateName != "Bob, Partner" {
		t.Errorf("purchase detail %+v", pd)
	}
	for _, id := range []string{"nope", store.NewID(viewsT0)} {
		if _, err := a.LeadDetail(id); err == nil {
			t.Errorf("lead %q found", id)
		}
		if _, err := a.PurchaseDetail(id); err == nil {
			t.Errorf("purchase %q found", id)
		}
	}
}
