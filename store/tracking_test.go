package store

import (
	"slices"
	"testing"
	"time"
)

// TestLinkLeadPurchaseMovesNoKeys: LinkLeadPurchase rewrites only the
// record, which is right only while no key derived from a lead depends on
// its purchase.
func TestLinkLeadPurchaseMovesNoKeys(t *testing.T) {
	db := openTest(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := &Lead{ID: NewID(at), ProgramID: NewID(at), AffiliateID: NewID(at), Email: "Pat@Example.com", Name: "Pat", CreatedAt: at}
	if err := db.Update(func(tx *Tx) error { return tx.InsertLead(l) }); err != nil {
		t.Fatal(err)
	}
	linked := *l
	linked.PurchaseID = NewID(at)
	keys := func(l *Lead) []string {
		var ks []string
		for _, d := range l.derived() {
			ks = append(ks, string(d.k)+"="+string(d.v))
		}
		return ks
	}
	if !slices.Equal(keys(l), keys(&linked)) {
		t.Fatalf("a lead's derived keys depend on its purchase:\n%q\n%q", keys(l), keys(&linked))
	}
	purchase := linked.PurchaseID
	if err := db.Update(func(tx *Tx) error {
		cur, err := tx.Lead(l.ID)
		if err != nil {
			return err
		}
		tx.LinkLeadPurchase(cur, purchase)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(tx *Tx) error {
		got, err := tx.LeadByEmail(l.ProgramID, "pat@example.com")
		if err != nil {
			return err
		}
		if got.PurchaseID != purchase || got.Name != "Pat" {
			t.Errorf("lead after the link: %+v", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
