package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/embedded"
)

// queueStub defines window.spiffy before the script has loaded, keeping the
// calls in spiffy.q; SpiffyJS replays them once it runs.
const queueStub = `<script>window.spiffy=window.spiffy||function(){(window.spiffy.q=window.spiffy.q||[]).push(arguments)};</script>`

// InstallCode is the snippet merchants paste into every page of their site
// (shown at the bottom of Settings): the async SpiffyJS tag for baseURL and
// the one-line queue stub, so spiffy(...) calls made before the script
// loads are kept and replayed.
func InstallCode(baseURL string) string {
	src := html.EscapeString(strings.TrimRight(baseURL, "/") + "/spiffy.js")
	return `<script src="` + src + `" async></script>` + "\n" + queueStub
}

// SpiffyJS.

// scriptAsset is spiffy.js as configured, with its gzipped form and ETags,
// computed once.
type scriptAsset struct {
	body, gz     []byte
	etag, gzEtag string
}

// ScriptContentType is the Content-Type /spiffy.js is served with.
const ScriptContentType = "application/javascript"

// cookieDomainMark is where spiffy.js takes tracking.cookie_domain: the
// server writes the domain into the served script, so the script knows
// without another request whether to send credentials and leave the
// cookies to the server, and the ETag changes with the setting.
const cookieDomainMark = "''/*cookie_domain*/"

// loadScript renders spiffy.js for cookieDomain (without its leading dot;
// "" for none), which config has checked to be a plain host name.
func loadScript(cookieDomain string) scriptAsset {
	raw, err := fs.ReadFile(embedded.FS, "spiffy.js")
	if err != nil {
		// The file is embedded at build time; this cannot happen in a
		// binary that compiled.
		panic("app: spiffy.js missing from the embedded files: " + err.Error())
	}
	if !bytes.Contains(raw, []byte(cookieDomainMark)) {
		panic("app: spiffy.js lacks " + cookieDomainMark)
	}
	body := bytes.Replace(raw, []byte(cookieDomainMark), []byte("'"+cookieDomain+"'"), 1)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(body)
	_ = zw.Close()
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:12])
	return scriptAsset{body: body, gz: buf.Bytes(), etag: `"` + tag + `"`, gzEtag: `"` + tag + `-gz"`}
}

// ScriptGzipSize is the size of spiffy.js gzipped as served, for the size budget test.
func ScriptGzipSize() int { return len(loadScript("").gz) }

func (t *tracker) serveScript(c echo.Context) error {
	req := c.Request()
	h := c.Response().Header()
	gz := acceptsGzip(req.Header.Get(echo.HeaderAcceptEncoding))
	body, etag := t.script.body, t.script.etag
	if gz {
		body, etag = t.script.gz, t.script.gzEtag
	}
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", etag)
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if inm := req.Header.Get("If-None-Match"); inm != "" &&
		(etagListMatches(inm, t.script.etag) || etagListMatches(inm, t.script.gzEtag)) {
		return c.NoContent(http.StatusNotModified)
	}
	if gz {
		h.Set(echo.HeaderContentEncoding, "gzip")
	}
	return c.Blob(http.StatusOK, ScriptContentType, body)
}

// acceptsGzip reads Accept-Encoding well enough for browsers: gzip listed
// without q=0.
func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// etagListMatches implements If-None-Match's weak comparison against one tag.
func etagListMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
