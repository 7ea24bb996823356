package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
)

func TestBackupJobKeepsTheNewest(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) { c.Backups.Keep = 2 })
	env.Program("Backed up")
	job := &Backup{Store: env.DB, Dir: env.Config.BackupsDir(), Keep: env.Config.Backups.Keep, Clock: env.Clock}
	clock := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	for i := 0; i < 4; i++ {
		env.Clock.Func(func() time.Time { return clock })
		if err := job.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(24 * time.Hour)
	}
	entries, err := os.ReadDir(env.Config.BackupsDir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"spiffy-20261103-030000.backup", "spiffy-20261104-030000.backup"}
	if len(names) != 2 || names[0] != want[0] || names[1] != want[1] {
		t.Fatalf("backups %v, want %v", names, want)
	}
	info, _ := os.Stat(env.Config.BackupsDir() + "/" + want[1])
	if info.Size() < 100 {
		t.Fatalf("backup only %d bytes", info.Size())
	}
}

func TestStoreGCRuns(t *testing.T) {
	env := apptest.New(t)
	if err := (&StoreGC{Store: env.DB, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

type countingJob struct {
	runs  atomic.Int32
	panic bool
}

func (j *countingJob) Name() string { return "counting" }
func (j *countingJob) Run(ctx context.Context) error {
	j.runs.Add(1)
	if j.panic {
		panic("job bug")
	}
	return errors.New("job error")
}

func TestSchedulerRecoversAndRunsOnDemand(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	j := &countingJob{panic: true}
	s, err := New(log, []Entry{{Spec: "@every 1s", Job: j}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	deadline := time.Now().Add(5 * time.Second)
	for j.runs.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	s.Stop()
	if j.runs.Load() < 2 {
		t.Fatalf("a panicking job stopped the scheduler: %d runs", j.runs.Load())
	}
	j.panic = false
	if err := s.RunNow(context.Background(), "counting"); err == nil {
		t.Fatal("RunNow hid the job's error")
	}
	if err := s.RunNow(context.Background(), "nope"); err == nil {
		t.Fatal("unknown job accepted")
	}
	if _, err := New(log, []Entry{{Spec: "whenever", Job: j}}); err == nil {
		t.Fatal("bad spec accepted")
	}
}

func TestDefaultJobsSchedule(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) { c.Jobs.Backup = "0 3 * * *" })
	s, err := New(env.App.Log(), Default(Deps{Config: env.Config, Store: env.DB, Clock: env.Clock, Log: env.App.Log(),
		DeliverWebhooks: env.App.Webhooks().DeliverDue, CleanupExports: env.App.CleanupExports,
		ApproveCommissions: env.App.ApproveDueCommissions}))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.cron.Entries()); n != 8 {
		t.Fatalf("%d jobs scheduled, want 8", n)
	}
	if s.jobs["privacy_retention"] == nil {
		t.Fatal("the privacy_retention job is not among the defaults")
	}
}

// The approval job, run by name as the scheduler would, approves exactly
// the commissions whose hold has ended.
func TestApproveCommissionsJob(t *testing.T) {
	env := apptest.New(t)
	env.Clock.Set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	prg := env.Program("Shop", func(in *app.ProgramInput) {
		in.HoldDays, in.CommissionValue = apptest.Ptr(10), apptest.Ptr("20")
	})
	af := env.Affiliate("Ann", "ann@example.com", "ann", prg)
	early := env.AttributedPurchase(prg, "ann", "o-1", "buyer1@example.com")
	env.Clock.Add(48 * time.Hour)
	late := env.AttributedPurchase(prg, "ann", "o-2", "buyer2@example.com")
	s, err := New(env.App.Log(), Default(Deps{Config: env.Config, Store: env.DB, Clock: env.Clock, Log: env.App.Log(),
		ApproveCommissions: env.App.ApproveDueCommissions}))
	if err != nil {
		t.Fatal(err)
	}
	status := func(purchaseID string) string {
		coms, _, err := env.App.Commissions(app.CommissionFilter{Purchase: purchaseID}, "", 0)
		if err != nil || len(coms) != 1 {
			t.Fatalf("commissions of %s: %v %v", purchaseID, coms, err)
		}
		return coms[0].Status
	}
	env.Clock.Add(9 * 24 * time.Hour) // the first purchase's hold has ended, the second's has not
	if err := s.RunNow(context.Background(), "approve_commissions"); err != nil {
		t.Fatal(err)
	}
	if a, b := status(early.ID), status(late.ID); a != "approved" || b != "pending" {
		t.Fatalf("after 11 days: %s, %s; want approved, pending", a, b)
	}
	rows, err := env.App.Balances(app.BalanceFilter{Affiliate: af.ID})
	if err != nil || len(rows) != 1 || rows[0].Approved != 980 || rows[0].Pending != 980 {
		t.Fatalf("balances %+v %v", rows, err)
	}
}
