package store

import (
	"errors"
	"testing"
	"time"
)

func TestAccountsRevisionMovesWithAccountWrites(t *testing.T) {
	db := openTest(t)
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	prg := &Program{ID: NewID(now), Name: "P"}
	af := &Affiliate{ID: NewID(now), Name: "A", Email: "a@example.com"}
	other := &Affiliate{ID: NewID(now), Name: "B", Email: "b@example.com"}
	key := &APIKey{ID: NewID(now), Name: "checkout", Hash: "5e1f", CreatedAt: now}
	rev := func() int64 {
		t.Helper()
		var r int64
		if err := db.View(func(tx *Tx) (err error) { r, err = tx.AccountsRevision(); return }); err != nil {
			t.Fatal(err)
		}
		if mem := db.AccountsRevision(); mem != r {
			t.Fatalf("revision in memory %d, stored %d", mem, r)
		}
		return r
	}
	errBoom := errors.New("boom")
	steps := []struct {
		name  string
		write func(tx *Tx) error
		moves bool
	}{
		{"put program", func(tx *Tx) error { return tx.PutProgram(prg) }, true},
		{"put affiliate", func(tx *Tx) error { return tx.PutAffiliate(af) }, true},
		{"put enrollment", func(tx *Tx) error {
			return tx.PutEnrollment(&Enrollment{ProgramID: prg.ID, AffiliateID: af.ID, Code: "code"})
		}, true},
		{"update program", func(tx *Tx) error { prg.Name = "Q"; return tx.PutProgram(prg) }, true},
		{"failed operation", func(tx *Tx) error {
			if err := tx.PutAffiliate(other); err != nil {
				return err
			}
			return errBoom
		}, false},
		{"duplicate email refused", func(tx *Tx) error {
			return tx.PutAffiliate(&Affiliate{ID: NewID(now), Name: "C", Email: "A@example.com"})
		}, false},
		{"a click", func(tx *Tx) error {
			return tx.InsertClick(&Click{ID: NewID(now), ProgramID: prg.ID, AffiliateID: af.ID, CreatedAt: now})
		}, false},
		{"new api key", func(tx *Tx) error { return tx.PutAPIKey(key) }, true},
		{"api key used", func(tx *Tx) error { key.LastUsedAt = &now; return tx.PutAPIKey(key) }, false},
		{"api key revoked", func(tx *Tx) error { key.RevokedAt = &now; return tx.PutAPIKey(key) }, true},
	}
	for _, s := range steps {
		before := rev()
		_ = db.Update(s.write)
		if moved := rev() != before; moved != s.moves {
			t.Fatalf("%s: revision moved %v, want %v", s.name, moved, s.moves)
		}
	}
}

// TestAccountsRevisionSurvivesReopen: the in-memory copy starts from the
// stored counter.
func TestAccountsRevisionSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if err := db.Update(func(tx *Tx) error { return tx.PutProgram(&Program{ID: NewID(now), Name: "P"}) }); err != nil {
			t.Fatal(err)
		}
	}
	want := db.AccountsRevision()
	if want < 3 {
		t.Fatalf("revision %d after three programs", want)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.AccountsRevision(); got != want {
		t.Fatalf("revision %d after reopening, want %d", got, want)
	}
}
