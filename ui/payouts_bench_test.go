package ui

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// The money pages at scale: SPIFFY_PAYOUT_AFFILIATES affiliates (default
// 10,000) with SPIFFY_PAYOUT_COMMISSIONS approved commissions each (default
// 10; 100 makes the million), seeded straight into the store. Every
// page is fetched through the real router over loopback HTTP, signed in, as
// a browser would:
//
//	go test ./ui/ -run '^$' -bench PayoutPagesScale -benchtime 1x -timeout 30m
//
// On a 2-vCPU VM (2026-12), 10,000 affiliates × 100 commissions (1M),
// client and server in one process, p50 / p99:
//
//	GET /payouts (balances, any page)       11.3 / 18.8 ms
//	GET /payouts?currency=USD               11.4 / 19.2 ms
//	GET /commissions?status=approved         3.2 /  8.1 ms
//	GET /payouts/{id} (10,000 items)        19.5 / 94.9 ms (the first, cold, is the max)
//	GET /portal/payouts                      0.6 /  1.9 ms
//	PayPal file of 10,000 rows via the UI   184,000 rows/s
//	POST /payouts for all 10,000           150 s — app.CreatePayout, see below
//	POST /payouts/{id}/paid                125 s — app.MarkPayoutPaid
//
// With 10 commissions each (100k): the balances page 17.6 / 36.0 ms,
// creating the payout 9.3 s, marking it paid 11.1 s. The last two are the
// app layer's payout steps, far from the 3 s: the CPU in the step
// is about a quarter of the wall time.
func BenchmarkPayoutPagesScale(b *testing.B) {
	affs, per := envInt(b, "SPIFFY_PAYOUT_AFFILIATES", 10_000), envInt(b, "SPIFFY_PAYOUT_COMMISSIONS", 10)
	env := apptest.New(b, apptest.Unthrottled)
	if err := Mount(env.Server); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(env.Server.Echo)
	b.Cleanup(srv.Close)
	prg := env.Program("Shop")
	seedStart := time.Now()
	ids := seedBalances(b, env, prg.ID, affs, per)
	b.Logf("seeded %d affiliates × %d commissions in %s", affs, per, time.Since(seedStart).Round(time.Millisecond))

	// One affiliate with a password, for the portal.
	pw := "password123"
	if _, err := env.App.UpdateAffiliate(ids[0], app.AffiliateInput{Password: &pw}); err != nil {
		b.Fatal(err)
	}
	if _, err := env.App.CreateAdmin("owner@shop.example.com", "correct-horse"); err != nil {
		b.Fatal(err)
	}
	admin := newBenchClient(b, srv.URL)
	admin.signIn("/login", "owner@shop.example.com", "correct-horse")
	partner := newBenchClient(b, srv.URL)
	partner.signIn("/portal/login", "p00000@partners.example", pw) // ids[0]

	// Let the seeding's memtable flushes and compactions finish, as they
	// would have long before anyone looks at the page, then warm up.
	time.Sleep(3 * time.Second)
	for range 20 {
		admin.get("/payouts")
	}
	pages := affs / views.BalancesPageSize
	b.Run("payouts-page", func(b *testing.B) {
		latencies(b, 200, func(i int) { admin.get(fmt.Sprintf("/payouts?page=%d", 1+i*7%max(pages, 1))) })
	})
	b.Run("payouts-page-currency", func(b *testing.B) {
		latencies(b, 200, func(i int) { admin.get("/payouts?currency=USD&page=" + strconv.Itoa(1+i%max(pages, 1))) })
	})
	b.Run("commissions-approved", func(b *testing.B) {
		latencies(b, 200, func(int) { admin.get("/commissions?status=approved") })
	})
	var payoutID string
	b.Run("create-payout-all", func(b *testing.B) {
		for range b.N {
			start := time.Now()
			loc := admin.post("/payouts", "/payouts", url.Values{"currency": {"USD"}}, http.StatusSeeOther)
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms")
			payoutID = strings.TrimPrefix(loc, "/payouts/")
		}
		b.ReportMetric(0, "ns/op")
	})
	b.Run("payout-page", func(b *testing.B) {
		latencies(b, 50, func(int) { admin.get("/payouts/" + payoutID) })
	})
	b.Run("paypal-file", func(b *testing.B) {
		for range b.N {
			start := time.Now()
			body := admin.get("/payouts/" + payoutID + "/file?format=paypal")
			rows := strings.Count(body, "\n")
			if rows != affs {
				b.Fatalf("%d rows, want %d", rows, affs)
			}
			b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
		}
		b.ReportMetric(0, "ns/op")
	})
	b.Run("portal-payouts", func(b *testing.B) {
		latencies(b, 200, func(int) { partner.get("/portal/payouts") })
	})
	b.Run("mark-paid", func(b *testing.B) {
		for range b.N {
			start := time.Now()
			admin.post("/payouts/"+payoutID, "/payouts/"+payoutID+"/paid", nil, http.StatusSeeOther)
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms")
		}
		b.ReportMetric(0, "ns/op")
	})
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, s)
	}
	return n
}

