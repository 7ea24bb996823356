package store

import (
	"testing"
	"time"
)

// TestNames: ids become names, a missing record has none, and a name once
// read is not read again even after its record changes.
func TestNames(t *testing.T) {
	db := openTest(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := &Program{ID: NewID(now), Name: "Shop", CreatedAt: now}
	af := &Affiliate{ID: NewID(now), Name: "Ann", Email: "ann@example.com", Status: "active", CreatedAt: now}
	if err := db.Update(func(tx *Tx) error {
		if err := tx.PutProgram(p); err != nil {
			return err
		}
		return tx.PutAffiliate(af)
	}); err != nil {
		t.Fatal(err)
	}
	n := db.Names()
	if got := n.Program(p.ID); got != "Shop" {
		t.Errorf("program name %q", got)
	}
	if got := n.Affiliate(af.ID); got != "Ann" {
		t.Errorf("affiliate name %q", got)
	}
	if got := n.Affiliate(""); got != "" {
		t.Errorf("no affiliate: %q", got)
	}
	if got := n.Program(NewID(now)); got != "" {
		t.Errorf("missing program: %q", got)
	}
	af.Name = "Ann Renamed"
	if err := db.Update(func(tx *Tx) error { return tx.PutAffiliate(af) }); err != nil {
		t.Fatal(err)
	}
	if got := n.Affiliate(af.ID); got != "Ann" {
		t.Errorf("cached name %q, want the one read first", got)
	}
	err := db.View(func(tx *Tx) error {
		if got := tx.Names().Affiliate(af.ID); got != "Ann Renamed" {
			t.Errorf("a new cache reads %q", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
