package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/embedded"
)

// Small page scripts (embedded/static/*.js), served from files rather than
// inline so that pages keep a script-src without 'unsafe-inline'. Each is
// versioned by a hash of its bytes, as the CSS is.

type script struct {
	body []byte
	hash string
}

func loadScripts() (map[string]script, error) {
	files, err := fs.Glob(embedded.FS, "static/*.js")
	if err != nil {
		return nil, err
	}
	out := make(map[string]script, len(files))
	for _, f := range files {
		b, err := fs.ReadFile(embedded.FS, f)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		out[path.Base(f)] = script{body: b, hash: hex.EncodeToString(sum[:4])}
	}
	return out, nil
}

// scriptURL is the versioned URL of a script; an unknown name fails the
// page's rendering (every page is rendered in a test).
func (r *renderer) scriptURL(name string) (string, error) {
	s, ok := r.scripts[name]
	if !ok {
		return "", fmt.Errorf("ui: no script %q in embedded/static", name)
	}
	return "/static/js/" + name + "?v=" + s.hash, nil
}

// serveScript serves GET /static/js/:name.
func (r *renderer) serveScript(c echo.Context) error {
	s, ok := r.scripts[c.Param("name")]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	if c.QueryParam("v") == s.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("ETag", `"`+s.hash+`"`)
	if c.Request().Header.Get("If-None-Match") == `"`+s.hash+`"` {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", s.body)
}
