package brand

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"

	"github.com/spiffy/spiffy/store"
)

// Paths of the brand's public endpoints (package ui serves them).
const (
	LogoPath = "/brand/logo"
	CSSPath  = "/brand.css"
)

// Spiffy's own accent, used when the owner sets none (the mail buttons'
// blue; the pages' indigo is in embedded/static/app.css).
const defaultMailAccent = "#3b5bdb"

// View is the brand as pages and mail show it.
type View struct {
	Name         string // the owner's name: the one set, else DefaultName
	TermsURL     string // "" = none set
	SupportEmail string // "" = none set
	LogoURL      string // a path with the logo's version ("" = no logo); mail prefixes base_url
	CSSURL       string // the accent's stylesheet with its version ("" = Spiffy's colours)
	Accent       string // "" = Spiffy's colours
	Colours      Colours
	cssHash      string
}

// Colours are the accent and the colours derived from it so that every
// text keeps a contrast of at least 4.5:1 with what is behind it.
type Colours struct {
	Accent   string // the owner's colour, as a background (buttons)
	OnAccent string // text on Accent: white or black, whichever reads
	Text     string // the accent as text and links on white and on Tint: darkened as far as needed
	Strong   string // a darker Text (emphasis on Tint)
	Hover    string // buttons on hover: Accent darkened
	OnHover  string // text on Hover
	Tint     string // a pale background (active tabs, badges)
}

// NewView is the brand pages and mail show: b's values, with defaultName
// (DefaultName) when it sets no name.
func NewView(b *store.Brand, defaultName string) View {
	v := View{Name: b.Name, TermsURL: b.TermsURL, SupportEmail: b.SupportEmail, Accent: b.Accent}
	if v.Name == "" {
		v.Name = defaultName
	}
	if b.HasLogo() {
		v.LogoURL = LogoPath + "?v=" + b.LogoETag
	}
	accent := b.Accent
	if !isHexColour(accent) {
		accent = defaultMailAccent
	}
	v.Colours = Derive(accent)
	if isHexColour(b.Accent) {
		sum := sha256.Sum256(v.CSS())
		v.cssHash = hex.EncodeToString(sum[:6])
		v.CSSURL = CSSPath + "?v=" + v.cssHash
	}
	return v
}

// Default is the brand before the owner sets one: Spiffy's colours and
// defaultName.
func Default(defaultName string) View { return NewView(&store.Brand{}, defaultName) }

// CSSETag is the accent stylesheet's ETag (quoted); "" without an accent.
func (v View) CSSETag() string {
	if v.cssHash == "" {
		return ""
	}
	return `"` + v.cssHash + `"`
}

// CSS is the stylesheet that puts the accent on the pages: it sets the
// custom properties embedded/static/app.css colours with. A file, not a
// style attribute, so a Content-Security-Policy without 'unsafe-inline'
// allows it. Empty without an accent.
func (v View) CSS() []byte {
	if !isHexColour(v.Accent) {
		return nil
	}
	c := v.Colours
	return []byte(fmt.Sprintf(`/* The program owner's accent (Settings → Brand). */
:root { --primary: %s; --primary-600: %s; --primary-50: %s; --accent: %s; --on-accent: %s; }
.btn-primary { background: %[4]s; border-color: %[4]s; color: %[5]s; }
.btn-primary:hover { background: %s; border-color: %[6]s; color: %s; }
.brand-mark { background: %[4]s; color: %[5]s; }
.public { background: radial-gradient(1200px 600px at 10%% -10%%, %[3]s 0, transparent 60%%), var(--bg); }
`, c.Text, c.Strong, c.Tint, c.Accent, c.OnAccent, c.Hover, c.OnHover))
}

// Derive computes the colours of an accent (#rrggbb).
func Derive(accent string) Colours {
	a := parseHex(accent)
	tint := a.mix(white, 0.9)
	// The darkest background accent text sits on: a tab's counter, the
	// tint under admin.css's 6% black (.tab-count).
	counter := tint.mix(black, 0.06)
	txt := a
	// Darken until it reads there (and so on the tint and white, lighter).
	for i := 0; contrast(txt, counter) < 4.5 && i < 40; i++ {
		txt = txt.mix(black, 0.08)
	}
	strong := txt.mix(black, 0.2)
	hover := a.mix(black, 0.15)
	return Colours{
		Accent: a.hex(), OnAccent: readableOn(a).hex(), Text: txt.hex(), Strong: strong.hex(),
		Hover: hover.hex(), OnHover: readableOn(hover).hex(), Tint: tint.hex(),
	}
}

// Contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func Contrast(a, b string) float64 { return contrast(parseHex(a), parseHex(b)) }

type rgb struct{ r, g, b float64 } // 0–255

var (
	white = rgb{255, 255, 255}
	black = rgb{0, 0, 0}
)

func isHexColour(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	_, err := strconv.ParseUint(s[1:], 16, 32)
	return err == nil
}

func parseHex(s string) rgb {
	if !isHexColour(s) {
		return black
	}
	n, _ := strconv.ParseUint(s[1:], 16, 32)
	return rgb{float64(n >> 16 & 0xff), float64(n >> 8 & 0xff), float64(n & 0xff)}
}

func (c rgb) hex() string {
	return fmt.Sprintf("#%02x%02x%02x", int(math.Round(c.r)), int(math.Round(c.g)), int(math.Round(c.b)))
}

// mix moves c towards d by f (0–1), rounded to whole channel values so
// what is shown is what was measured.
func (c rgb) mix(d rgb, f float64) rgb {
	m := func(x, y float64) float64 { return math.Round(x + (y-x)*f) }
	return rgb{m(c.r, d.r), m(c.g, d.g), m(c.b, d.b)}
}

// luminance is WCAG 2's relative luminance.
func (c rgb) luminance() float64 {
	ch := func(v float64) float64 {
		v /= 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(c.r) + 0.7152*ch(c.g) + 0.0722*ch(c.b)
}

func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// readableOn is white when it reads on bg (4.5:1), else black, which then
// always does: a background too light for white text is at least 4.6:1
// against black.
func readableOn(bg rgb) rgb {
	if contrast(white, bg) >= 4.5 {
		return white
	}
	return black
}
