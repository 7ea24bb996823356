package store

import (
	"fmt"
	"reflect"
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
	db = remigrate(t, db, dir, 6, iPurchaseByStatus)
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

// remigrate takes db (open on dir) back to schema version `from` by
// dropping the derived keys under prefixes that later migrations write,
// reopens it so they run, and checks that they wrote exactly the keys the
// live path had. It returns the reopened store, closed with the test.
func remigrate(t *testing.T, db *DB, dir string, from int, prefixes ...string) *DB {
	t.Helper()
	want := dumpDerived(t, db)
	for _, p := range prefixes {
		if err := db.bdb.DropPrefix([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.setSchemaVersion(from); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if got := dumpDerived(t, db); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("migrated keys differ from the live path's (%d keys, want %d)", len(got), len(want))
	}
	return db
}

// TestCommissionsMigration: data written before commissions (schema 3)
// gets, at Open, a sale commission for every attributed purchase (voided
// for a refunded one, pending until the default 30-day hold ends), across
// more than one chunk of the migration, and a second run adds none.
func TestCommissionsMigration(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	prg := &Program{ID: NewID(now), Name: "Shop"}
	if err := db.Update(func(tx *Tx) error { return tx.PutProgram(prg) }); err != nil {
		t.Fatal(err)
	}
	var purs []*Purchase
	for i := range 450 {
		at := now.Add(-time.Duration(i) * time.Minute)
		p := &Purchase{ID: NewID(at), OrderID: fmt.Sprint("o", i), ProgramID: prg.ID, Amount: 1000, Currency: "USD",
			Status: "paid", PurchasedAt: at, CreatedAt: at}
		if i%3 > 0 {
			p.AffiliateID, p.Commission = NewID(at), 100
		}
		if i%5 == 0 {
			p.Status, p.RefundedAt, p.RefundedAmount = "refunded", now, p.Amount
		}
		purs = append(purs, p)
		if err := db.Update(func(tx *Tx) error { return tx.InsertPurchase(p) }); err != nil {
			t.Fatal(err)
		}
	}
	reopenAt := func(version int) {
		t.Helper()
		if err := db.setSchemaVersion(version); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if db, err = Open(Options{Dir: dir}); err != nil {
			t.Fatal(err)
		}
	}
	for run := range 2 {
		reopenAt(3)
		err := db.View(func(tx *Tx) error {
			p, err := tx.Program(prg.ID)
			if err != nil || p.HoldDays != 30 {
				t.Errorf("run %d: program hold %v (%v), want 30 days", run, p, err)
			}
			for _, p := range purs {
				cs, err := tx.PurchaseCommissions(p.ID)
				if err != nil {
					return err
				}
				if p.AffiliateID == "" {
					if len(cs) != 0 {
						t.Errorf("run %d: unattributed purchase %s has %d commissions", run, p.OrderID, len(cs))
					}
					continue
				}
				want := Commission{PurchaseID: p.ID, ProgramID: prg.ID, AffiliateID: p.AffiliateID, Kind: CommissionSale,
					Amount: 100, Currency: "USD", Status: CommissionPending, ApproveAt: p.PurchasedAt.AddDate(0, 0, 30), CreatedAt: p.CreatedAt}
				if p.Status == "refunded" {
					want.Status = CommissionVoided
				}
				if len(cs) != 1 {
					t.Fatalf("run %d: purchase %s has %d commissions, want 1", run, p.OrderID, len(cs))
				}
				got := *cs[0]
				got.ID = ""
				if !reflect.DeepEqual(got, want) {
					t.Errorf("run %d: purchase %s: commission %+v, want %+v", run, p.OrderID, got, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
}
