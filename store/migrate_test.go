package store

import (
	"fmt"
	"testing"
	"time"
)

func TestNewDataDirStartsAtTheCurrentSchema(t *testing.T) {
	db := openTest(t)
	v, err := db.schemaVersion()
	if err != nil || v != SchemaVersion() {
		t.Fatalf("schema %d (%v), want %d", v, err, SchemaVersion())
	}
}

func TestOldDataDirIsMigratedAndNewerRefused(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	l := &Lead{ID: NewID(now), ProgramID: NewID(now), AffiliateID: NewID(now), Email: "a@example.com", CreatedAt: now}
	if err := db.Update(func(tx *Tx) error { return tx.InsertLead(l) }); err != nil {
		t.Fatal(err)
	}
	// Pretend the data was written by version 1: migrations must run again
	// and leave the lead findable through its derived keys.
	if err := db.setSchemaVersion(1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := db.schemaVersion(); v != SchemaVersion() {
		t.Fatalf("schema %d after migrating", v)
	}
	if err := db.View(func(tx *Tx) error { _, err := tx.LeadByEmail(l.ProgramID, "A@example.com"); return err }); err != nil {
		t.Fatalf("lead lost by migration: %v", err)
	}
	if err := db.setSchemaVersion(SchemaVersion() + 1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(Options{Dir: dir}); err == nil {
		db.Close()
		t.Fatal("a data dir from a newer spiffy was opened")
	}
}

// TestPurchaseStatusIndexMigration: data written before the status index
// (schema 6) gets it at Open, the same keys the live path writes, and the
// status filter finds a refunded purchase through it.
func TestPurchaseStatusIndexMigration(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	prg := NewID(now)
	var refunded string
	for i := range 2500 { // more than one chunk of the migration
		at := now.Add(-time.Duration(i) * time.Second)
		p := &Purchase{ID: NewID(at), OrderID: fmt.Sprint("o", i), ProgramID: prg, Email: fmt.Sprintf("p%d@example.com", i),
			Amount: 1000, Currency: "USD", Status: "paid", PurchasedAt: at, CreatedAt: at}
		err := db.Update(func(tx *Tx) error {
			if err := tx.InsertPurchase(p); err != nil || i != 1234 {
				return err
			}
			r := *p
			r.Status, r.RefundedAt, refunded = "refunded", now, p.ID
			return tx.UpdatePurchase(&r)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := dumpDerived(t, db)
	if err := db.bdb.DropPrefix([]byte(iPurchaseByStatus)); err != nil {
		t.Fatal(err)
	}
	if err := db.setSchemaVersion(6); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := dumpDerived(t, db); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("migrated keys differ from the live path's (%d keys, want %d)", len(got), len(want))
	}
	err = db.View(func(tx *Tx) error {
		ps, next, err := tx.Purchases(PurchaseQuery{Status: "refunded"})
		if err != nil || len(ps) != 1 || ps[0].ID != refunded || next != "" {
			t.Errorf("refunded purchases after migration: %d, next %q, err %v; want the one refunded", len(ps), next, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
