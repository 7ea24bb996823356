package jobs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/store"
)

// trustTestProxy makes httptest's peer (192.0.2.1) a trusted proxy, so a
// request's X-Forwarded-For is the visitor's IP, as behind nginx.
func trustTestProxy(c *config.Config) {
	_, n, _ := net.ParseCIDR("192.0.2.1/32")
	c.TrustedProxies = []*net.IPNet{n}
}

// TestPrivacyRetentionJob: clicks and leads recorded through /t/* keep the
// visitor's full IP and user agent for privacy.ip_retention; after it the
// job leaves the network only (IPv4 /24, IPv6 /48) and no user agent, while
// younger records stay whole. With retention 0 nothing changes.
func TestPrivacyRetentionJob(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled, trustTestProxy)
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	advance := env.SetClock(start)
	prg := env.Program("Shop", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	env.Affiliate("Ann", "ann@example.com", "ann", prg)

	click := func(vid, ip, ua string) string {
		t.Helper()
		rec := env.Request(http.MethodPost, "/t/click", map[string]string{"ref": "ann", "vid": vid}, "X-Forwarded-For", ip, "User-Agent", ua)
		apptest.Expect(t, rec, 201)
		return apptest.Decode[struct{ Referral string }](t, rec).Referral
	}
	v4 := click("vid-pat", "203.0.113.77", "Mozilla/5.0 (X11) Firefox/140.0")
	v6 := click("vid-sam", "2001:db8:abcd:12:1::5", "Mozilla/5.0 (Mac) Safari/18")
	rec := env.Request(http.MethodPost, "/t/lead", map[string]string{"email": "pat@example.com", "referral": v4}, "X-Forwarded-For", "203.0.113.77", "User-Agent", "Firefox/140.0")
	apptest.Expect(t, rec, 201)
	lead := apptest.Decode[struct{ Lead string }](t, rec).Lead
	advance(20 * 24 * time.Hour)
	recent := click("vid-kim", "198.51.100.23", "Chrome/130")

	get := func() (c4, c6, cr *store.Click, l *store.Lead) {
		t.Helper()
		err := env.DB.View(func(tx *store.Tx) error {
			var err error
			if c4, err = tx.Click(v4); err != nil {
				return err
			}
			if c6, err = tx.Click(v6); err != nil {
				return err
			}
			if cr, err = tx.Click(recent); err != nil {
				return err
			}
			l, err = tx.Lead(lead)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	c4, c6, _, l := get()
	if c4.IP != "203.0.113.77" || c6.IP != "2001:db8:abcd:12:1::5" || l.IP != "203.0.113.77" || c4.UserAgent == "" || l.UserAgent == "" {
		t.Fatalf("tracking did not keep the visitor's IP and user agent: %+v %+v %+v", c4, c6, l)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var job Job
	for _, e := range Default(Deps{Config: env.Config, Store: env.DB, Clock: env.Clock, Log: log}) {
		if e.Job.Name() == "privacy_retention" {
			if e.Spec != "@every 1h" {
				t.Errorf("privacy_retention spec %q", e.Spec)
			}
			job = e.Job
		}
	}
	if job == nil {
		t.Fatal("no privacy_retention job among the defaults")
	}

	// Day 29: nothing is old enough yet.
	advance(9 * 24 * time.Hour)
	if err := job.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c4, _, _, l := get(); c4.IP != "203.0.113.77" || l.UserAgent == "" {
		t.Fatalf("expired before the retention: %+v %+v", c4, l)
	}
	// With retention 0 (keep for ever) even day 31 changes nothing.
	advance(2 * 24 * time.Hour)
	forever := &PrivacyRetention{Store: env.DB, Clock: env.Clock, Retention: 0, Log: log}
	if err := forever.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c4, _, _, _ := get(); c4.IP != "203.0.113.77" {
		t.Fatalf("retention 0 truncated: %+v", c4)
	}
	// Day 31 with the default 30 days.
	if err := job.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	c4, c6, cr, l := get()
	if c4.IP != "203.0.113.0" || c4.UserAgent != "" || c6.IP != "2001:db8:abcd::" || c6.UserAgent != "" {
		t.Errorf("old clicks after the job: v4 %q %q, v6 %q %q", c4.IP, c4.UserAgent, c6.IP, c6.UserAgent)
	}
	if c4.AffiliateID == "" || c4.VisitorID != "vid-pat" || c4.Code != "ann" {
		t.Errorf("the job changed more than the network details: %+v", c4)
	}
	if l.IP != "203.0.113.0" || l.UserAgent != "" || l.Email != "pat@example.com" {
		t.Errorf("old lead after the job: %+v", l)
	}
	if cr.IP != "198.51.100.23" || cr.UserAgent != "Chrome/130" {
		t.Errorf("a click 11 days old changed: %+v", cr)
	}
	// The dashboard's totals do not move.
	var clicks int64
	env.DB.View(func(tx *store.Tx) error {
		return tx.Rollups(0, 1<<31, "", func(_ uint32, _, _ string, r *store.Rollup) { clicks += r.Clicks })
	})
	if clicks != 3 {
		t.Errorf("%d clicks in the roll-ups, want 3", clicks)
	}
}

// TestPrivacyRetentionJobAtScale: a backlog of old clicks is handled in
// several bounded writes, and the next run starts where this one ended.
func TestPrivacyRetentionJobAtScale(t *testing.T) {
	env := apptest.New(t)
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	env.SetClock(start.Add(60 * 24 * time.Hour))
	prg, aff := store.NewID(start), store.NewID(start)
	const n = 2000
	var ids []string
	for i := 0; i < n; i += 250 {
		if err := env.DB.Update(func(tx *store.Tx) error {
			for j := i; j < i+250; j++ {
				at := start.Add(time.Duration(j) * time.Second)
				c := &store.Click{ID: store.NewID(at), ProgramID: prg, AffiliateID: aff, VisitorID: fmt.Sprint("v", j%50),
					IP: fmt.Sprintf("203.0.113.%d", j%250), UserAgent: "Mozilla/5.0", CreatedAt: at}
				ids = append(ids, c.ID)
				if err := tx.InsertClick(c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	job := &PrivacyRetention{Store: env.DB, Clock: env.Clock, Retention: env.Config.Privacy.IPRetention, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	_, opsBefore := env.DB.WriterStats()
	if err := job.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, opsAfter := env.DB.WriterStats()
	if ops := opsAfter - opsBefore; ops < 3 {
		t.Errorf("%d clicks rewritten in %d write(s): want several bounded writes", n, ops)
	}
	env.DB.View(func(tx *store.Tx) error {
		for _, id := range ids {
			c, err := tx.Click(id)
			if err != nil {
				return err
			}
			if c.IP != "203.0.113.0" || c.UserAgent != "" {
				t.Fatalf("click after the job: %+v", c)
			}
		}
		return nil
	})
	// Nothing new came of age: the next run writes nothing.
	if err := job.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ops := env.DB.WriterStats(); ops != opsAfter {
		t.Errorf("a run with nothing to do made %d writes", ops-opsAfter)
	}
}
