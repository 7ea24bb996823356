package views

import (
	"bytes"
	"cmp"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/app/provider"
	"github.com/spiffy/spiffy/store"
	"github.com/spiffy/spiffy/store/best"
)

// The merchant dashboard: clicks, leads and purchases per day for a range
// and a program, conversion rates and the top affiliates. Everything comes
// from the tallies kept on write (store/tally.go): one key per day for the
// series and, for the affiliates, one key per affiliate per 8-day block plus
// the edge days. Raw clicks, leads and purchases are never scanned, so a
// 90-day dashboard costs the same at a thousand leads as at a million.

// DashboardTopN is how many affiliates the dashboard ranks.
const DashboardTopN = 10

// DashboardDay is one day of the series.
type DashboardDay struct {
	Day       time.Time
	Clicks    int64
	Leads     int64
	Purchases int64 // paid and refunded
}

// MoneyTotal is a per-currency sum, formatted.
type MoneyTotal struct {
	Currency   string
	Amount     string
	Commission string
}

// AffiliateStat is one affiliate's totals over the range.
type AffiliateStat struct {
	AffiliateID string
	Name        string
	Clicks      int64
	Leads       int64
	Purchases   int64 // paid ones
	Paid        []MoneyTotal
	// LeadRate and PurchaseRate are percentages (clicks→leads, leads→purchases).
	LeadRate, PurchaseRate float64
}

// Dashboard is the dashboard's data.
type Dashboard struct {
	From, To  time.Time // days, both included
	ProgramID string
	Days      []DashboardDay // every day of the range, empty days included
	Clicks    int64
	Leads     int64
	Purchases int64 // paid and refunded
	Refunds   int64
	Paid      []MoneyTotal // paid purchases
	// Conversion rates in percent: clicks→leads, leads→purchases, clicks→purchases.
	LeadRate, PurchaseRate, ClickRate float64
	Top                               []AffiliateStat
	// Setup is the getting-started checklist's state (whole install).
	Setup GettingStarted
}

// percent is a/b as a percentage (0 when b is 0).
func percent(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) * 100 / float64(b)
}

func moneyTotals(ms []store.RollupMoney) []MoneyTotal {
	out := make([]MoneyTotal, 0, len(ms))
	for _, m := range ms {
		out = append(out, MoneyTotal{Currency: m.Currency, Amount: money.Display(m.Amount, m.Currency), Commission: money.Display(m.Commission, m.Currency)})
	}
	return out
}

// GettingStarted is how far a new install has come, each step read from
// what is stored: the dashboard shows it as a checklist until the first
// purchase, when the install has proved itself end to end.
type GettingStarted struct {
	Program    bool // a live program exists
	FirstClick bool // the install code ran on a site: a click was tracked
	Enrolled   bool // an affiliate is enrolled in a program
	FirstLead  bool
	Provider   bool // a payment provider's signing secret is set (config or Settings)
	// FirstPurchase: a purchase was recorded, by a provider or the API.
	FirstPurchase bool
}

// Show reports whether the checklist still helps: a step is open and no
// purchase has been recorded yet (a merchant who reports sales by API
// never needs a provider).
func (g GettingStarted) Show() bool {
	return !g.FirstPurchase && !(g.Program && g.FirstClick && g.Enrolled && g.FirstLead && g.Provider)
}

// readGettingStarted reads each step: the all-time tallies (one key per
// day with traffic), the programs, one enrollment key and the providers'
// secrets. inConfig says whether the config sets a provider's secret.
func readGettingStarted(tx *store.Tx, inConfig func(provider string) bool) (GettingStarted, error) {
	var g GettingStarted
	all, err := tx.TallySum(store.TallyScope{}, 0, math.MaxUint32)
	if err != nil {
		return g, err
	}
	g.FirstClick, g.FirstLead, g.FirstPurchase = all.Clicks > 0, all.Leads > 0, all.Purchases > 0
	progs, err := tx.Programs()
	if err != nil {
		return g, err
	}
	for _, p := range progs {
		g.Program = g.Program || p.DeletedAt == nil
	}
	if g.Enrolled, err = tx.HasEnrollment(); err != nil {
		return g, err
	}
	for _, p := range provider.Names() {
		s, err := tx.IntegrationSecret(p)
		if err != nil {
			return g, err
		}
		g.Provider = g.Provider || s != "" || inConfig(p)
	}
	return g, nil
}

