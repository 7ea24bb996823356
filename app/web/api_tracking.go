package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/embedded"
)

// The tracking endpoints SpiffyJS calls from merchants' sites, and the
// script itself. They are public (no credentials), cross-origin, and the
// busiest routes of the server, so the middleware here is hand-rolled and
// cheap: an origin check, a per-IP token bucket and a capped body read into
// a pooled buffer.

// MaxTrackingBody is the largest body /t/click and /t/lead accept.
const MaxTrackingBody = 8192

// maxTrackedIPs bounds the rate limiter's memory: past it, idle buckets are
// dropped (see ipLimiter.evict).
const maxTrackedIPs = 16384

// tracker holds the tracking routes' state: it lives as long as the Server
// and is reached only through the handlers' closures.
type tracker struct {
	app     *app.App
	origins map[string]bool // nil: any origin
	limiter *ipLimiter
	script  scriptAsset
	bufs    sync.Pool
}

func (s *Server) routesTracking() {
	t := &tracker{
		app:     s.App,
		limiter: newIPLimiter(s.cfg.Tracking.RateLimit, maxTrackedIPs, time.Now),
		script:  loadScript(),
	}
	t.bufs.New = func() any { b := make([]byte, MaxTrackingBody+1); return &b }
	if len(s.cfg.Tracking.AllowedOrigins) > 0 {
		t.origins = map[string]bool{}
		for _, o := range s.cfg.Tracking.AllowedOrigins {
			t.origins[strings.ToLower(strings.TrimRight(o, "/"))] = true
		}
	}
	e := s.Echo
	e.GET("/spiffy.js", t.serveScript)
	e.HEAD("/spiffy.js", t.serveScript)
	e.OPTIONS("/t/click", t.preflight)
	e.OPTIONS("/t/lead", t.preflight)
	e.POST("/t/click", t.click, t.cors, t.rateLimit)
	e.POST("/t/lead", t.lead, t.cors, t.rateLimit)
}

// CORS.

var errOriginNotAllowed = app.Errorf(app.KindForbidden, "origin_not_allowed", "this origin is not in tracking.allowed_origins")

// allowOrigin sets Access-Control-Allow-Origin for an allowed request and
// reports whether it is allowed. Requests without an Origin header come from
// servers or tools, not from another site's page, so they pass.
func (t *tracker) allowOrigin(c echo.Context) bool {
	h := c.Response().Header()
	if t.origins == nil {
		h.Set(echo.HeaderAccessControlAllowOrigin, "*")
		return true
	}
	h.Add(echo.HeaderVary, echo.HeaderOrigin)
	origin := c.Request().Header.Get(echo.HeaderOrigin)
	if origin == "" {
		return true
	}
	if !t.origins[strings.ToLower(origin)] {
		return false
	}
	h.Set(echo.HeaderAccessControlAllowOrigin, origin)
	return true
}

func (t *tracker) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !t.allowOrigin(c) {
			return errOriginNotAllowed
		}
		return next(c)
	}
}

// preflight answers OPTIONS. SpiffyJS posts text/plain, which needs no
// preflight; this is for other callers sending application/json.
func (t *tracker) preflight(c echo.Context) error {
	if !t.allowOrigin(c) {
		return errOriginNotAllowed
	}
	h := c.Response().Header()
	h.Set(echo.HeaderAccessControlAllowMethods, "POST, OPTIONS")
	h.Set(echo.HeaderAccessControlAllowHeaders, "Content-Type")
	h.Set(echo.HeaderAccessControlMaxAge, "86400")
	return c.NoContent(http.StatusNoContent)
}

// Rate limiting.

var errRateLimited = app.Errorf(app.KindTooMany, "rate_limited", "too many tracking requests from this address; slow down")

func (t *tracker) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !t.limiter.allow(c.RealIP()) {
			c.Response().Header().Set("Retry-After", "1")
			return errRateLimited
		}
		return next(c)
	}
}

// ipLimiter is a token bucket per client IP (rate r per second, burst 2r),
// in a map bounded to max entries.
type ipLimiter struct {
	mu    sync.Mutex
	m     map[string]*rate.Limiter
	limit rate.Limit
	burst int
	max   int
	now   func() time.Time
}

func newIPLimiter(perSecond float64, max int, now func() time.Time) *ipLimiter {
	burst := int(math.Ceil(2 * perSecond))
	if burst < 1 {
		burst = 1
	}
	return &ipLimiter{m: make(map[string]*rate.Limiter), limit: rate.Limit(perSecond), burst: burst, max: max, now: now}
}

