package demo_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/demo"
	"github.com/spiffy/spiffy/store"
)

func seedSmallDemo(t *testing.T, env *apptest.Env, opts demo.Options) *demo.Result {
	t.Helper()
	var out strings.Builder
	res, err := demo.Seed(context.Background(), env.App, env.DB, opts, &out)
	if err != nil {
		t.Fatalf("demo.Seed: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "demo: wrote") {
		t.Errorf("progress output lacks the summary line:\n%s", out.String())
	}
	return res
}

// TestSeed checks that the demo account has the requested size exactly
// and that its records hang together the way real tracking would make them.
func TestSeed(t *testing.T) {
	env := apptest.New(t)
	opts := demo.Options{Clicks: 6000, Leads: 1200, Purchases: 300, Affiliates: 20}
	res := seedSmallDemo(t, env, opts)
	now := time.Now().UTC()
	windowStart := now.Truncate(24*time.Hour).AddDate(0, 0, -89)

	// Sign-ins work.
	if _, err := env.App.AuthenticateAdmin(res.AdminEmail, res.AdminPassword, "127.0.0.1"); err != nil {
		t.Errorf("admin sign-in with the printed password: %v", err)
	}
	if _, err := env.App.AuthenticateAPIKey(res.APIKey); err != nil {
		t.Errorf("printed API key: %v", err)
	}
	apptest.Expect(t, env.Request("GET", "/api/v1/programs", nil, "Authorization", "Bearer "+res.APIKey), 200)
	if _, err := env.App.AuthenticateAffiliate(res.AffiliateEmail, res.AffiliatePassword, "127.0.0.1"); err != nil {
		t.Errorf("the printed affiliate sign-in (%q): %v", res.AffiliateEmail, err)
	}

	// Programs: varied settings.
	progs, err := env.App.Views().Programs()
	if err != nil {
		t.Fatal(err)
	}
	if len(progs) < 3 {
		t.Fatalf("%d programs, want at least 3", len(progs))
	}
	byID := map[string]*store.Program{}
	kinds := map[string]bool{}
	for _, p := range progs {
		byID[p.ID] = p
		kinds[p.CommissionType] = true
		kinds[p.Attribution] = true
		if p.TrackLeads {
			kinds["track"] = true
		}
		if p.ShareLeads {
			kinds["share_leads"] = true
		}
		if p.SharePurchasers {
			kinds["share_purchasers"] = true
		}
	}
	for _, k := range []string{app.CommissionPercent, app.CommissionFlat, app.AttributionFirst, app.AttributionLast, "track", "share_leads", "share_purchasers"} {
		if !kinds[k] {
			t.Errorf("no demo program with %s", k)
		}
	}

	// Affiliates: mostly active, some pending and blocked, each enrolled.
	affs, err := env.App.Views().Affiliates()
	if err != nil {
		t.Fatal(err)
	}
	if len(affs) != opts.Affiliates {
		t.Fatalf("%d affiliates, want %d", len(affs), opts.Affiliates)
	}
	status := map[string]int{}
	for _, af := range affs {
		status[af.Status]++
		// Names with accents keep their letters in the email: Müller is
		// muller, not mller.
		first, last, _ := strings.Cut(af.Name, " ")
		for _, part := range []string{first, last} {
			if folded := demoFold(part); !strings.Contains(af.Email, folded) {
				t.Errorf("%s's email %s lacks %q", af.Name, af.Email, folded)
			}
		}
		ens, err := env.App.Views().EnrollmentsOfAffiliate(af.ID)
		if err != nil || len(ens) == 0 || ens[0].Code == "" {
			t.Errorf("affiliate %s has no enrollment with a code (%v)", af.Email, err)
		}
	}
	if status[app.StatusPending] == 0 || status[app.StatusBlocked] == 0 || status[app.StatusActive] < opts.Affiliates*3/4 {
		t.Errorf("statuses %v: want mostly active, some pending and blocked", status)
	}
	if _, err := env.App.AuthenticateAffiliate(affs[0].Email, res.AffiliatePassword, "127.0.0.1"); err != nil && affs[0].Status != app.StatusBlocked {
		t.Errorf("affiliate sign-in with the shared demo password: %v", err)
	}

	// Exact totals, and a weekly rhythm in the daily clicks.
	var clicks, leads, purchases, refunds int64
	// Medians, not means: a campaign spike on a Saturday must not hide the rhythm.
	var weekdays, weekends []float64
	err = env.DB.View(func(tx *store.Tx) error {
		perDay := map[uint32]int64{}
		err := tx.Rollups(store.DayNumber(windowStart.AddDate(0, 0, -1)), store.DayNumber(now)+1, "", func(day uint32, _, _ string, r *store.Rollup) {
			clicks += r.Clicks
			leads += r.Leads
			purchases += r.Purchases
			refunds += r.Refunds
			perDay[day] += r.Clicks
		})
		// Whole weeks only, leaving out today (partial) and the
		// program-launch days at the start.
		for d := store.DayNumber(now) - 56; d < store.DayNumber(now); d++ {
			switch store.DayTime(d).Weekday() {
			case time.Saturday, time.Sunday:
				weekends = append(weekends, float64(perDay[d]))
			default:
				weekdays = append(weekdays, float64(perDay[d]))
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if clicks != int64(opts.Clicks) || leads != int64(opts.Leads) || purchases != int64(opts.Purchases) {
		t.Errorf("rollups count %d clicks, %d leads, %d purchases; want %d, %d, %d", clicks, leads, purchases, opts.Clicks, opts.Leads, opts.Purchases)
	}
	if refunds == 0 {
		t.Error("no refunded purchase")
	}
	weekday, weekend := median(weekdays), median(weekends)
	if weekday <= 1.2*weekend {
		t.Errorf("median clicks per weekday %.0f vs per weekend day %.0f: want a weekly rhythm", weekday, weekend)
	}

	// Records hang together: every lead comes from a real click before it,
	// every attributed purchase from a click or a lead that points back.
	var nLeads, nPurchases, unattributed, selfRef, fromLead int
	err = env.DB.View(func(tx *store.Tx) error {
		cursor := ""
		for {
			page, next, err := tx.Leads(store.LeadQuery{Cursor: cursor, Limit: 500})
			if err != nil {
				return err
			}
			for _, l := range page {
				nLeads++
				c, err := tx.Click(l.ReferralID)
				if err != nil {
					t.Errorf("lead %s: click %s: %v", l.ID, l.ReferralID, err)
					continue
				}
				if c.ProgramID != l.ProgramID || c.AffiliateID != l.AffiliateID || c.Code != l.Code || c.SubID != l.SubID || c.CreatedAt.After(l.CreatedAt) {
					t.Errorf("lead %+v does not match its click %+v", l, c)
				}
				if !byID[l.ProgramID].TrackLeads {
					t.Errorf("lead %s in a program that does not track leads", l.ID)
				}
				if l.CreatedAt.Before(windowStart) || l.CreatedAt.After(now) || !store.IDTime(l.ID).Equal(l.CreatedAt.Truncate(time.Millisecond)) {
					t.Errorf("lead %s at %s: outside the window or id out of time order", l.ID, l.CreatedAt)
				}
				if l.PurchaseID != "" {
					p, err := tx.Purchase(l.PurchaseID)
					if err != nil || p.LeadID != l.ID || p.PurchasedAt.Before(l.CreatedAt) || p.Email != l.Email {
						t.Errorf("lead %s: purchase %s does not point back (%v)", l.ID, l.PurchaseID, err)
					}
				}
			}
			if next == "" {
				return nil
			}
			cursor = next
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	err = env.DB.View(func(tx *store.Tx) error {
		cursor := ""
		for {
			page, next, err := tx.Purchases(store.PurchaseQuery{Cursor: cursor, Limit: 500})
			if err != nil {
				return err
			}
			for _, p := range page {
				nPurchases++
				prog := byID[p.ProgramID]
				switch {
				case p.AffiliateID == "":
					unattributed++
					if p.SelfReferral {
						selfRef++
					}
					if p.Commission != 0 {
						t.Errorf("unattributed purchase %s has commission %d", p.ID, p.Commission)
					}
				default:
					want, ok := app.CommissionFor(prog, p.Amount, p.Currency)
					if !ok || want != p.Commission || p.Commission <= 0 {
						t.Errorf("purchase %s: commission %d, want %d", p.ID, p.Commission, want)
					}
					c, err := tx.Click(p.ReferralID)
					if err != nil || c.AffiliateID != p.AffiliateID || c.CreatedAt.After(p.PurchasedAt) ||
						p.PurchasedAt.Sub(c.CreatedAt) > time.Duration(prog.CookieDays)*24*time.Hour {
						t.Errorf("purchase %s: referral %s missing, of another affiliate or out of the window (%v)", p.ID, p.ReferralID, err)
					}
					if p.LeadID != "" {
						fromLead++
						l, err := tx.Lead(p.LeadID)
						if err != nil || l.PurchaseID != p.ID {
							t.Errorf("purchase %s: lead %s does not carry it (%v)", p.ID, p.LeadID, err)
						}
					}
				}
				if p.Status != "paid" && (p.Status != "refunded" || p.RefundedAt.Before(p.PurchasedAt)) {
					t.Errorf("purchase %s: status %q refunded at %s", p.ID, p.Status, p.RefundedAt)
				}
				if p.PurchasedAt.Before(windowStart) || p.CreatedAt.After(now) {
					t.Errorf("purchase %s at %s: outside the window", p.ID, p.PurchasedAt)
				}
			}
			if next == "" {
				return nil
			}
			cursor = next
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d purchases: %d from leads, %d unattributed (%d self-referrals), %d refunded; median clicks per weekday %.0f, per weekend day %.0f",
		nPurchases, fromLead, unattributed, selfRef, refunds, weekday, weekend)
	if nLeads != opts.Leads || nPurchases != opts.Purchases {
		t.Errorf("listed %d leads and %d purchases, want %d and %d", nLeads, nPurchases, opts.Leads, opts.Purchases)
	}
	if unattributed == 0 || fromLead < opts.Purchases/2 || fromLead == nPurchases-unattributed {
		t.Errorf("%d purchases: %d unattributed, %d from leads: want a mix of lead, click-only and unattributed", nPurchases, unattributed, fromLead)
	}
	if selfRef == 0 && unattributed >= 80 {
		t.Errorf("no self-referral among %d unattributed purchases", unattributed)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestSeedRefusesNonEmptyDataDir(t *testing.T) {
	env := apptest.New(t)
	if _, err := env.App.CreateAdmin("owner@example.com", "password123"); err != nil {
		t.Fatal(err)
	}
	_, err := demo.Seed(context.Background(), env.App, env.DB, demo.Options{Clicks: 10, Affiliates: 2}, io.Discard)
	if !errors.Is(err, demo.ErrNotEmpty) || !strings.Contains(err.Error(), "admin") {
		t.Fatalf("demo.Seed on a data dir with an admin: %v, want ErrNotEmpty naming the admin", err)
	}
	progs, _ := env.App.Views().Programs()
	if len(progs) != 0 {
		t.Errorf("refused demo still wrote %d programs", len(progs))
	}

	// A second demo in the same data dir is refused too.
	env2 := apptest.New(t)
	seedSmallDemo(t, env2, demo.Options{Clicks: 50, Leads: 10, Purchases: 5, Affiliates: 3})
	if _, err := demo.Seed(context.Background(), env2.App, env2.DB, demo.Options{Clicks: 50, Affiliates: 3}, io.Discard); !errors.Is(err, demo.ErrNotEmpty) {
		t.Fatalf("second demo.Seed: %v, want ErrDemoNotEmpty", err)
	}
}

func TestSeedRejectsImpossibleSizes(t *testing.T) {
	cases := []struct {
		name string
		opts demo.Options
		want string
	}{
		{"more leads than clicks", demo.Options{Clicks: 100, Leads: 500, Affiliates: 5}, "leads"},
		{"clicks without affiliates", demo.Options{Clicks: 100}, "affiliate"},
		{"negative", demo.Options{Clicks: -1, Affiliates: 5}, "negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := apptest.New(t)
			_, err := demo.Seed(context.Background(), env.App, env.DB, tc.opts, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("demo.Seed(%+v) = %v, want an error about %s", tc.opts, err, tc.want)
			}
			if has, _ := env.App.Views().HasAdmin(); has {
				t.Error("a refused demo created the admin")
			}
		})
	}
}

// TestSeedEdgeSizes: tiny and lopsided sizes still give exact counts.
func TestSeedEdgeSizes(t *testing.T) {
	cases := []demo.Options{
		{Affiliates: 1},
		{Clicks: 1, Affiliates: 1},
		{Clicks: 40, Leads: 36, Purchases: 60, Affiliates: 2}, // almost every click a lead; more purchases than leads
		{Purchases: 7, Affiliates: 0},                         // only unattributed purchases
	}
	for _, opts := range cases {
		env := apptest.New(t)
		seedSmallDemo(t, env, opts)
		var clicks, leads, purchases int64
		err := env.DB.View(func(tx *store.Tx) error {
			return tx.Rollups(0, store.DayNumber(time.Now())+1, "", func(_ uint32, _, _ string, r *store.Rollup) {
				clicks += r.Clicks
				leads += r.Leads
				purchases += r.Purchases
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if clicks != int64(opts.Clicks) || leads != int64(opts.Leads) || purchases != int64(opts.Purchases) {
			t.Errorf("%+v: got %d clicks, %d leads, %d purchases", opts, clicks, leads, purchases)
		}
	}
}

// The demo's money is alive on first look: commissions in every status,
// clawbacks, paid payouts and an open one, balances that match.
func TestSeedMoney(t *testing.T) {
	env := apptest.New(t)
	seedSmallDemo(t, env, demo.Options{Clicks: 6000, Leads: 1200, Purchases: 300, Affiliates: 20})
	for _, status := range []string{app.CommissionPending, app.CommissionApproved, app.CommissionProcessing, app.CommissionPaid, app.CommissionVoided} {
		coms, _, err := env.App.Commissions(app.CommissionFilter{Status: status}, "", 500)
		if err != nil || len(coms) == 0 {
			t.Errorf("no %s commissions in the demo (%v)", status, err)
		}
	}
	claws := 0
	coms, _, err := env.App.Commissions(app.CommissionFilter{Status: app.CommissionApproved}, "", 500)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range coms {
		if c.Kind == app.CommissionClawback {
			claws++
		}
	}
	if claws != 2 {
		t.Errorf("%d clawbacks, want 2", claws)
	}
	payouts, _, err := env.App.Payouts(app.Merchant, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[string]int{}
	for _, p := range payouts {
		byStatus[p.Status]++
		var sum int64
		for _, it := range p.Items {
			sum += it.Amount
		}
		if sum != p.Total || len(p.Items) == 0 {
			t.Errorf("payout %s: items sum to %d, total %d", p.ID, sum, p.Total)
		}
	}
	if byStatus["paid"] < 2 || byStatus["open"] != 1 {
		t.Errorf("payouts by status %v, want at least 2 paid and 1 open", byStatus)
	}
	rows, err := env.App.Balances(app.BalanceFilter{})
	if err != nil || len(rows) == 0 {
		t.Fatalf("balances %v %v", rows, err)
	}
}

// demoFold is the test's own spelling of the demo's names in ASCII.
func demoFold(s string) string {
	return strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ü", "u", "'", "").Replace(strings.ToLower(s))
}
