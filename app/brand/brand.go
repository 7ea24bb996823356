package brand

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	_ "image/gif" // registers the decoders DecodeConfig checks logos with
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/fault"
	"github.com/spiffy/spiffy/app/text"
	"github.com/spiffy/spiffy/store"
)

// Limits of what Settings → Brand accepts.
const (
	MaxLogoBytes  = 256 << 10 // a logo fits one write, and a mail client fetches it quickly
	MaxLogoPixels = 4096      // per side
	MaxName       = 80
	MaxURL        = 2048
)

// logoTypes are the media types a logo may have, as http.DetectContentType
// names them.
var logoTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true}

// Input is what the Settings → Brand form sends. Logo is an uploaded
// file's bytes (nil: keep the stored logo); RemoveLogo drops it.
type Input struct {
	Name         string
	Accent       string
	TermsURL     string
	SupportEmail string
	Logo         []byte
	RemoveLogo   bool
}

// refuse is input refused, naming the form field at fault.
func refuse(field, code, msg string) *fault.Error { return fault.Invalid(field, code, "%s", msg) }

// Check cleans in (trims, lower-cases the colour) and reports the first
// field that is wrong, or nil. Every field may be empty: empty means "use
// the default".
func Check(in *Input) *fault.Error {
	raw := strings.TrimSpace(in.Name)
	in.Name = text.Clean(in.Name, 4*MaxName)
	if in.Name != raw || len([]rune(in.Name)) > MaxName {
		return refuse("name", "invalid_name", "Use a single line of at most 80 characters.")
	}
	in.Accent = strings.ToLower(strings.TrimSpace(in.Accent))
	if in.Accent != "" && !isHexColour(in.Accent) {
		return refuse("accent", "invalid_accent", "Give the colour as #rrggbb, for example #0b7285.")
	}
	in.TermsURL = strings.TrimSpace(in.TermsURL)
	if in.TermsURL != "" {
		u, err := url.Parse(in.TermsURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(in.TermsURL) > MaxURL {
			return refuse("terms_url", "invalid_terms_url", "Give the full address of your terms, starting with https://.")
		}
	}
	in.SupportEmail = strings.TrimSpace(in.SupportEmail)
	if s := in.SupportEmail; s != "" {
		addr, err := mail.ParseAddress(s)
		if err != nil || addr.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
			return refuse("support_email", "invalid_support_email", "Give one email address, such as partners@example.com.")
		}
	}
	if in.Logo != nil {
		if _, err := logoType(in.Logo); err != nil {
			return err
		}
	}
	return nil
}

// logoType sniffs the logo's media type from its bytes (what the browser
// said is ignored) and checks that it decodes as that image.
func logoType(b []byte) (string, *fault.Error) {
	if len(b) == 0 {
		return "", refuse("logo", "invalid_logo", "The file is empty.")
	}
	if len(b) > MaxLogoBytes {
		return "", refuse("logo", "logo_too_large", "The logo must be at most 256 KB.")
	}
	typ := http.DetectContentType(b)
	if !logoTypes[typ] {
		return "", refuse("logo", "invalid_logo_type", "Upload a PNG, JPEG or GIF image (SVG is not accepted).")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || "image/"+format != typ || cfg.Width < 1 || cfg.Height < 1 {
		return "", refuse("logo", "invalid_logo", "The file is not a readable image.")
	}
	if cfg.Width > MaxLogoPixels || cfg.Height > MaxLogoPixels {
		return "", refuse("logo", "invalid_logo", "The logo must be at most 4096 pixels wide and high.")
	}
	return typ, nil
}

// Put keeps a checked Input (see Check): the settings, and the logo when
// one was uploaded or removed.
func Put(tx *store.Tx, in *Input, now time.Time) error {
	b, err := tx.Brand()
	if err != nil {
		return err
	}
	b.Name, b.Accent, b.TermsURL, b.SupportEmail, b.UpdatedAt = in.Name, in.Accent, in.TermsURL, in.SupportEmail, now.UTC()
	var logo []byte
	switch {
	case in.Logo != nil:
		typ, ferr := logoType(in.Logo)
		if ferr != nil {
			return ferr
		}
		sum := sha256.Sum256(in.Logo)
		logo, b.LogoType, b.LogoETag, b.LogoSize = in.Logo, typ, hex.EncodeToString(sum[:8]), len(in.Logo)
	case in.RemoveLogo:
		logo, b.LogoType, b.LogoETag, b.LogoSize = []byte{}, "", "", 0
	}
	return tx.PutBrand(b, logo)
}

// Logo is the stored logo, as the logo endpoint serves it.
type Logo struct {
	Data []byte
	Type string
	ETag string // quoted, as the header carries it
}

// ReadLogo reads the logo (store.ErrNotFound when there is none).
func ReadLogo(tx *store.Tx) (*Logo, error) {
	b, err := tx.Brand()
	if err != nil {
		return nil, err
	}
	if !b.HasLogo() {
		return nil, store.ErrNotFound
	}
	data, err := tx.BrandLogo()
	if err != nil {
		return nil, err
	}
	return &Logo{Data: data, Type: b.LogoType, ETag: `"` + b.LogoETag + `"`}, nil
}

// DefaultName is the owner's name before Settings → Brand sets one:
// smtp.from's display name, else base_url's host.
func DefaultName(cfg config.Config) string {
	if cfg.SMTP.FromName != "" {
		return cfg.SMTP.FromName
	}
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "Spiffy"
}