func (l *ipLimiter) allow(ip string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.m[ip]
	if lim == nil {
		if len(l.m) >= l.max {
			l.evict(now)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[ip] = lim
	}
	return lim.AllowN(now, 1)
}

// evict drops the buckets that have refilled completely: such a bucket
// behaves exactly like a new one, so forgetting it changes nothing. If the
// map is still too full (a flood from many addresses), it drops buckets that
// still hold a token, then any, until the map is three quarters full: an
// address that is being throttled right now is the last to be forgotten,
// and a forgotten one only gets a fresh bucket, which errs towards letting
// its requests through. Each eviction frees a quarter of the map, so its
// cost is amortised over the inserts that refill it.
func (l *ipLimiter) evict(now time.Time) {
	full := float64(l.burst)
	for ip, lim := range l.m {
		if lim.TokensAt(now) >= full {
			delete(l.m, ip)
		}
	}
	target := l.max * 3 / 4
	for ip, lim := range l.m {
		if len(l.m) <= target {
			return
		}
		if lim.TokensAt(now) >= 1 {
			delete(l.m, ip)
		}
	}
	for ip := range l.m {
		if len(l.m) <= target {
			return
		}
		delete(l.m, ip)
	}
}

// size reports how many addresses the limiter tracks (for tests).
func (l *ipLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// Bodies.

var errTooLarge = app.Errorf(app.KindTooLarge, "payload_too_large", "tracking bodies are at most 8192 bytes")

// readBody reads a tracking body sent as application/json or text/plain
// (as navigator.sendBeacon sends strings), refusing more than
// MaxTrackingBody bytes, and hands its fields to set (see parseFlatJSON).
func (t *tracker) readBody(c echo.Context, set func(key []byte, val string, isString bool) error) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" &&
		!strings.HasPrefix(ct, echo.MIMEApplicationJSON) && !strings.HasPrefix(ct, echo.MIMETextPlain) {
		return app.Errorf(app.KindUnsupportedMedia, "unsupported_media_type", "send the body as application/json or text/plain")
	}
	if req.ContentLength > MaxTrackingBody {
		return errTooLarge
	}
	bp := t.bufs.Get().(*[]byte)
	defer t.bufs.Put(bp)
	n, err := io.ReadFull(req.Body, *bp)
	switch {
	case n > MaxTrackingBody:
		return errTooLarge
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		return app.Invalid("body", "invalid_body", "the body could not be read")
	case n == 0:
		return app.Invalid("body", "invalid_json", "body is empty; send a JSON object")
	}
	// set receives strings copied out of the buffer, so it can go back to
	// the pool.
	return parseFlatJSON((*bp)[:n], set)
}

var errBadJSON = app.Invalid("body", "invalid_json", "body is not valid JSON")

// parseFlatJSON parses a JSON object and calls set for each member: with
// the decoded string for a string value, "" for null, and isString false
// for any other value (numbers, booleans, arrays, objects, which it skips).
// It is the tracking endpoints' decoder: their bodies are flat objects of
// strings, and this does without encoding/json's reflection and
// allocations on the busiest route. Keys are passed undecoded (our keys
// have no escapes; an escaped key simply matches nothing). Like
// encoding/json, invalid UTF-8 in strings becomes U+FFFD.
func parseFlatJSON(b []byte, set func(key []byte, val string, isString bool) error) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return app.Invalid("body", "invalid_json", "body must be a JSON object")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return errBadJSON
			}
			ks, ke, end, escaped, ok := scanString(b, i)
			if !ok {
				return errBadJSON
			}
			key := b[ks:ke]
			if escaped {
				key = nil
			}
			i = skipWS(b, end)
			if i >= len(b) || b[i] != ':' {
				return errBadJSON
			}
			i = skipWS(b, i+1)
			if i >= len(b) {
				return errBadJSON
			}
			switch {
			case b[i] == '"':
				vs, ve, vend, vesc, ok := scanString(b, i)
				if !ok {
					return errBadJSON
				}
				if key != nil {
					var val string
					if vesc {
						if val, ok = unquote(b[vs:ve]); !ok {
							return errBadJSON
						}
					} else {
						val = string(b[vs:ve])
					}
					if !utf8.ValidString(val) {
						val = validUTF8(val)
					}
					if err := set(key, val, true); err != nil {
						return err
					}
				}
				i = vend
			case bytes.HasPrefix(b[i:], []byte("null")):
				if key != nil {
					if err := set(key, "", true); err != nil {
						return err
					}
				}
				i += 4
			default:
				end, ok := skipValue(b, i, 0)
				if !ok {
					return errBadJSON
				}
				if key != nil {
					if err := set(key, "", false); err != nil {
						return err
					}
				}
				i = end
			}
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return errBadJSON
		}
	}
	if skipWS(b, i) != len(b) {
		return app.Invalid("body", "invalid_json", "body must be a single JSON object")
	}
	return nil
}

// validUTF8 replaces each invalid byte with U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		out = utf8.AppendRune(out, r) // RuneError for an invalid byte
		i += n
	}
	return string(out)
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString finds the JSON string starting at b[i] == '"': its contents
// are b[start:end] and it ends before next. escaped reports backslashes.
func scanString(b []byte, i int) (start, end, next int, escaped, ok bool) {
	start = i + 1
	for j := start; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return start, j, j + 1, escaped, true
		case c == '\\':
			escaped = true
			j++
		case c < 0x20:
			return 0, 0, 0, false, false
		}
	}
	return 0, 0, 0, false, false
}

