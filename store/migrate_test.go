package store

import (
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
