package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/brand"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/embedded"
)

// Templates live in embedded/templates:
//   layout/*.html   shared layouts ("admin", "portal", "public") and partials,
//                   parsed into every page;
//   <area>/<page>.html   one file per page, named by its path without ".html"
//                   ("admin/programs", "portal/home", "error").
// A page file defines "title" and "content" and starts with
// {{template "admin" .}} (or "portal", "public"). Every page is parsed at
// boot, so a broken template stops the server from starting, not a visitor.

type renderer struct {
	// brand reads the owner's brand that every page carries (ui.brandView;
	// nil: Spiffy's defaults).
	brand func() brand.View
	pages map[string]*template.Template
	// css is every embedded/static/*.css concatenated in name order, so each
	// feature can keep its styles in its own file; js likewise the pages'
	// scripts (static/*.js), which are never inline: the pages' CSP allows
	// scripts from 'self' only.
	css, js *asset
}

func newRenderer(funcs template.FuncMap) (*renderer, error) {
	r := &renderer{pages: map[string]*template.Template{}}
	var err error
	if r.css, err = loadAsset("/static/spiffy.css", "static/*.css", "text/css; charset=utf-8"); err != nil {
		return nil, err
	}
	if r.js, err = loadAsset("/static/ui.js", "static/*.js", "text/javascript; charset=utf-8"); err != nil {
		return nil, err
	}
	funcs["cssURL"] = r.css.url
	funcs["jsURL"] = r.js.url
	layouts, err := fs.Glob(embedded.FS, "templates/layout/*.html")
	if err != nil {
		return nil, err
	}
	base := template.New("base").Funcs(funcs)
	for _, l := range layouts {
		if _, err := base.ParseFS(embedded.FS, l); err != nil {
			return nil, fmt.Errorf("ui: parse %s: %w", l, err)
		}
	}
	err = fs.WalkDir(embedded.FS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") || strings.HasPrefix(p, "templates/layout/") {
			return err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		t, err := base.Clone()
		if err != nil {
			return err
		}
		if _, err := t.ParseFS(embedded.FS, p); err != nil {
			return fmt.Errorf("ui: parse %s: %w", p, err)
		}
		r.pages[name] = t
		return nil
	})
	return r, err
}

// asset is one static file the pages link to, built from the embedded
// files matching a pattern, concatenated in name order and versioned by a
// hash of its bytes so it can be cached for good.
type asset struct {
	path, contentType string
	body              []byte
	hash              string
}

func loadAsset(urlPath, pattern, contentType string) (*asset, error) {
	files, err := fs.Glob(embedded.FS, pattern)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("ui: no embedded %s", pattern)
	}
	sort.Strings(files)
	var buf bytes.Buffer
	for _, f := range files {
		b, err := fs.ReadFile(embedded.FS, f)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&buf, "/* %s */\n", path.Base(f))
		buf.Write(b)
		buf.WriteByte('\n')
	}
	sum := sha256.Sum256(buf.Bytes())
	return &asset{path: urlPath, contentType: contentType, body: buf.Bytes(), hash: hex.EncodeToString(sum[:4])}, nil
}

// url is the asset's versioned URL, for the templates.
func (a *asset) url() string { return a.path + "?v=" + a.hash }

// PageNames lists every page template, for the test that renders them all.
func (r *renderer) pageNames() []string {
	names := make([]string, 0, len(r.pages))
	for n := range r.pages {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// View is what every page template receives as ".".
type View struct {
	Title     string
	Nav       string // the active menu item
	CSRF      string
	Flashes   []Flash
	Admin     *app.Admin
	Affiliate *app.Affiliate
	BaseURL   string
	Path      string
	// Brand is the program owner's brand (Settings → Brand), set by render.
	Brand brand.View
	// Data is the page's own view model.
	Data any
}

// fillBrand gives the page the owner's brand (Spiffy's defaults without a
// reader, as in template tests).
func (r *renderer) fillBrand(v *View) {
	switch {
	case r.brand != nil:
		v.Brand = r.brand()
	case v.Brand.Name == "":
		v.Brand = brand.Default("Spiffy")
	}
}

func (r *renderer) render(c echo.Context, status int, page string, v *View) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("ui: no template %q", page)
	}
	r.fillBrand(v)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, path.Base(page)+".html", v); err != nil {
		return fmt.Errorf("ui: render %s: %w", page, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// serve answers the asset; with its current version in the URL it may be
// cached for good.
func (a *asset) serve(c echo.Context) error {
	h := c.Response().Header()
	if c.QueryParam("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("ETag", `"`+a.hash+`"`)
	if c.Request().Header.Get("If-None-Match") == `"`+a.hash+`"` {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, a.contentType, a.body)
}

// Every page writes dates one way, ISO 8601 in UTC: isoDate, and
// isoDateTime where the time matters; chart axes, short of room, drop the
// year (isoMonthDay).
const (
	isoDate     = "2006-01-02"
	isoDateTime = "2006-01-02 15:04"
	isoMonthDay = "01-02"
)

// templateFuncs are the helpers available in every template.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"money": money.Display, // "$1,234.50": HTML only; files and the API keep decimals
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(isoDate)
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(isoDateTime)
		},
		"rfc3339": app.RFC3339,
		"commission": func(p *app.Program) string {
			if p.CommissionType == app.CommissionFlat {
				return money.Display(p.CommissionValue, p.Currency)
			}
			return money.FormatPercent(p.CommissionValue) + "%"
		},
		// query builds "?k=v&…" from pairs, skipping empty values.
		"query": func(pairs ...string) template.URL {
			q := url.Values{}
			for i := 0; i+1 < len(pairs); i += 2 {
				if pairs[i+1] != "" {
					q.Set(pairs[i], pairs[i+1])
				}
			}
			if len(q) == 0 {
				return ""
			}
			return template.URL("?" + q.Encode())
		},
		"add": func(a, b int) int { return a + b },
		// initial is a name's first letter, capitalised: the mark shown
		// when the owner has no logo.
		"initial": func(name string) string {
			for _, r := range name {
				return strings.ToUpper(string(r))
			}
			return ""
		},
		"num": thousands, // 1234567 -> "1,234,567" (admin_data.go)
		// count is a number of things: "1 affiliate", "1,200 affiliates".
		"count": func(n int, word string) string { return countWord(int64(n), word) },
		"pct":   percentText, // 33.333 -> "33.3%" (admin_data.go)
		// dict builds a map for passing several values to a sub-template.
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
	}
}