// ReadDashboard computes the dashboard for the days from to to (both
// included) and a program ("" = all), which the caller has checked, and
// the install's getting-started steps (inConfig: see readGettingStarted).
func ReadDashboard(tx *store.Tx, programID string, from, to time.Time, inConfig func(provider string) bool) (*Dashboard, error) {
	d := &Dashboard{From: from, To: to, ProgramID: programID}
	setup, err := readGettingStarted(tx, inConfig)
	if err != nil {
		return nil, err
	}
	d.Setup = setup
	lo, hi := store.DayNumber(from), store.DayNumber(to)
	d.Days = make([]DashboardDay, hi-lo+1)
	for i := range d.Days {
		d.Days[i].Day = store.DayTime(lo + uint32(i))
	}
	var sum store.Tally
	err = tx.TallyDays(store.TallyScope{ProgramID: programID}, lo, hi, func(day uint32, t *store.Tally) {
		dd := &d.Days[day-lo]
		dd.Clicks, dd.Leads, dd.Purchases = t.Clicks, t.Leads, t.Purchases
		sum.Add(t)
	})
	if err != nil {
		return nil, err
	}
	d.Clicks, d.Leads, d.Purchases, d.Refunds = sum.Clicks, sum.Leads, sum.Purchases, sum.Refunds
	d.Paid = moneyTotals(sum.Paid)
	d.LeadRate = percent(d.Leads, d.Clicks)
	d.PurchaseRate = percent(d.Purchases-d.Refunds, d.Leads)
	d.ClickRate = percent(d.Purchases-d.Refunds, d.Clicks)
	if d.Top, err = topAffiliates(tx, programID, lo, hi, DashboardTopN); err != nil {
		return nil, err
	}
	return d, nil
}

// topAffiliates ranks affiliates by paid purchases, then leads, then clicks
// (money is not comparable across currencies).
func topAffiliates(tx *store.Tx, programID string, lo, hi uint32, n int) ([]AffiliateStat, error) {
	// Rank small entries, and keep the money of the top n only: with
	// thousands of affiliates active in the range, totals for all of them
	// and a sort of the full rows were a quarter of the dashboard's time
	// (docs/PERFORMANCE.md, issue 17).
	type entry struct {
		id                       [store.IDLen]byte
		clicks, leads, purchases int64
		paid                     []store.RollupMoney
	}
	// Most affiliates lose to the last of the n best in one comparison,
	// where sorting all of them was a fifth of the dashboard's time with
	// 10,000 active.
	top := best.New(n, func(x, y entry) int {
		return cmp.Or(cmp.Compare(y.purchases, x.purchases), cmp.Compare(y.leads, x.leads),
			cmp.Compare(y.clicks, x.clicks), bytes.Compare(x.id[:], y.id[:]))
	})
	noAffiliate := []byte(store.NoAffiliate)
	err := tx.WalkAffiliateTallies(programID, lo, hi, func(id []byte, t *store.Tally) error {
		if bytes.Equal(id, noAffiliate) {
			return nil
		}
		e := entry{clicks: t.Clicks, leads: t.Leads, purchases: t.Purchases - t.Refunds}
		copy(e.id[:], id)
		if top.Admits(e) {
			e.paid = slices.Clone(t.Paid) // t is the walk's, reused for the next affiliate
			top.Offer(e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rank := top.Items()
	stats := make([]AffiliateStat, 0, len(rank))
	for _, e := range rank {
		stats = append(stats, AffiliateStat{AffiliateID: string(e.id[:]), Clicks: e.clicks, Leads: e.leads,
			Purchases: e.purchases, Paid: moneyTotals(e.paid)})
	}
	for i := range stats {
		s := &stats[i]
		if af, err := tx.Affiliate(s.AffiliateID); err == nil {
			s.Name = af.Name
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		s.LeadRate, s.PurchaseRate = percent(s.Leads, s.Clicks), percent(s.Purchases, s.Leads)
	}
	return stats, nil
}
