package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/store"
)

// A payout whose commissions take several writes to move: each write must
// fit in one Badger transaction (8 MB memtables: about 1.2 MB and some
// 13,000 entries), so each write of the step must stop when it is full
// (store.Tx.Full), whatever moving one commission costs (its record, its
// index entries and the affiliate's two balance counters).
func TestPayoutOfManyCommissionsFitsItsWrites(t *testing.T) {
	env := apptest.New(t)
	prg := env.Program("Shop")
	const affs, per = 150, 20 // 3,000 commissions
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var want int64
	for first := 0; first < affs; first += 25 { // 500 commissions a write
		seed(t, env, func(tx *store.Tx) error {
			for i := first; i < first+25; i++ {
				at = at.Add(time.Millisecond)
				af := &store.Affiliate{ID: store.NewID(at), Name: fmt.Sprintf("Partner %03d", i), Email: fmt.Sprintf("p%03d@partners.example", i),
					Status: app.StatusActive, PayoutMethod: app.PayoutPayPal, PayoutEmail: fmt.Sprintf("pp%03d@partners.example", i), CreatedAt: at}
				if err := tx.PutAffiliate(af); err != nil {
					return err
				}
				for k := range per {
					at = at.Add(time.Microsecond)
					amount := int64(100 + i + k)
					want += amount
					c := &store.Commission{ID: store.NewID(at), PurchaseID: store.NewID(at), ProgramID: prg.ID, AffiliateID: af.ID,
						Kind: app.CommissionSale, Amount: amount, Currency: "USD", Status: app.CommissionApproved, ApproveAt: at, CreatedAt: at}
					if err := tx.PutCommission(c); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	p, err := env.App.CreatePayout(app.PayoutInput{Currency: "USD"})
	if err != nil {
		t.Fatalf("create payout of %d commissions: %v", affs*per, err)
	}
	if p.Payout.ItemCount != affs || p.Total != want || len(p.Items) != affs {
		t.Fatalf("payout: %d items (%d loaded), total %d; want %d, %d", p.Payout.ItemCount, len(p.Items), p.Total, affs, want)
	}
	if _, err := env.App.MarkPayoutPaid(p.ID); err != nil {
		t.Fatalf("mark paid: %v", err)
	}
	bs, err := env.App.Balances(app.BalanceFilter{Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	var paid int64
	for _, b := range bs {
		if b.Approved != 0 || b.Processing != 0 {
			t.Fatalf("after paying: %+v", b)
		}
		paid += b.Paid
	}
	if paid != want {
		t.Fatalf("paid %d, want %d", paid, want)
	}
}

func seed(t *testing.T, env *apptest.Env, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := env.DB.Update(fn); err != nil {
		t.Fatal(err)
	}
}
