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
		DeliverWebhooks: env.App.Webhooks().DeliverDue, CleanupExports: env.App.CleanupExports}))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.cron.Entries()); n != 4 {
		t.Fatalf("%d jobs scheduled, want 4", n)
	}
}
