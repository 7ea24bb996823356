package jobs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
)

// The sweep, run by name as the scheduler would, deletes the sessions that
// have expired and keeps the others.
func TestSessionSweepJob(t *testing.T) {
	// Sessions follow their own clock (real time unless set): this test's.
	clock := &apptest.Clock{}
	clock.Set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	env := apptest.New(t)
	a, err := app.New(app.Options{Config: env.Config, Store: env.DB, Log: env.App.Log(), Clock: clock, SessionClock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	env.App, env.Clock = a, clock
	adm, err := env.App.CreateAdmin("owner@shop.example.com", "correct-horse")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.StartSession(app.SessionAdmin, adm.ID); err != nil {
		t.Fatal(err)
	}
	env.Clock.Add(6 * 24 * time.Hour)
	fresh, err := env.App.StartSession(app.SessionAdmin, adm.ID)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(env.App.Log(), Default(Deps{Config: env.Config, Store: env.DB, Clock: env.Clock, Log: env.App.Log(),
		SweepSessions: env.App.SweepSessions}))
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Add(2 * 24 * time.Hour) // the first session is 8 days old, the second 2
	if err := s.RunNow(context.Background(), "session_sweep"); err != nil {
		t.Fatal(err)
	}
	if n, err := env.App.AccountSessions(app.SessionAdmin, adm.ID); err != nil || n != 1 {
		t.Fatalf("%d sessions left (%v), want 1", n, err)
	}
	if id, err := env.App.SessionAccount(app.SessionAdmin, fresh); err != nil || id != adm.ID {
		t.Fatalf("the fresh session: %q %v", id, err)
	}
	env.Clock.Add(6 * 24 * time.Hour)
	if _, err := env.App.SessionAccount(app.SessionAdmin, fresh); !errors.Is(err, app.ErrUnauthorized) {
		t.Fatalf("an expired session still signs in: %v", err)
	}
}
