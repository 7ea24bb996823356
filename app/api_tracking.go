package app

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

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
	app     *App
	origins map[string]bool // nil: any origin
	limiter *ipLimiter
	script  scriptAsset
	bufs    sync.Pool
}

func (s *Server) routesTracking() {
	t := &tracker{
		app:     s.App,
		limiter: newIPLimiter(s.App.Config.Tracking.RateLimit, maxTrackedIPs, time.Now),
		script:  loadScript(),
	}
	t.bufs.New = func() any { b := make([]byte, MaxTrackingBody+1); return &b }
	if len(s.App.Config.Tracking.AllowedOrigins) > 0 {
		t.origins = map[string]bool{}
		for _, o := range s.App.Config.Tracking.AllowedOrigins {
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

var errOriginNotAllowed = &Error{Status: http.StatusForbidden, Code: "origin_not_allowed",
	Message: "this origin is not in tracking.allowed_origins"}

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

var errRateLimited = &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
	Message: "too many tracking requests from this address; slow down"}

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

var errTooLarge = &Error{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large",
	Message: "tracking bodies are at most 8192 bytes"}

// decodeBody reads a JSON object sent as application/json or text/plain (as
// navigator.sendBeacon sends strings) into v, refusing more than
// MaxTrackingBody bytes.
func (t *tracker) decodeBody(c echo.Context, v any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" &&
		!strings.HasPrefix(ct, echo.MIMEApplicationJSON) && !strings.HasPrefix(ct, echo.MIMETextPlain) {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "send the body as application/json or text/plain"}
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
		return Invalid("body", "invalid_body", "the body could not be read")
	case n == 0:
		return Invalid("body", "invalid_json", "body is empty; send a JSON object")
	}
	// Unmarshal copies every string out of the buffer, so it can go back to
	// the pool.
	if err := json.Unmarshal((*bp)[:n], v); err != nil {
		return jsonError(err)
	}
	return nil
}

// Handlers.

func (t *tracker) click(c echo.Context) error {
	var in ClickInput
	if err := t.decodeBody(c, &in); err != nil {
		return err
	}
	in.IP = c.RealIP()
	in.UserAgent = c.Request().UserAgent()
	res, err := t.app.TrackClick(in)
	if err != nil {
		return err
	}
	// Ids and RFC3339 times need no escaping: build the answer by hand.
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
	var in LeadInput
	if err := t.decodeBody(c, &in); err != nil {
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