// seedBalances stores affs active affiliates, each with per approved USD
// commissions of 1.00 to 100.00, paid by PayPal, and returns their ids.
func seedBalances(b *testing.B, env *apptest.Env, programID string, affs, per int) []string {
	b.Helper()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := make([]string, 0, affs)
	const batch = 1500 // commissions per write, well inside a transaction's limits
	for done := 0; done < affs; {
		err := env.DB.Update(func(tx *store.Tx) error {
			n := 0
			for ; done < affs && n < batch; done++ {
				at = at.Add(time.Millisecond)
				af := &store.Affiliate{ID: store.NewID(at), Name: fmt.Sprintf("Partner %05d", done), Email: fmt.Sprintf("p%05d@partners.example", done),
					Status: app.StatusActive, PayoutMethod: app.PayoutPayPal, PayoutEmail: fmt.Sprintf("pp%05d@partners.example", done), CreatedAt: at}
				if err := tx.PutAffiliate(af); err != nil {
					return err
				}
				ids = append(ids, af.ID)
				for k := 0; k < per; k++ {
					at = at.Add(time.Microsecond)
					c := &store.Commission{ID: store.NewID(at), PurchaseID: store.NewID(at), ProgramID: programID, AffiliateID: af.ID,
						Kind: app.CommissionSale, Amount: int64(100 + (done*31+k*7)%9900), Currency: "USD", Status: app.CommissionApproved,
						ApproveAt: at, CreatedAt: at}
					if err := tx.PutCommission(c); err != nil {
						return err
					}
				}
				n += per + 1
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// benchClient is a signed-in browser for benchmarks: cookies, CSRF tokens.
type benchClient struct {
	b    *testing.B
	base string
	c    *http.Client
}

func newBenchClient(b *testing.B, base string) *benchClient {
	jar, _ := cookiejar.New(nil)
	return &benchClient{b: b, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *benchClient) do(req *http.Request, status int) (string, string) {
	resp, err := c.c.Do(req)
	if err != nil {
		c.b.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	if _, err := io.Copy(&sb, bufio.NewReader(resp.Body)); err != nil {
		c.b.Fatal(err)
	}
	if resp.StatusCode != status {
		c.b.Fatalf("%s %s: %d, want %d: %.300s", req.Method, req.URL, resp.StatusCode, status, sb.String())
	}
	return sb.String(), resp.Header.Get("Location")
}

func (c *benchClient) get(path string) string {
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	body, _ := c.do(req, http.StatusOK)
	return body
}

// post submits a form with the CSRF token of formPage and returns the
// redirect's location.
func (c *benchClient) post(formPage, action string, form url.Values, status int) string {
	m := csrfRe.FindStringSubmatch(c.get(formPage))
	if m == nil {
		c.b.Fatalf("no csrf token on %s", formPage)
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", m[1])
	req, _ := http.NewRequest(http.MethodPost, c.base+action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, loc := c.do(req, status)
	return loc
}

// signIn submits a sign-in form.
func (c *benchClient) signIn(page, email, password string) {
	c.post(page, page, url.Values{"email": {email}, "password": {password}}, http.StatusSeeOther)
}

// latencies runs fn n times per b.N and reports p50/p99/max in ms.
func latencies(b *testing.B, n int, fn func(i int)) {
	b.Helper()
	var all []time.Duration
	for range b.N {
		for i := range n {
			start := time.Now()
			fn(i)
			all = append(all, time.Since(start))
		}
	}
	slices.Sort(all)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
	b.ReportMetric(ms(all[len(all)-1]), "max-ms")
	b.ReportMetric(0, "ns/op")
}
