// Package jobs runs Spiffy's background work on robfig/cron schedules:
// webhook retries, mail, expired sessions, export cleanup, Badger value-log
// GC, the privacy retention of visitors' network details and the optional
// scheduled backup. Each job is a Job whose Run(ctx) tests call directly.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/store"
)

// Job is one named piece of background work.
type Job interface {
	Name() string
	Run(ctx context.Context) error
}

// Scheduler runs jobs on their cron specs.
type Scheduler struct {
	cron   *cron.Cron
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	jobs   map[string]Job
}

// Entry pairs a job with its cron spec ("" = not scheduled).
type Entry struct {
	Spec string
	Job  Job
}

// Clock tells the jobs the time (app.Clock, or a test's).
type Clock interface{ Now() time.Time }

// Deps is what the standard jobs work on; main.go builds it from the
// config, the store and the engines it has wired.
type Deps struct {
	Config config.Config
	Store  *store.DB
	Clock  Clock
	Log    *slog.Logger
	// DeliverWebhooks sends the webhook messages that are due.
	DeliverWebhooks func(ctx context.Context) error
	// CleanupExports deletes expired export files and their records.
	CleanupExports func(ctx context.Context) error
	// ApproveCommissions approves the commissions whose hold has ended and
	// says how many.
	ApproveCommissions func(ctx context.Context) (int, error)
	// SendMail sends the queued mail that is due (mail.go).
	SendMail func(ctx context.Context) error
	// SweepSessions deletes expired sessions and reset links, saying how many.
	SweepSessions func(ctx context.Context) (int, error)
}

// Default returns the standard jobs with the specs from the config.
func Default(d Deps) []Entry {
	c := d.Config
	return []Entry{
		{c.Jobs.WebhookRetries, &WebhookRetries{Deliver: d.DeliverWebhooks}},
		{c.Jobs.ApproveCommissions, &ApproveCommissions{Approve: d.ApproveCommissions, Log: d.Log}},
		{c.Jobs.ExportCleanup, &ExportCleanup{Cleanup: d.CleanupExports}},
		{c.Jobs.StoreGC, &StoreGC{Store: d.Store, Log: d.Log}},
		{c.Jobs.Backup, &Backup{Store: d.Store, Dir: c.BackupsDir(), Keep: c.Backups.Keep, Clock: d.Clock}},
		{c.Jobs.Mail, &SendMail{Send: d.SendMail}},
		{c.Jobs.SessionSweep, &SweepSessions{Sweep: d.SweepSessions, Log: d.Log}},
		{c.Jobs.PrivacyRetention, &PrivacyRetention{Store: d.Store, Clock: d.Clock, Retention: c.Privacy.IPRetention, Log: d.Log}},
	}
}

// New builds a scheduler. Every job is wrapped to skip a run while the
// previous one is still going and to recover from panics (cron v3 does not
// by default). The order matters: Recover must sit inside
// SkipIfStillRunning, or a panic would skip the release of its "running"
// token and the job would never run again.
func New(log *slog.Logger, entries []Entry) (*Scheduler, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{log: log, ctx: ctx, cancel: cancel, jobs: map[string]Job{}}
	clog := cronLogger{log}
	s.cron = cron.New(
		cron.WithParser(config.CronParser),
		cron.WithChain(cron.SkipIfStillRunning(clog), cron.Recover(clog)),
		cron.WithLogger(clog),
	)
	for _, e := range entries {
		s.jobs[e.Job.Name()] = e.Job
		if e.Spec == "" {
			continue
		}
		job := e.Job
		if _, err := s.cron.AddFunc(e.Spec, func() { s.run(job) }); err != nil {
			cancel()
			return nil, fmt.Errorf("jobs: schedule %s %q: %w", job.Name(), e.Spec, err)
		}
	}
	return s, nil
}

func (s *Scheduler) run(j Job) {
	start := time.Now()
	if err := j.Run(s.ctx); err != nil && s.ctx.Err() == nil {
		s.log.Error("job failed", "job", j.Name(), "err", err)
		return
	}
	s.log.Debug("job done", "job", j.Name(), "ms", time.Since(start).Milliseconds())
}

// Start begins running jobs on their schedules.
func (s *Scheduler) Start() { s.cron.Start() }

// RunNow runs the named job once, now, in the caller's goroutine.
func (s *Scheduler) RunNow(ctx context.Context, name string) error {
	j, ok := s.jobs[name]
	if !ok {
		return fmt.Errorf("jobs: no job named %q", name)
	}
	return j.Run(ctx)
}

// Stop cancels running jobs' context and waits for them to return.
func (s *Scheduler) Stop() {
	s.cancel()
	<-s.cron.Stop().Done()
}

type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
