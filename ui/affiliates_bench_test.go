package ui

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/store"
)

// The Affiliates pages at scale (issue 16): SPIFFY_BENCH_AFFILIATES
// affiliates (default 10,000), all enrolled in one program, each with
// clicks, two leads, a purchase and its pending commission, seeded
// straight into the store through the same writes the live paths make.
// Every page is fetched through the real router over loopback HTTP,
// signed in, as a browser would:
//
//	go test ./ui/ -run '^$' -bench AffiliatePagesScale -benchtime 1x -timeout 30m
//
// docs/PERFORMANCE.md ("Affiliates at scale") has the figures; the goal is
// p99 ≤ 30 ms for each page.
func BenchmarkAffiliatePagesScale(b *testing.B) {
	n := envInt(b, "SPIFFY_BENCH_AFFILIATES", 10_000)
	env := apptest.New(b, apptest.Unthrottled)
	if err := Mount(env.Server); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(env.Server.Echo)
	b.Cleanup(srv.Close)
	prg := env.Program("Shop")
	start := time.Now()
	ids := seedAffiliates(b, env, prg.ID, n)
	b.Logf("seeded %d affiliates with enrolments, clicks, leads, purchases and commissions in %s", n, time.Since(start).Round(time.Millisecond))
	if _, err := env.App.CreateAdmin("owner@shop.example.com", "correct-horse"); err != nil {
		b.Fatal(err)
	}
	admin := newBenchClient(b, srv.URL)
	admin.signIn("/login", "owner@shop.example.com", "correct-horse")

	// The last page's cursor: walk Next to the end once.
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`)
	last := "/affiliates"
	for {
		m := next.FindStringSubmatch(admin.get(last))
		if m == nil {
			break
		}
		last = strings.ReplaceAll(m[1], "&amp;", "&")
	}
	if last == "/affiliates" && n > affiliatesPageSize {
		b.Fatal("no next page")
	}
	time.Sleep(3 * time.Second) // let the seeding's flushes and compactions settle
	for range 20 {
		admin.get("/affiliates")
	}
	program := "/programs/" + prg.ID
	for _, page := range []struct{ name, path string }{
		{"affiliates-first", "/affiliates"},
		{"affiliates-last", last},
		{"affiliates-search-name", "/affiliates?q=partner+0042"},
		{"affiliates-search-broad", "/affiliates?q=p"}, // every affiliate's email and name match
		{"affiliates-search-code", "/affiliates?q=code0777"},
		{"affiliates-pending", "/affiliates?status=pending"},
		{"program-affiliates", program},
		{"program-affiliates-search", program + "?q=" + url.QueryEscape("p09")},
		{"suggest", "/affiliates/suggest?q=partner+01"},
		{"affiliate-detail", "/affiliates/" + ids[n/2]},
		{"leads-by-code", "/leads?affiliate=code" + fmt.Sprintf("%05d", n/3)},
	} {
		b.Run(page.name, func(b *testing.B) {
			latencies(b, 200, func(int) { admin.get(page.path) })
		})
	}
}

// seedAffiliates stores n active affiliates (every tenth pending), each
// enrolled in the program with code "code<i>" and with 3 clicks, 2 leads,
// a 49.00 USD purchase and its 14.70 pending commission; it returns their
// ids, oldest first.
func seedAffiliates(b *testing.B, env *apptest.Env, programID string, n int) []string {
	b.Helper()
	at := time.Now().UTC().AddDate(0, 0, -60)
	ids := make([]string, 0, n)
	const batch = 50 // affiliates per write, inside a transaction's limits
	for done := 0; done < n; {
		err := env.DB.Update(func(tx *store.Tx) error {
			for k := 0; done < n && k < batch; done, k = done+1, k+1 {
				at = at.Add(500 * time.Millisecond)
				af := &store.Affiliate{ID: store.NewID(at), Name: fmt.Sprintf("Partner %05d", done), Email: fmt.Sprintf("p%05d@partners.example", done),
					Status: app.StatusActive, CreatedAt: at}
				if done%10 == 0 {
					af.Status = app.StatusPending
				}
				if err := tx.PutAffiliate(af); err != nil {
					return err
				}
				code := fmt.Sprintf("code%05d", done)
				if err := tx.PutEnrollment(&store.Enrollment{ProgramID: programID, AffiliateID: af.ID, Code: code, CreatedAt: at}); err != nil {
					return err
				}
				ids = append(ids, af.ID)
				day := at.Add(time.Duration(done%40) * 24 * time.Hour) // events spread over 40 days
				for c := 0; c < 3; c++ {
					t := day.Add(time.Duration(c) * time.Minute)
					if err := tx.InsertClick(&store.Click{ID: store.NewID(t), ProgramID: programID, AffiliateID: af.ID, Code: code, CreatedAt: t}); err != nil {
						return err
					}
				}
				for l := 0; l < 2; l++ {
					t := day.Add(time.Duration(10+l) * time.Minute)
					if err := tx.InsertLead(&store.Lead{ID: store.NewID(t), ProgramID: programID, AffiliateID: af.ID, Code: code,
						Email: fmt.Sprintf("lead%d.%05d@buyers.example", l, done), CreatedAt: t}); err != nil {
						return err
					}
				}
				t := day.Add(20 * time.Minute)
				p := &store.Purchase{ID: store.NewID(t), OrderID: fmt.Sprintf("ORD-%05d", done), ProgramID: programID, AffiliateID: af.ID, Code: code,
					Email: fmt.Sprintf("lead0.%05d@buyers.example", done), Amount: 4900, Currency: "USD", Commission: 1470, Status: "paid",
					PurchasedAt: t, CreatedAt: t}
				if err := tx.InsertPurchase(p); err != nil {
					return err
				}
				if err := tx.PutCommission(&store.Commission{ID: store.NewID(t), PurchaseID: p.ID, ProgramID: programID, AffiliateID: af.ID,
					Kind: app.CommissionSale, Amount: 1470, Currency: "USD", Status: app.CommissionPending, ApproveAt: t.AddDate(0, 0, 30), CreatedAt: t}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return ids
}
