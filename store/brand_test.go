package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// The brand and its logo: kept, replaced, removed, and carried by a
// backup like every other record.
func TestBrandKeptRemovedAndBackedUp(t *testing.T) {
	db := openTest(t)
	read := func(db *DB) (*Brand, []byte) {
		t.Helper()
		var b *Brand
		var logo []byte
		err := db.View(func(tx *Tx) (err error) {
			if b, err = tx.Brand(); err != nil {
				return err
			}
			logo, err = tx.BrandLogo()
			if errors.Is(err, ErrNotFound) {
				logo, err = nil, nil
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return b, logo
	}
	if b, logo := read(db); *b != (Brand{}) || logo != nil {
		t.Fatalf("an empty store has brand %+v, logo %d bytes", b, len(logo))
	}
	at := time.Date(2026, 3, 14, 8, 30, 0, 0, time.UTC)
	want := Brand{Name: "Acme", Accent: "#0b7285", LogoType: "image/png", LogoETag: "abc", LogoSize: 3, UpdatedAt: at}
	if err := db.Update(func(tx *Tx) error { return tx.PutBrand(&want, []byte{1, 2, 3}) }); err != nil {
		t.Fatal(err)
	}
	// A nil logo keeps the stored one.
	want.Name = "Acme Inc"
	if err := db.Update(func(tx *Tx) error { return tx.PutBrand(&want, nil) }); err != nil {
		t.Fatal(err)
	}
	if b, logo := read(db); *b != want || !bytes.Equal(logo, []byte{1, 2, 3}) {
		t.Fatalf("brand %+v, logo %v", b, logo)
	}

	var backup bytes.Buffer
	if err := db.Backup(&backup); err != nil {
		t.Fatal(err)
	}
	dst := openTest(t)
	if err := dst.Restore(&backup); err != nil {
		t.Fatal(err)
	}
	if b, logo := read(dst); *b != want || !bytes.Equal(logo, []byte{1, 2, 3}) {
		t.Fatalf("restored brand %+v, logo %v", b, logo)
	}

	// An empty logo removes it.
	want.LogoType, want.LogoETag, want.LogoSize = "", "", 0
	if err := db.Update(func(tx *Tx) error { return tx.PutBrand(&want, []byte{}) }); err != nil {
		t.Fatal(err)
	}
	if b, logo := read(db); b.HasLogo() || logo != nil {
		t.Fatalf("after removing: %+v, logo %v", b, logo)
	}
}
