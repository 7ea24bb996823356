package jobs

import (
	"context"
	"log/slog"
)

// SendMail sends the queued mail whose next attempt is due: retries, and
// anything a restart left behind (new mail goes out at once on its own).
type SendMail struct {
	Send func(ctx context.Context) error
}

// Name implements Job.
func (j *SendMail) Name() string { return "mail" }

// Run implements Job.
func (j *SendMail) Run(ctx context.Context) error { return j.Send(ctx) }

// SweepSessions deletes expired sign-in sessions and reset links.
type SweepSessions struct {
	Sweep func(ctx context.Context) (int, error)
	Log   *slog.Logger
}

// Name implements Job.
func (j *SweepSessions) Name() string { return "session_sweep" }

// Run implements Job.
func (j *SweepSessions) Run(ctx context.Context) error {
	n, err := j.Sweep(ctx)
	if n > 0 {
		j.Log.Debug("expired sessions swept", "count", n)
	}
	return err
}
