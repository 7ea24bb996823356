package ui

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/brand"
)

// Settings → Brand (the program owner's name, logo, accent colour, terms
// and support email) and the brand's public endpoints: the logo and the
// accent's stylesheet, each with an ETag.

const routeSettingsBrand = "admin.settings.brand"

// brandForm is the Brand form; the logo arrives as the multipart file
// "logo".
type brandForm struct {
	Name         string `form:"name"`
	Accent       string `form:"accent"`
	NoAccent     string `form:"no_accent"` // checked: keep Spiffy's colours
	TermsURL     string `form:"terms_url"`
	SupportEmail string `form:"support_email"`
	RemoveLogo   string `form:"remove_logo"`
}

type brandSettingsView struct {
	Saved       brand.View // the brand in force (the logo preview)
	HasLogo     bool
	LogoSize    int
	DefaultName string // the name shown while none is set
	Form        brandForm
	AccentValue string // the colour input's value (it cannot be empty)
	Errors      FormErrors
}

// brandView is the brand every page and mail carries. A store failure
// shows Spiffy's defaults rather than no page.
func (u *UI) brandView() brand.View {
	name := brand.DefaultName(u.app.Config())
	b, err := u.app.Views().Brand()
	if err != nil {
		u.app.Log().Warn("ui: read the brand", "err", err)
		return brand.Default(name)
	}
	return brand.NewView(b, name)
}

func (u *UI) renderBrandSettings(c echo.Context, status int, f *brandForm, errs FormErrors) error {
	b, err := u.app.Views().Brand()
	if err != nil {
		return err
	}
	v := &brandSettingsView{
		Saved: brand.NewView(b, brand.DefaultName(u.app.Config())), HasLogo: b.HasLogo(), LogoSize: b.LogoSize,
		DefaultName: brand.DefaultName(u.app.Config()), Errors: errs,
	}
	if f == nil {
		f = &brandForm{Name: b.Name, Accent: b.Accent, TermsURL: b.TermsURL, SupportEmail: b.SupportEmail}
		if b.Accent == "" {
			f.NoAccent = "yes"
		}
	}
	v.Form, v.AccentValue = *f, f.Accent
	if len(v.AccentValue) != 7 || v.AccentValue[0] != '#' {
		v.AccentValue = "#4f46e5" // Spiffy's own, what the pages show without an accent
	}
	return u.adminPage(c, status, "admin/brand", "Brand", "settings", v)
}

func (u *UI) brandSettingsPage(c echo.Context) error {
	return u.renderBrandSettings(c, http.StatusOK, nil, nil)
}

func (u *UI) brandSave(c echo.Context) error {
	var f brandForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	in := brand.Input{Name: f.Name, Accent: f.Accent, TermsURL: f.TermsURL, SupportEmail: f.SupportEmail, RemoveLogo: f.RemoveLogo != ""}
	if f.NoAccent != "" {
		in.Accent = ""
	}
	logo, err := uploadedFile(c, "logo", brand.MaxLogoBytes)
	if err != nil {
		return err
	}
	in.Logo = logo
	err = u.app.SetBrand(in)
	if err == nil {
		u.admin.flash(c, "success", "Your brand is saved. The portal, sign-in pages, join pages and mail now carry it.")
		return redirectTo(c, routeSettingsBrand)
	}
	fe, err := formErrors(err)
	if err != nil {
		return err
	}
	if _, ok := fe["logo"]; !ok && logo != nil {
		fe["logo"] = "Nothing was saved: choose the logo again when you send the form."
	}
	return u.renderBrandSettings(c, http.StatusUnprocessableEntity, &f, fe)
}

// uploadedFile reads a multipart file field: nil when none was chosen,
// and at most max+1 bytes, so a file over the limit is refused by its
// size without being read whole.
func uploadedFile(c echo.Context, field string, max int64) ([]byte, error) {
	fh, err := c.FormFile(field)
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		return nil, nil
	}
	if err != nil {
		return nil, app.Invalid(field, "invalid_upload", "the upload could not be read")
	}
	if fh.Size == 0 && fh.Filename == "" {
		return nil, nil // the file input left empty
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// brandLogo serves the logo. Its URL carries the logo's hash (?v=), so a
// versioned request is cached for good; others revalidate with the ETag.
func (u *UI) brandLogo(c echo.Context) error {
	l, err := u.app.Views().BrandLogo()
	if errors.Is(err, app.ErrNotFound) {
		return app.NotFound("logo_not_found", "no logo is set")
	}
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	// An image needs nothing else; should a browser ever treat it as a
	// document, it may run nothing.
	h.Set("Content-Security-Policy", "default-src 'none'")
	return serveVersioned(c, l.ETag, l.Type, l.Data)
}

// brandCSS serves the accent's stylesheet (empty without an accent).
func (u *UI) brandCSS(c echo.Context) error {
	v := u.brandView()
	css, etag := v.CSS(), v.CSSETag()
	if css == nil {
		css, etag = []byte("/* No accent colour is set: Spiffy's colours apply. */\n"), `"none"`
	}
	return serveVersioned(c, etag, "text/css; charset=utf-8", css)
}

// serveVersioned answers a GET of content whose URL may carry its ETag
// as ?v=: 304 when the client holds it, else the body.
func serveVersioned(c echo.Context, etag, contentType string, body []byte) error {
	h := c.Response().Header()
	if v := c.QueryParam("v"); v != "" && `"`+v+`"` == etag {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, no-cache")
	}
	h.Set("ETag", etag)
	if etagMatches(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, contentType, body)
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 13.1.2).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
