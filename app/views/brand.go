package views

import (
	"github.com/spiffy/spiffy/app/brand"
	"github.com/spiffy/spiffy/store"
)

// Settings → Brand, and the brand every page and mail carries.

// Brand reads the program owner's brand as stored (zero when none is set).
func (r *Reader) Brand() (*store.Brand, error) {
	return store.Read(r.db, func(tx *store.Tx) (*store.Brand, error) { return tx.Brand() })
}

// BrandLogo reads the logo (store.ErrNotFound when there is none).
func (r *Reader) BrandLogo() (*brand.Logo, error) {
	return store.Read(r.db, brand.ReadLogo)
}
