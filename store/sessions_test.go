package store

import (
	"testing"
	"time"
)

func TestSessionsEndByAccountAndExpire(t *testing.T) {
	db := openTest(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	admin, other := NewID(now), NewID(now)
	sessions := []*Session{
		{ID: "aa01", Kind: "admin", AccountID: admin, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{ID: "aa02", Kind: "admin", AccountID: admin, CreatedAt: now, ExpiresAt: now.Add(2 * time.Hour)},
		{ID: "bb01", Kind: "admin", AccountID: other, CreatedAt: now, ExpiresAt: now.Add(3 * time.Hour)},
		// The same account id on the other side is another account.
		{ID: "cc01", Kind: "affiliate", AccountID: admin, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
	}
	if err := db.Update(func(tx *Tx) error {
		for _, s := range sessions {
			if err := tx.PutSession(s); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var expired []string
	if err := db.View(func(tx *Tx) (err error) { expired, err = tx.ExpiredSessions(now.Add(90*time.Minute), 10); return }); err != nil {
		t.Fatal(err)
	}
	if len(expired) != 2 || expired[0] != "aa01" && expired[0] != "cc01" {
		t.Fatalf("expired at +90m: %v, want aa01 and cc01", expired)
	}
	var n int
	if err := db.Update(func(tx *Tx) (err error) { n, err = tx.DeleteAccountSessions("admin", admin); return }); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("deleted %d sessions, want 2", n)
	}
	err := db.View(func(tx *Tx) error {
		for id, want := range map[string]bool{"aa01": false, "aa02": false, "bb01": true, "cc01": true} {
			_, err := tx.Session(id)
			if got := err == nil; got != want {
				t.Errorf("session %s exists: %v, want %v (%v)", id, got, want, err)
			}
		}
		left, err := tx.ExpiredSessions(now.Add(24*time.Hour), 10)
		if len(left) != 2 {
			t.Errorf("expiry index after delete: %v, want bb01 and cc01", left)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMailLeavesDueIndexWhenSent(t *testing.T) {
	db := openTest(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m := &Mail{ID: NewID(now), Kind: "invite", To: "a@example.com", Status: MailQueued, NextAttemptAt: now, CreatedAt: now}
	later := &Mail{ID: NewID(now), Kind: "invite", To: "b@example.com", Status: MailQueued, NextAttemptAt: now.Add(time.Minute), CreatedAt: now}
	if err := db.Update(func(tx *Tx) error {
		if err := tx.PutMail(m); err != nil {
			return err
		}
		return tx.PutMail(later)
	}); err != nil {
		t.Fatal(err)
	}
	due := func(at time.Time) []string {
		var ids []string
		if err := db.View(func(tx *Tx) (err error) { ids, err = tx.DueMails(at, 10); return }); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := due(now); len(got) != 1 || got[0] != m.ID {
		t.Fatalf("due now: %v, want only %s", got, m.ID)
	}
	m.Status = MailSent
	if err := db.Update(func(tx *Tx) error { return tx.PutMail(m) }); err != nil {
		t.Fatal(err)
	}
	if got := due(now.Add(time.Hour)); len(got) != 1 || got[0] != later.ID {
		t.Fatalf("due after sending one: %v, want only %s", got, later.ID)
	}
	var recent []*Mail
	if err := db.View(func(tx *Tx) (err error) { recent, err = tx.RecentMails(10); return }); err != nil {
		t.Fatal(err)
	}
	if len(recent) != 2 || recent[0].ID != later.ID {
		t.Fatalf("recent: %d mails, first %v; want 2, newest first", len(recent), recent)
	}
}
