package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/event"
	"github.com/spiffy/spiffy/store"
)

// A payout larger than one write: one affiliate has more approved
// commissions than a write moves, others are small, one is under the
// minimum and one holds only another program's money. Building, paying
// and canceling span several writes and still leave every total right.
func TestPayoutAcrossManyWrites(t *testing.T) {
	env := apptest.New(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	env.Clock.Set(t0)
	prg := env.Program("Shop")
	other := env.Program("Other")
	whale := env.Affiliate("Whale", "whale@example.com", "whale", prg)
	small := make([]*store.Affiliate, 30)
	for i := range small {
		small[i] = env.Affiliate(fmt.Sprint("Small ", i), fmt.Sprintf("small%d@example.com", i), fmt.Sprint("small", i), prg)
	}
	under := env.Affiliate("Under", "under@example.com", "under", prg)
	elsewhere := env.Affiliate("Elsewhere", "elsewhere@example.com", "elsewhere", other)

	approved := func(af *store.Affiliate, programID string, n int, amount int64) {
		t.Helper()
		err := env.DB.Update(func(tx *store.Tx) error {
			for range n {
				c := &store.Commission{ID: store.NewID(t0), PurchaseID: store.NewID(t0), ProgramID: programID, AffiliateID: af.ID,
					Kind: app.CommissionSale, Amount: amount, Currency: "USD", Status: app.CommissionApproved, ApproveAt: t0, CreatedAt: t0}
				if err := tx.PutCommission(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for lo := 0; lo < 1234; lo += 200 {
		approved(whale, prg.ID, min(200, 1234-lo), 100)
	}
	for _, af := range small {
		approved(af, prg.ID, 40, 250)
	}
	approved(under, prg.ID, 1, 50)
	approved(elsewhere, other.ID, 3, 1000)

	p, err := env.App.CreatePayout(app.PayoutInput{Currency: "USD", Minimum: "1.00", Program: prg.ID})
	if err != nil {
		t.Fatal(err)
	}
	items := map[string]*store.PayoutItem{}
	for _, it := range p.Items {
		items[it.AffiliateID] = it
	}
	if p.Step != "" || len(p.Items) != 31 || p.ItemCount != 31 || items[whale.ID].Commissions != 1234 || items[whale.ID].Amount != 123400 {
		t.Fatalf("payout: step %q, %d items, whale %+v", p.Step, len(p.Items), items[whale.ID])
	}
	for _, af := range small {
		if it := items[af.ID]; it == nil || it.Commissions != 40 || it.Amount != 10000 {
			t.Fatalf("small affiliate's item %+v", it)
		}
	}
	if items[under.ID] != nil || items[elsewhere.ID] != nil {
		t.Fatal("an affiliate under the minimum or outside the program was paid")
	}
	if want := int64(123400 + 30*10000); p.Total != want {
		t.Fatalf("total %d, want %d", p.Total, want)
	}
	balance := func(af *store.Affiliate) store.Balance {
		rows, err := env.App.Balances(app.BalanceFilter{Affiliate: af.ID})
		if err != nil || len(rows) != 1 {
			t.Fatalf("balances of %s: %v %v", af.Name, rows, err)
		}
		return rows[0].Balance
	}
	if b := balance(whale); b.Approved != 0 || b.Processing != 123400 {
		t.Fatalf("whale while processing %+v", b)
	}
	if b := balance(under); b.Approved != 50 || b.Processing != 0 {
		t.Fatalf("under the minimum %+v", b)
	}

	// Canceling across writes gives everything back; a new payout then
	// takes it all again, and paying it pays every commission.
	if _, err := env.App.CancelPayout(p.ID); err != nil {
		t.Fatal(err)
	}
	if b := balance(whale); b.Approved != 123400 || b.Processing != 0 {
		t.Fatalf("whale after cancel %+v", b)
	}
	p2, err := env.App.CreatePayout(app.PayoutInput{Currency: "USD", Minimum: "1.00", Program: prg.ID})
	if err != nil || p2.Total != p.Total {
		t.Fatalf("second payout %+v %v", p2, err)
	}
	paid, err := env.App.MarkPayoutPaid(p2.ID)
	if err != nil || paid.Status != store.PayoutPaid {
		t.Fatalf("paid %+v %v", paid, err)
	}
	if b := balance(whale); b.Paid != 123400 || b.Processing != 0 || b.Approved != 0 {
		t.Fatalf("whale after payment %+v", b)
	}
	left, _, err := env.App.Commissions(app.CommissionFilter{Status: app.CommissionProcessing}, "", 10)
	if err != nil || len(left) != 0 {
		t.Fatalf("%d commissions still processing (%v)", len(left), err)
	}
}

// Paying a payout queues every paid affiliate's payout.paid in the write
// that pays its commissions: a write finishing a thousand affiliates, each
// with webhook endpoints, must still fit in one transaction.
func TestPayingManyAffiliatesWithEndpointsFitsItsWrites(t *testing.T) {
	env := apptest.New(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	env.Clock.Set(t0)
	prg := env.Program("Shop")
	const affs = 1500
	for first := 0; first < affs; first += 100 {
		seed(t, env, func(tx *store.Tx) error {
			for i := first; i < first+100; i++ {
				af := &store.Affiliate{ID: store.NewID(t0), Name: fmt.Sprint("Partner ", i), Email: fmt.Sprintf("p%d@partners.example", i),
					Status: app.StatusActive, CreatedAt: t0}
				if err := tx.PutAffiliate(af); err != nil {
					return err
				}
				for range 2 {
					ep := &store.WebhookEndpoint{ID: store.NewID(t0), AffiliateID: af.ID, URL: "http://127.0.0.1:9/" + af.ID, // refused at delivery: no network
						Secret: "whsec_dGVzdA==", Events: []string{event.PurchaseCreated}, CreatedAt: t0}
					if err := tx.PutWebhookEndpoint(ep); err != nil {
						return err
					}
				}
				c := &store.Commission{ID: store.NewID(t0), PurchaseID: store.NewID(t0), ProgramID: prg.ID, AffiliateID: af.ID,
					Kind: app.CommissionSale, Amount: 500, Currency: "USD", Status: app.CommissionApproved, ApproveAt: t0, CreatedAt: t0}
				if err := tx.PutCommission(c); err != nil {
					return err
				}
			}
			return nil
		})
	}
	p, err := env.App.CreatePayout(app.PayoutInput{Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.MarkPayoutPaid(p.ID); err != nil {
		t.Fatalf("mark paid: %v", err)
	}
	n, cursor := 0, ""
	for {
		ms, next, err := env.App.WebhookMessages(app.WebhookMessageQuery{Scope: app.Merchant, Limit: 500, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.EventType == event.PayoutPaid {
				n++
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if n != 2*affs {
		t.Fatalf("%d payout.paid messages, want %d", n, 2*affs)
	}
}
