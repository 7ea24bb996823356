package ui

import (
	"bytes"
	"html"
	"image"
	"image/color"
	"image/png"
	"math/rand"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app/brand"
	"github.com/spiffy/spiffy/app/mail/mailtest"
	"github.com/spiffy/spiffy/store"
)

// Settings → Brand: the form round trip, the logo and stylesheet
// endpoints, and the brand on every page and mail the affiliates see.

// testPNG is a w×h PNG; noisy pixels make it incompressible (for a file
// over the size limit).
func testPNG(t *testing.T, w, h int, noisy bool) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rnd := rand.New(rand.NewSource(1))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{11, 114, 133, 255}
			if noisy {
				c = color.RGBA{uint8(rnd.Intn(256)), uint8(rnd.Intn(256)), uint8(rnd.Intn(256)), 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload is a file field of a multipart form; contentType is what the
// browser claims, which the server must not trust.
type upload struct {
	name, contentType string
	data              []byte
}

// submitMultipart posts fields (and a logo) as multipart/form-data with
// the CSRF token of formPath.
func (b *browser) submitMultipart(formPath, action string, fields url.Values, file *upload) page {
	b.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fields.Set("csrf", b.csrf(formPath))
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	if file != nil {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{`form-data; name="logo"; filename="` + file.name + `"`}
		h["Content-Type"] = []string{file.contentType}
		part, err := w.CreatePart(h)
		if err != nil {
			b.t.Fatal(err)
		}
		part.Write(file.data)
	}
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+action, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

func (b *browser) getWith(path string, header ...string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func acmeBrandFields() url.Values {
	return url.Values{"name": {"Acme Outdoor"}, "accent": {"#FFD43B"}, "terms_url": {"https://acme.example/partner-terms"},
		"support_email": {"partners@acme.example"}}
}

// storedBrand reads the brand and the logo's bytes straight from the store.
func storedBrand(t *testing.T, b *browser) (*store.Brand, []byte) {
	t.Helper()
	br, err := b.env.App.Views().Brand()
	if err != nil {
		t.Fatal(err)
	}
	l, err := b.env.App.Views().BrandLogo()
	if err != nil {
		return br, nil
	}
	return br, l.Data
}

func TestBrandSettingsRoundTripLogoAndStylesheet(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	expectBody(t, b.get("/settings/brand"), "No logo yet", `placeholder="spiffy.test"`, `name="no_accent" value="yes" checked`)
	expectStatus(t, b.get("/brand/logo"), http.StatusNotFound)

	logo := testPNG(t, 120, 40, false)
	// The browser's claimed type is ignored: the bytes are a PNG.
	p := b.submitMultipart("/settings/brand", "/settings/brand", acmeBrandFields(), &upload{"logo.bin", "application/octet-stream", logo})
	expectStatus(t, p, http.StatusSeeOther)
	expectRedirect(t, p, "/settings/brand")
	page := b.get("/settings/brand")
	expectBody(t, page, "Your brand is saved", `value="Acme Outdoor"`, `type="color" name="accent" value="#ffd43b"`,
		`value="https://acme.example/partner-terms"`, `value="partners@acme.example"`, "Remove the logo", `<img src="/brand/logo?v=`)
	expectNotInBody(t, page, `name="no_accent" value="yes" checked`)

	br, stored := storedBrand(t, b)
	if br.Name != "Acme Outdoor" || br.Accent != "#ffd43b" || br.LogoType != "image/png" || br.LogoSize != len(logo) || !bytes.Equal(stored, logo) {
		t.Fatalf("stored brand %+v (logo %d bytes)", br, len(stored))
	}

	// The logo: its type sniffed, an ETag, 304 when the client has it,
	// cached for good under its versioned URL.
	l := b.get("/brand/logo")
	expectStatus(t, l, http.StatusOK)
	etag := l.Header.Get("ETag")
	if l.Header.Get("Content-Type") != "image/png" || etag != `"`+br.LogoETag+`"` || l.Body != string(logo) ||
		l.Header.Get("X-Content-Type-Options") != "nosniff" || l.Header.Get("Cache-Control") != "public, no-cache" {
		t.Fatalf("logo answer: %v", l.Header)
	}
	expectStatus(t, b.getWith("/brand/logo", "If-None-Match", etag), http.StatusNotModified)
	expectStatus(t, b.getWith("/brand/logo", "If-None-Match", `"other", W/`+etag), http.StatusNotModified)
	expectStatus(t, b.getWith("/brand/logo", "If-None-Match", `"other"`), http.StatusOK)
	if cc := b.get("/brand/logo?v=" + br.LogoETag).Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Fatalf("versioned logo Cache-Control %q", cc)
	}

	// The accent's stylesheet: buttons in the accent with readable text
	// (black on this yellow), links darkened until they read on white.
	css := b.get("/brand.css")
	expectStatus(t, css, http.StatusOK)
	c := brand.Derive("#ffd43b")
	expectBody(t, css, "--primary: "+c.Text, ".btn-primary { background: #ffd43b; border-color: #ffd43b; color: #000000; }")
	if brand.Contrast(c.Text, "#ffffff") < 4.5 || brand.Contrast(c.Text, c.Tint) < 4.5 || brand.Contrast(c.OnHover, c.Hover) < 4.5 {
		t.Fatalf("colours of #ffd43b lose contrast: %+v", c)
	}
	expectStatus(t, b.getWith("/brand.css", "If-None-Match", css.Header.Get("ETag")), http.StatusNotModified)
	expectBody(t, b.get("/portal/login"), `<link rel="stylesheet" href="/brand.css?v=`)

	// Removing the logo; keeping Spiffy's colours.
	f := acmeBrandFields()
	f.Set("remove_logo", "yes")
	f.Set("no_accent", "yes")
	expectStatus(t, b.submitMultipart("/settings/brand", "/settings/brand", f, nil), http.StatusSeeOther)
	expectStatus(t, b.get("/brand/logo"), http.StatusNotFound)
	expectStatus(t, b.getWith("/brand/logo", "If-None-Match", etag), http.StatusNotFound)
	br, stored = storedBrand(t, b)
	if br.HasLogo() || stored != nil || br.Accent != "" || br.Name != "Acme Outdoor" {
		t.Fatalf("after removing: %+v, logo %d bytes", br, len(stored))
	}
	expectNotInBody(t, b.get("/portal/login"), "/brand.css", "/brand/logo")
	expectBody(t, b.get("/brand.css"), "No accent colour is set")
}

func TestBrandSettingsRefusesBadInputAndKeepsWhatIsStored(t *testing.T) {
	b := newBrowser(t)
	b.signInAdmin()
	logo := testPNG(t, 60, 20, false)
	expectStatus(t, b.submitMultipart("/settings/brand", "/settings/brand", acmeBrandFields(), &upload{"logo.png", "image/png", logo}), http.StatusSeeOther)
	before, beforeLogo := storedBrand(t, b)

	big := testPNG(t, 300, 300, true)
	if len(big) <= brand.MaxLogoBytes {
		t.Fatalf("test logo of %d bytes is not over the limit", len(big))
	}
	svg := []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
	gif := []byte("GIF89a\x01\x00\x01\x00") // a GIF header and nothing after
	cases := []struct {
		name   string
		field  string
		value  string
		file   *upload
		errMsg string
	}{
		{"name on two lines", "name", "Acme\nOutdoor", nil, "Use a single line of at most 80 characters."},
		{"name too long", "name", strings.Repeat("A", 81), nil, "Use a single line of at most 80 characters."},
		{"accent not hex", "accent", "red", nil, "Give the colour as #rrggbb"},
		{"accent short", "accent", "#12345", nil, "Give the colour as #rrggbb"},
		{"terms over http", "terms_url", "http://acme.example/terms", nil, "Give the full address of your terms, starting with https://."},
		{"terms javascript", "terms_url", "javascript:alert(1)", nil, "Give the full address of your terms, starting with https://."},
		{"terms no host", "terms_url", "https://", nil, "Give the full address of your terms, starting with https://."},
		{"support email", "support_email", "partners at acme", nil, "Give one email address"},
		{"support email with name", "support_email", "Acme <partners@acme.example>", nil, "Give one email address"},
		{"logo svg", "", "", &upload{"logo.svg", "image/svg+xml", svg}, "Upload a PNG, JPEG or GIF image"},
		{"logo text as png", "", "", &upload{"logo.png", "image/png", []byte("hello, I am not an image")}, "Upload a PNG, JPEG or GIF image"},
		{"logo truncated", "", "", &upload{"logo.gif", "image/gif", gif}, "The file is not a readable image."},
		{"logo empty", "", "", &upload{"logo.png", "image/png", []byte{}}, "The file is empty"},
		{"logo too large", "", "", &upload{"big.png", "image/png", big}, "The logo must be at most 256 KB."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{"name": {"Changed"}, "accent": {"#000000"}, "terms_url": {"https://changed.example/"}, "support_email": {"changed@example.com"}}
			if tc.field != "" {
				f.Set(tc.field, tc.value)
			}
			p := b.submitMultipart("/settings/brand", "/settings/brand", f, tc.file)
			expectStatus(t, p, http.StatusUnprocessableEntity)
			expectBody(t, p, `<p class="field-error">`+html.EscapeString(tc.errMsg))
			after, afterLogo := storedBrand(t, b)
			if *after != *before || !bytes.Equal(afterLogo, beforeLogo) {
				t.Fatalf("stored brand changed: %+v → %+v", before, after)
			}
		})
	}
	// The form keeps what was typed.
	f := acmeBrandFields()
	f.Set("terms_url", "ftp://acme.example/terms")
	expectBody(t, b.submitMultipart("/settings/brand", "/settings/brand", f, nil), `value="ftp://acme.example/terms"`, `value="Acme Outdoor"`)
	// Without the CSRF token: refused.
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/settings/brand", strings.NewReader("name=Evil"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	expectStatus(t, b.do(req), http.StatusForbidden)
	if after, _ := storedBrand(t, b); after.Name != "Acme Outdoor" {
		t.Fatalf("name changed without a token: %q", after.Name)
	}
}

var tagRe = regexp.MustCompile(`(?s)<[^>]*>`)

// visibleText is a page's text as a reader sees it (tags dropped).
func visibleText(body string) string { return html.UnescapeString(tagRe.ReplaceAllString(body, " ")) }

// spiffyOnlyPoweredBy fails when the page's text names Spiffy anywhere but
// in "Powered by Spiffy".
func spiffyOnlyPoweredBy(t *testing.T, what string, p page) {
	t.Helper()
	text := visibleText(p.Body)
	if !strings.Contains(text, "Powered by Spiffy") {
		t.Errorf("%s: no \"Powered by Spiffy\"", what)
	}
	if rest := strings.ReplaceAll(text, "Powered by Spiffy", ""); strings.Contains(rest, "Spiffy") {
		i := strings.Index(rest, "Spiffy")
		t.Errorf("%s names Spiffy outside \"Powered by\": …%s…", what, rest[max(0, i-80):min(len(rest), i+40)])
	}
}

func TestBrandOnPortalJoinAndSignInPages(t *testing.T) {
	s := newPortalScene(t)
	admin := s.fresh(t)
	admin.signInAdmin()
	expectStatus(t, admin.submitMultipart("/settings/brand", "/settings/brand", acmeBrandFields(),
		&upload{"logo.png", "image/png", testPNG(t, 80, 30, false)}), http.StatusSeeOther)
	br, _ := storedBrand(t, admin)
	logoTag := `<img class="brand-logo" src="/brand/logo?v=` + br.LogoETag + `" alt="">`
	branded := []string{"<span class=\"brand-name\">Acme Outdoor</span>", logoTag, `<link rel="stylesheet" href="/brand.css?v=`,
		`href="mailto:partners@acme.example"`, "Powered by Spiffy", "· Acme Outdoor</title>"}

	visitor := s.fresh(t)
	for _, path := range []string{"/portal/login", "/portal/forgot", "/join/" + s.shared.ID, "/login", "/forgot", "/portal/reset/bad-token", "/portal/no-such-page"} {
		p := visitor.get(path)
		if path == "/portal/no-such-page" {
			p = s.signIn(t, "alice@partners.example").get(path)
		}
		expectBody(t, p, branded...)
		spiffyOnlyPoweredBy(t, path, p)
	}
	// /join's terms box links to the terms, in a new tab.
	expectBody(t, visitor.get("/join/"+s.shared.ID),
		`the program's <a href="https://acme.example/partner-terms" target="_blank" rel="noopener noreferrer">terms</a>`)

	// The signed-in portal.
	alice := s.signIn(t, "alice@partners.example")
	for _, path := range []string{"/portal", "/portal/programs/" + s.shared.ID, "/portal/payouts", "/portal/webhooks"} {
		p := alice.get(path)
		expectStatus(t, p, http.StatusOK)
		expectBody(t, p, branded...)
		spiffyOnlyPoweredBy(t, path, p)
	}

	// No terms URL: the box reads as before, with no link.
	f := acmeBrandFields()
	f.Del("terms_url")
	expectStatus(t, admin.submitMultipart("/settings/brand", "/settings/brand", f, nil), http.StatusSeeOther)
	p := visitor.get("/join/" + s.shared.ID)
	expectBody(t, p, "I accept the program's terms and will promote it honestly.", logoTag)
}

func TestPortalWithoutBrandNamesTheOwnerNotSpiffy(t *testing.T) {
	s := newPortalScene(t)
	for _, p := range []page{s.fresh(t).get("/portal/login"), s.signIn(t, "alice@partners.example").get("/portal")} {
		expectBody(t, p, `<span class="brand-name">spiffy.test</span>`, `<span class="brand-mark" aria-hidden="true">S</span>`)
		expectNotInBody(t, p, "/brand.css", "/brand/logo", "mailto:")
		spiffyOnlyPoweredBy(t, "portal", p)
	}
}

func TestBrandInMail(t *testing.T) {
	srv := mailtest.Start(t)
	b := newMailBrowser(t, srv)
	b.signInAdmin()
	prg := b.env.Program("Acme Shop")
	expectStatus(t, b.submitMultipart("/settings/brand", "/settings/brand", acmeBrandFields(),
		&upload{"logo.png", "image/png", testPNG(t, 80, 30, false)}), http.StatusSeeOther)
	br, _ := storedBrand(t, b)
	expectBody(t, b.get("/settings/email"), "<td>Acme Outdoor</td>")

	jo := b.fresh()
	expectStatus(t, jo.submit("/join/"+prg.ID, "/join/"+prg.ID, url.Values{"name": {"Jo Joiner"}, "email": {"jo@partners.example"},
		"password": {"jo-password"}, "terms": {"on"}}), http.StatusSeeOther)
	m := srv.WaitFor("jo@partners.example", "We received your application to Acme Shop")
	if from := m.Header.Get("From"); !strings.Contains(from, "Acme Outdoor") {
		t.Errorf("From %q does not carry the brand's name", from)
	}
	for _, want := range []string{`<img src="http://spiffy.test/brand/logo?v=` + br.LogoETag + `"`, `alt="Acme Outdoor"`,
		"background:#ffd43b;color:#000000;", `href="mailto:partners@acme.example"`, "Powered by Spiffy"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("the HTML part lacks %q:\n%s", want, m.HTML)
		}
	}
	for _, want := range []string{"Acme Outdoor", "Questions? Write to partners@acme.example", "Powered by Spiffy"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the text part lacks %q:\n%s", want, m.Text)
		}
	}
	for _, part := range []string{m.Text, visibleText(m.HTML)} {
		if rest := strings.ReplaceAll(part, "Powered by Spiffy", ""); strings.Contains(rest, "Spiffy") {
			t.Errorf("the mail names Spiffy outside \"Powered by\":\n%s", part)
		}
	}
	// Links in mail take the accent, darkened until they read on white.
	expectStatus(t, b.submit("/settings/admins", "/settings/admins", url.Values{"email": {"colleague@shop.example.com"}}), http.StatusSeeOther)
	inv := srv.WaitFor("colleague@shop.example.com", "manage Acme Outdoor's affiliate program")
	if c := brand.Derive("#ffd43b"); !strings.Contains(inv.HTML, "color:"+c.Text+";") || brand.Contrast(c.Text, "#ffffff") < 4.5 {
		t.Errorf("the invite's links are not in %s:\n%s", c.Text, inv.HTML)
	}
	// The logo URL in the mail works for a mail client (no session).
	expectStatus(t, b.fresh().get("/brand/logo?v="+br.LogoETag), http.StatusOK)
}
