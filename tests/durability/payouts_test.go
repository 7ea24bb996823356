package durability

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/store"
	"github.com/spiffy/spiffy/tests/internal/binary"
)

// seedApproved fills dataDir, through the app in this process, with a
// program, affiliates and approved commissions: enough that building or
// paying a payout takes several writes (app.payoutStepBudget each).
func seedApproved(t *testing.T, dataDir string, affiliates, salesEach int) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	db, err := store.Open(store.Options{Dir: cfg.DBDir(), SyncWrites: false})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{Config: cfg, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	name, landing, value, hold := "Payouts", "https://shop.example.com/", "10", 0
	prg, err := a.CreateProgram(app.ProgramInput{Name: &name, LandingURL: &landing, CommissionValue: &value, HoldDays: &hold})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, affiliates)
	for i := range affiliates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				name, email, method, pay := fmt.Sprint("Affiliate ", i), fmt.Sprintf("a%d@example.com", i), "paypal", fmt.Sprintf("pay%d@example.com", i)
				af, _, err := a.CreateAffiliate(app.AffiliateInput{Name: &name, Email: &email, PayoutMethod: &method, PayoutEmail: &pay})
				if err != nil {
					return err
				}
				code := fmt.Sprint("aff", i)
				if _, _, err := a.Enroll(prg.ID, af.ID, code); err != nil {
					return err
				}
				for j := range salesEach {
					click, err := a.TrackClick(app.ClickInput{Ref: code})
					if err != nil {
						return err
					}
					_, _, err = a.CreatePurchase(app.PurchaseInput{OrderID: fmt.Sprintf("o-%d-%d", i, j), Program: prg.ID,
						Email: fmt.Sprintf("b%d-%d@example.com", i, j), Amount: strconv.Itoa(10 + j), Currency: "USD", Referral: click.Referral})
					if err != nil {
						return err
					}
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.ApproveDueCommissions(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.Stop()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

type balanceSums struct{ approved, processing, paid int64 }

// sums adds up every affiliate's USD balance, in cents.
func sums(t *testing.T, cl *binary.Client) balanceSums {
	t.Helper()
	var out struct {
		Data []struct{ Approved, Processing, Paid string }
	}
	cl.Must(t, "GET", "/api/v1/balances?currency=USD", nil, &out)
	var s balanceSums
	for _, b := range out.Data {
		s.approved += cents(t, b.Approved)
		s.processing += cents(t, b.Processing)
		s.paid += cents(t, b.Paid)
	}
	return s
}

func cents(t *testing.T, s string) int64 {
	t.Helper()
	whole, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || len(frac) != 2 {
		t.Fatalf("amount %q", s)
	}
	return n
}

type payoutJSON struct {
	ID, Status, Total string
	Items             []struct {
		Amount      string
		Commissions int
	}
}

// TestPayoutSurvivesSIGKILL kills the server while it builds a payout and
// again while it marks it paid: after each restart there is no payout or a
// complete one — its items, its commissions and the balances all agree —
// never a half-moved balance.
func TestPayoutSurvivesSIGKILL(t *testing.T) {
	bin := spiffyBin
	dataDir := t.TempDir()
	const affiliates, salesEach = 300, 20 // 6,000 commissions: three payout steps and more
	seedApproved(t, dataDir, affiliates, salesEach)
	key := binary.APIKey(t, bin, dataDir)
	srv := binary.Start(t, bin, dataDir)
	cl := &binary.Client{Base: srv.Base, Key: key, HTTP: &http.Client{Timeout: 30 * time.Second}}
	before := sums(t, cl)
	if before.approved == 0 || before.processing != 0 {
		t.Fatalf("seeded balances %+v", before)
	}

	// Kill while the payout is being built.
	go func() {
		_, _ = cl.Do(context.Background(), "POST", "/api/v1/payouts", map[string]any{"currency": "USD"}, nil)
	}()
	time.Sleep(150 * time.Millisecond)
	srv.Signal(syscall.SIGKILL)
	srv.Wait(10 * time.Second)

	srv = binary.Start(t, bin, dataDir)
	cl.Base = srv.Base
	var list struct{ Data []payoutJSON }
	cl.Must(t, "GET", "/api/v1/payouts", nil, &list)
	after := sums(t, cl)
	t.Logf("after the kill during creation: %d payouts; balances %+v (before %+v); resumed: %v",
		len(list.Data), after, before, strings.Contains(srv.Output(), "interrupted payout"))
	if len(list.Data) > 1 {
		t.Fatalf("%d payouts after one request", len(list.Data))
	}
	if len(list.Data) == 0 {
		if after != before {
			t.Fatalf("no payout, but balances moved: %+v, before %+v", after, before)
		}
		var p payoutJSON
		cl.Must(t, "POST", "/api/v1/payouts", map[string]any{"currency": "USD"}, &p)
		list.Data = append(list.Data, p)
		after = sums(t, cl)
	}
	p := list.Data[0]
	checkComplete(t, cl, p, affiliates, salesEach)
	if p.Status != "open" || after.processing != cents(t, p.Total) || after.approved != 0 || after.approved+after.processing != before.approved {
		t.Fatalf("payout %s %s total %s, balances %+v (before %+v)", p.ID, p.Status, p.Total, after, before)
	}

	// Kill while it is being marked paid.
	go func() {
		_, _ = cl.Do(context.Background(), "POST", "/api/v1/payouts/"+p.ID+"/paid", nil, nil)
	}()
	time.Sleep(100 * time.Millisecond)
	srv.Signal(syscall.SIGKILL)
	srv.Wait(10 * time.Second)

	srv = binary.Start(t, bin, dataDir)
	cl.Base = srv.Base
	var got payoutJSON
	cl.Must(t, "GET", "/api/v1/payouts/"+p.ID, nil, &got)
	after = sums(t, cl)
	t.Logf("after the kill while paying: payout %s; balances %+v", got.Status, after)
	switch got.Status {
	case "paid":
		if after.paid != cents(t, p.Total) || after.processing != 0 {
			t.Fatalf("paid payout, but balances %+v", after)
		}
	case "open": // the kill came before the request was taken
		if after.processing != cents(t, p.Total) || after.paid != 0 {
			t.Fatalf("open payout, but balances %+v", after)
		}
	default:
		t.Fatalf("payout status %q", got.Status)
	}
	var processing struct{ Data []struct{ ID string } }
	cl.Must(t, "GET", "/api/v1/commissions?status=processing&limit=1", nil, &processing)
	if got.Status == "paid" && len(processing.Data) != 0 {
		t.Fatalf("commission %s still processing after the payout was paid", processing.Data[0].ID)
	}
}

// checkComplete checks that a payout holds every affiliate with all its
// commissions, and that its total is the sum of its items.
func checkComplete(t *testing.T, cl *binary.Client, p payoutJSON, affiliates, salesEach int) {
	t.Helper()
	if len(p.Items) != affiliates {
		t.Fatalf("payout %s has %d items, want %d", p.ID, len(p.Items), affiliates)
	}
	var sum int64
	for _, it := range p.Items {
		if it.Commissions != salesEach {
			t.Fatalf("an item sums %d commissions, want %d", it.Commissions, salesEach)
		}
		sum += cents(t, it.Amount)
	}
	if sum != cents(t, p.Total) {
		t.Fatalf("items sum to %d, total %s", sum, p.Total)
	}
}