// unquote decodes the escapes of a JSON string's contents.
func unquote(s []byte) (string, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false
		}
		switch s[i] {
		case '"', '\\', '/':
			out = append(out, s[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(-1), false
				if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					r2, ok2 = hex4(s, i+3)
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return string(out), true
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// skipValue skips one JSON value that is not a string or null at top
// level of a member: a number, true, false, an array or an object. Nesting
// is capped so a hostile body cannot recurse deeply (it is at most 8 KB
// anyway).
func skipValue(b []byte, i, depth int) (int, bool) {
	if depth > 32 || i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		_, _, next, _, ok := scanString(b, i)
		return next, ok
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closing {
			return i + 1, true
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, false
				}
				_, _, next, _, ok := scanString(b, i)
				if !ok {
					return 0, false
				}
				i = skipWS(b, next)
				if i >= len(b) || b[i] != ':' {
					return 0, false
				}
				i = skipWS(b, i+1)
			}
			next, ok := skipValue(b, i, depth+1)
			if !ok {
				return 0, false
			}
			i = skipWS(b, next)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == closing {
				return i + 1, true
			}
			return 0, false
		}
	case bytes.HasPrefix(b[i:], []byte("true")):
		return i + 4, true
	case bytes.HasPrefix(b[i:], []byte("false")):
		return i + 5, true
	case bytes.HasPrefix(b[i:], []byte("null")):
		return i + 4, true
	case c == '-' || c >= '0' && c <= '9':
		j := i
		if b[j] == '-' {
			j++
		}
		digits := j
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		if j == digits {
			return 0, false
		}
		return j, true
	}
	return 0, false
}

// notString is the error for a member that must be a string.
func notString(key string) error {
	return app.Invalid(key, "invalid_"+key, "%s must be a string", key)
}

// bodyField names a string member of a tracking body and where it goes.
type bodyField struct {
	name string
	dst  *string
}

// stringMembers is a readBody callback that stores the listed members,
// refuses a listed member that is not a string and ignores the rest.
func stringMembers(fields []bodyField) func(key []byte, val string, isString bool) error {
	return func(key []byte, val string, isString bool) error {
		for _, f := range fields {
			if string(key) != f.name {
				continue
			}
			if !isString {
				return notString(f.name)
			}
			*f.dst = val
			return nil
		}
		return nil
	}
}

// Handlers.

func (t *tracker) click(c echo.Context) error {
	var in app.ClickInput
	err := t.readBody(c, stringMembers([]bodyField{
		{"ref", &in.Ref}, {"sub", &in.Sub}, {"prev", &in.Prev},
		{"url", &in.URL}, {"referrer", &in.Referrer}, {"vid", &in.VID},
	}))
	if err != nil {
		return err
	}
	in.IP = c.RealIP()
	in.UserAgent = c.Request().UserAgent()
	res, err := t.app.TrackClick(in)
	if err != nil {
		return err
	}
	// Ids and app.RFC3339 times need no escaping: build the answer by hand.
	b := make([]byte, 0, 128)
	b = append(b, `{"referral":"`...)
	b = append(b, res.Referral...)
	b = append(b, `","program":"`...)
	b = append(b, res.Program...)
	b = append(b, `","expires_at":"`...)
	b = res.ExpiresAt.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `"}`...)
	return c.Blob(http.StatusCreated, echo.MIMEApplicationJSON, b)
}

var notAttributed = []byte(`{"attributed":false}`)

func (t *tracker) lead(c echo.Context) error {
	var in app.LeadInput
	err := t.readBody(c, stringMembers([]bodyField{
		{"email", &in.Email}, {"name", &in.Name}, {"referral", &in.Referral},
		{"vid", &in.VID}, {"url", &in.URL}, {"program", &in.Program},
	}))
	if err != nil {
		return err
	}
	in.IP = c.RealIP()
	in.UserAgent = c.Request().UserAgent()
	res, err := t.app.TrackLead(in)
	if err != nil {
		return err
	}
	if res.Lead == nil {
		return c.Blob(http.StatusAccepted, echo.MIMEApplicationJSON, notAttributed)
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	return c.Blob(status, echo.MIMEApplicationJSON, []byte(`{"lead":"`+res.Lead.ID+`","attributed":true}`))
}

// SpiffyJS.

// scriptAsset is spiffy.js with its gzipped form and ETags, computed once.
type scriptAsset struct {
	body, gz     []byte
	etag, gzEtag string
}

// ScriptContentType is the Content-Type /spiffy.js is served with.
const ScriptContentType = "application/javascript"

func loadScript() scriptAsset {
	body, err := fs.ReadFile(embedded.FS, "spiffy.js")
	if err != nil {
		// The file is embedded at build time; this cannot happen in a
		// binary that compiled.
		panic("app: spiffy.js missing from the embedded files: " + err.Error())
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(body)
	_ = zw.Close()
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:12])
	return scriptAsset{body: body, gz: buf.Bytes(), etag: `"` + tag + `"`, gzEtag: `"` + tag + `-gz"`}
}

// ScriptGzipSize is the size of spiffy.js gzipped as served, for the size budget test.
func ScriptGzipSize() int { return len(loadScript().gz) }

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
