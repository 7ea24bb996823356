package views

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spiffy/spiffy/store"
)

// TestTopAffiliatesRanksAllTallies stores leads and purchases of 40
// affiliates in two programs, two currencies and days on both sides of a
// block edge, and checks the dashboard's top ten, with their money, against
// a ranking of every affiliate's tallies.
func TestTopAffiliatesRanksAllTallies(t *testing.T) {
	db, err := store.Open(store.Options{Dir: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(3, 4))
	programs := []string{store.NewID(base), store.NewID(base)}
	var affs []string
	for range 40 {
		affs = append(affs, store.NewID(base))
	}
	for i := range 600 {
		at := base.Add(time.Duration(rng.IntN(30*24)) * time.Hour)
		prg, aff := programs[rng.IntN(2)], affs[rng.IntN(len(affs))]
		err := db.Update(func(tx *store.Tx) error {
			if i%3 > 0 {
				return tx.InsertLead(&store.Lead{ID: store.NewID(at), ProgramID: prg, AffiliateID: aff,
					Email: fmt.Sprintf("lead%d@example.com", i), CreatedAt: at})
			}
			amount := int64(100 + rng.IntN(10000))
			return tx.InsertPurchase(&store.Purchase{ID: store.NewID(at), OrderID: fmt.Sprint("o", i), ProgramID: prg,
				AffiliateID: aff, Email: fmt.Sprintf("buyer%d@example.com", i), Amount: amount, Commission: amount / 10,
				Currency: []string{"USD", "EUR"}[rng.IntN(2)], Status: "paid", PurchasedAt: at, CreatedAt: at})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	lo, hi := store.DayNumber(base.AddDate(0, 0, 3)), store.DayNumber(base.AddDate(0, 0, 26))
	for _, prg := range []string{"", programs[1]} {
		var got []AffiliateStat
		all := map[string]*store.Tally{}
		err := db.View(func(tx *store.Tx) (err error) {
			if got, err = topAffiliates(tx, prg, lo, hi, DashboardTopN); err != nil {
				return err
			}
			return tx.WalkAffiliateTallies(prg, lo, hi, func(id []byte, t *store.Tally) error {
				c := *t
				c.Paid = slices.Clone(t.Paid)
				all[string(id)] = &c
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []AffiliateStat
		for id, s := range all {
			want = append(want, AffiliateStat{AffiliateID: id, Clicks: s.Clicks, Leads: s.Leads,
				Purchases: s.Purchases - s.Refunds, Paid: moneyTotals(s.Paid)})
		}
		slices.SortFunc(want, func(x, y AffiliateStat) int {
			return cmp.Or(cmp.Compare(y.Purchases, x.Purchases), cmp.Compare(y.Leads, x.Leads),
				cmp.Compare(y.Clicks, x.Clicks), cmp.Compare(x.AffiliateID, y.AffiliateID))
		})
		want = want[:DashboardTopN]
		for i := range want {
			want[i].LeadRate, want[i].PurchaseRate = percent(want[i].Leads, want[i].Clicks), percent(want[i].Purchases, want[i].Leads)
		}
		if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
			t.Errorf("program %q: top affiliates\n got %s\nwant %s", prg, g, w)
		}
		if len(got[0].Paid) == 0 {
			t.Errorf("program %q: the top affiliate has no money: %+v", prg, got[0])
		}
	}
}
