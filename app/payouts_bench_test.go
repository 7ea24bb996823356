package app_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// Money at scale (docs/PERFORMANCE.md, "Commissions and payouts at scale"):
// 1,000,000 commissions over 10,000 affiliates in two programs — 80% paid,
// 10% pending, 6% approved (six per affiliate: a month's worth when the
// payout is made), 4% voided — with balances kept as in production. It
// measures the balances (API and the admin page's app call), creating one
// payout for every affiliate, and streaming its PayPal and Wise files.
//
//	go test ./app/ -run '^$' -bench 'PayoutsScale$' -benchtime 1x -timeout 60m
//
// The seeded store is kept under the temp dir (SPIFFY_MONEY_DIR to choose)
// and copied before each run, since a run pays its approved commissions.
const (
	moneyAffiliates  = 10_000
	moneyCommissions = 1_000_000
)

func moneySeed(b *testing.B) string {
	b.Helper()
	dir := os.Getenv("SPIFFY_MONEY_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("spiffy-money-v3-%d", moneyCommissions))
	}
	if _, err := os.Stat(filepath.Join(dir, "seeded")); err == nil {
		return dir
	}
	_ = os.RemoveAll(dir)
	b.Logf("seeding %d commissions into %s (once; kept for later runs)", moneyCommissions, dir)
	start := time.Now()
	db, err := store.Open(store.Options{Dir: filepath.Join(dir, "db")})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	prgs := []string{store.NewID(t0), store.NewID(t0)}
	affs := make([]string, moneyAffiliates)
	err = db.Update(func(tx *store.Tx) error {
		for i, id := range prgs {
			if err := tx.PutProgram(&store.Program{ID: id, Name: fmt.Sprint("Program ", i), LandingURL: "https://shop.example.com/",
				CookieDays: 30, Attribution: "last_click", CommissionType: "percent", CommissionValue: 2000, Currency: "USD", HoldDays: 30, CreatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for lo := 0; lo < moneyAffiliates; lo += 500 {
		err := db.Update(func(tx *store.Tx) error {
			for i := lo; i < lo+500; i++ {
				affs[i] = store.NewID(t0)
				method := []string{"paypal", "wise", ""}[i%3]
				email := ""
				if method != "" {
					email = fmt.Sprintf("pay%d@example.com", i)
				}
				if err := tx.PutAffiliate(&store.Affiliate{ID: affs[i], Name: fmt.Sprint("Affiliate ", i), Email: fmt.Sprintf("a%d@example.com", i),
					Status: "active", CreatedAt: t0, PayoutMethod: method, PayoutEmail: email}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	const chunk = 250
	for lo := 0; lo < moneyCommissions; lo += chunk {
		err := db.Update(func(tx *store.Tx) error {
			for i := lo; i < lo+chunk; i++ {
				at := t0.Add(time.Duration(i) * 30 * time.Second)
				c := &store.Commission{ID: store.NewID(at), PurchaseID: store.NewID(at), ProgramID: prgs[i%2], AffiliateID: affs[i%moneyAffiliates],
					Kind: "sale", Amount: int64(500 + i%5000), Currency: "USD", ApproveAt: at.AddDate(0, 0, 30), CreatedAt: at}
				// Every affiliate gets a hundred commissions, one of each r.
				switch r := i / moneyAffiliates % 100; {
				case r < 80:
					c.Status, c.PaidAt = "paid", at.AddDate(0, 1, 0)
				case r < 90:
					c.Status = "pending"
				case r < 96:
					c.Status = "approved"
				default:
					c.Status = "voided"
				}
				if err := tx.PutCommission(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "seeded"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded in %s", time.Since(start).Round(time.Second))
	return dir
}

func BenchmarkPayoutsScale(b *testing.B) {
	seed := moneySeed(b)
	dir := b.TempDir()
	if err := os.CopyFS(dir, os.DirFS(seed)); err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = dir
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(store.Options{Dir: cfg.DBDir(), Logger: log, SyncWrites: true})
	if err != nil {
		b.Fatal(err)
	}
	a, err := app.New(app.Options{Config: cfg, Store: db, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		a.Stop()
		_ = db.Close()
	})
	// The copy is a freshly written store whose compactions are still
	// pending; a merchant's store at this size has long settled. Let them
	// run first (SPIFFY_MONEY_SETTLE, default 30s), so the figures are not
	// the seeding's compaction debt.
	settle := 30 * time.Second
	if s := os.Getenv("SPIFFY_MONEY_SETTLE"); s != "" {
		if settle, err = time.ParseDuration(s); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(settle)
	_, key, err := a.CreateAPIKey("bench")
	if err != nil {
		b.Fatal(err)
	}
	srv := web.NewServer(a)
	get := func(b *testing.B, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/api/v1"+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		srv.Echo.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
		}
		return rec
	}

	b.Run("balances-api-all", func(b *testing.B) {
		latencies(b, 50, func(int) {
			if n := strings.Count(get(b, "/balances?currency=USD").Body.String(), `"affiliate"`); n != moneyAffiliates {
				b.Fatalf("%d balances, want %d", n, moneyAffiliates)
			}
		})
	})
	b.Run("balances-api-affiliate", func(b *testing.B) {
		rows, _ := a.Balances(app.BalanceFilter{})
		latencies(b, scaleSamples, func(i int) { get(b, "/balances?affiliate="+rows[i*7%len(rows)].AffiliateID) })
	})
	b.Run("balances-app-all", func(b *testing.B) {
		latencies(b, 50, func(int) {
			if rows, err := a.Balances(app.BalanceFilter{Currency: "USD"}); err != nil || len(rows) != moneyAffiliates {
				b.Fatalf("%d rows, %v", len(rows), err)
			}
		})
	})
	// The payout is made once per run, however often the framework calls
	// the sub-benchmark: a second one would find nothing due.
	var payout *app.PayoutView
	var took time.Duration
	b.Run("create-payout-all", func(b *testing.B) {
		if payout == nil {
			start := time.Now()
			payout, err = a.CreatePayout(app.PayoutInput{Currency: "USD"})
			if err != nil {
				b.Fatal(err)
			}
			took = time.Since(start)
		}
		b.ReportMetric(took.Seconds(), "s")
		b.ReportMetric(float64(len(payout.Items)), "affiliates")
		var n int64
		for _, it := range payout.Items {
			n += it.Commissions
		}
		b.ReportMetric(float64(n), "commissions")
		b.ReportMetric(0, "ns/op")
	})
	for _, format := range []string{"paypal", "wise", "generic"} {
		b.Run("file-"+format, func(b *testing.B) {
			f, err := a.PayoutFile(payout.ID, format)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			var rows int
			for range b.N {
				var w lineCounter
				if err := f.Write(&w); err != nil {
					b.Fatal(err)
				}
				rows += w.lines
			}
			b.ReportMetric(float64(len(payout.Items)*b.N)/time.Since(start).Seconds(), "items/s")
			b.ReportMetric(float64(rows/b.N), "rows")
		})
	}
	var paidIn time.Duration
	b.Run("mark-paid-all", func(b *testing.B) {
		if paidIn == 0 {
			start := time.Now()
			if _, err := a.MarkPayoutPaid(payout.ID); err != nil {
				b.Fatal(err)
			}
			paidIn = time.Since(start)
		}
		b.ReportMetric(paidIn.Seconds(), "s")
		b.ReportMetric(0, "ns/op")
	})
}

type lineCounter struct{ lines int }

func (w *lineCounter) Write(p []byte) (int, error) {
	w.lines += strings.Count(string(p), "\n")
	return len(p), nil
}
