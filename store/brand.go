package store

import (
	"errors"
	"time"
)

// Brand is the program owner's brand, set in Settings → Brand: what the
// portal, the sign-in pages, /join and mail show instead of Spiffy's. The
// zero Brand is "not set": callers fall back to their defaults.
type Brand struct {
	Name         string    `json:"name,omitempty"`          // the program owner's name
	Accent       string    `json:"accent,omitempty"`        // #rrggbb, lower case
	TermsURL     string    `json:"terms_url,omitempty"`     // https only
	SupportEmail string    `json:"support_email,omitempty"` // where affiliates write to
	LogoType     string    `json:"logo_type,omitempty"`     // the logo's sniffed media type; "" = no logo
	LogoETag     string    `json:"logo_etag,omitempty"`     // a hash of the logo's bytes
	LogoSize     int       `json:"logo_size,omitempty"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// HasLogo reports whether a logo is stored.
func (b *Brand) HasLogo() bool { return b.LogoType != "" }

// Brand reads the brand (a zero Brand when none is set).
func (tx *Tx) Brand() (*Brand, error) {
	var b Brand
	if err := tx.getJSON(brandKey(), &b); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	return &b, nil
}

// PutBrand keeps the brand's settings. logo replaces the stored logo when
// not nil; an empty, non-nil logo removes it (the caller sets b's Logo
// fields to match).
func (tx *Tx) PutBrand(b *Brand, logo []byte) error {
	switch {
	case logo == nil:
	case len(logo) == 0:
		tx.del(brandLogoKey())
	default:
		tx.set(brandLogoKey(), logo)
	}
	return tx.setJSON(brandKey(), b)
}

// BrandLogo reads the logo's bytes (ErrNotFound when there is none).
func (tx *Tx) BrandLogo() ([]byte, error) { return tx.get(brandLogoKey()) }
