package brand

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// Every accent, however light or dark, gives colours whose text keeps a
// contrast of at least 4.5:1 with what is behind it.
func TestDerivedColoursKeepContrast(t *testing.T) {
	n := 0
	for r := 0; r < 256; r += 17 {
		for g := 0; g < 256; g += 17 {
			for b := 0; b < 256; b += 17 {
				accent := fmt.Sprintf("#%02x%02x%02x", r, g, b)
				c := Derive(accent)
				for _, pair := range [][2]string{{c.OnAccent, c.Accent}, {c.OnHover, c.Hover}, {c.Text, "#ffffff"}, {c.Text, c.Tint},
					{c.Strong, c.Tint}, {"#ffffff", c.Text}} {
					if got := Contrast(pair[0], pair[1]); got < 4.5 {
						t.Fatalf("accent %s: %s on %s has contrast %.2f (%+v)", accent, pair[0], pair[1], got, c)
					}
				}
				n++
			}
		}
	}
	if n != 16*16*16 {
		t.Fatalf("checked %d accents", n)
	}
	// Known answers: a dark accent keeps itself and takes white text; a
	// light one takes black text and is darkened for links.
	if c := Derive("#1b4f72"); c.Text != "#1b4f72" || c.OnAccent != "#ffffff" {
		t.Errorf("#1b4f72: %+v", c)
	}
	if c := Derive("#ffd43b"); c.OnAccent != "#000000" || c.Text == "#ffd43b" {
		t.Errorf("#ffd43b: %+v", c)
	}
	if got := Contrast("#000000", "#ffffff"); got < 20.99 || got > 21.01 {
		t.Errorf("black on white: %.3f, want 21", got)
	}
}

func encode(t *testing.T, enc func(*bytes.Buffer, image.Image) error, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := enc(&buf, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCheck(t *testing.T) {
	pngEnc := func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) }
	jpegEnc := func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) }
	// A PNG header that claims a huge image: refused by its size in pixels
	// before anything is decoded.
	huge := encode(t, pngEnc, 1, 1)
	copy(huge[16:24], []byte{0, 0, 0x27, 0x10, 0, 0, 0, 1}) // IHDR: width 10000, height 1
	binary.BigEndian.PutUint32(huge[29:33], crc32.ChecksumIEEE(huge[12:29]))
	if _, err := png.DecodeConfig(bytes.NewReader(huge)); err != nil {
		t.Fatalf("the huge PNG's header does not read: %v", err)
	}
	cases := []struct {
		name  string
		in    Input
		field string
	}{
		{"all empty", Input{}, ""},
		{"all set", Input{Name: " Acme ", Accent: "#0B7285", TermsURL: "https://acme.example/terms", SupportEmail: "help@acme.example",
			Logo: encode(t, pngEnc, 10, 10)}, ""},
		{"jpeg", Input{Logo: encode(t, jpegEnc, 10, 10)}, ""},
		{"name control char", Input{Name: "Acme\x07"}, "name"},
		{"name 81 runes", Input{Name: strings.Repeat("é", 81)}, "name"},
		{"name 80 runes", Input{Name: strings.Repeat("é", 80)}, ""},
		{"accent 3 digits", Input{Accent: "#fff"}, "accent"},
		{"accent named", Input{Accent: "teal"}, "accent"},
		{"accent not hex", Input{Accent: "#gggggg"}, "accent"},
		{"terms http", Input{TermsURL: "http://acme.example"}, "terms_url"},
		{"terms with user", Input{TermsURL: "https://user:pw@acme.example/"}, "terms_url"},
		{"terms too long", Input{TermsURL: "https://acme.example/" + strings.Repeat("a", MaxURL)}, "terms_url"},
		{"support no domain dot", Input{SupportEmail: "help@localhost"}, "support_email"},
		{"logo html", Input{Logo: []byte("<html><script>alert(1)</script></html>")}, "logo"},
		{"logo huge pixels", Input{Logo: huge}, "logo"},
		{"logo over limit", Input{Logo: append(encode(t, pngEnc, 1, 1), make([]byte, MaxLogoBytes)...)}, "logo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			err := Check(&in)
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field != "" && (err == nil || err.Field != tc.field):
				t.Fatalf("got %v, want a refusal of %s", err, tc.field)
			}
		})
	}
	in := Input{Name: "  Acme  ", Accent: " #0B7285 "}
	if Check(&in) != nil || in.Name != "Acme" || in.Accent != "#0b7285" {
		t.Fatalf("not cleaned: %+v", in)
	}
}
