package web

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/text"
)

// The tracking endpoints SpiffyJS calls from merchants' sites, and the
// script itself. They are public, cross-origin (credentialed only for the
// server-set cookies of tracking.cookie_domain, cookies.go), and the
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
	// cookieDomain is tracking.cookie_domain without its leading dot; ""
	// = SpiffyJS sets its cookies itself and nothing here is credentialed.
	cookieDomain string
	trusted      []*net.IPNet // trusted_proxies: whose X-Forwarded-Proto says https
	limiter      *ipLimiter
	script       scriptAsset
	bufs         sync.Pool
}

// newTracker builds the tracking routes' state from the config.
func newTracker(a *app.App, cfg config.Config) *tracker {
	t := &tracker{
		app:          a,
		trusted:      cfg.TrustedProxies,
		limiter:      newIPLimiter(cfg.Tracking.RateLimit, maxTrackedIPs, time.Now),
		cookieDomain: strings.TrimPrefix(cfg.Tracking.CookieDomain, "."),
	}
	t.script = loadScript(t.cookieDomain)
	t.bufs.New = func() any { b := make([]byte, MaxTrackingBody+1); return &b }
	if len(cfg.Tracking.AllowedOrigins) > 0 {
		t.origins = map[string]bool{}
		for _, o := range cfg.Tracking.AllowedOrigins {
			t.origins[strings.ToLower(strings.TrimRight(o, "/"))] = true
		}
	}
	return t
}

// CORS.

var errOriginNotAllowed = app.Errorf(app.KindForbidden, "origin_not_allowed", "this origin is not in tracking.allowed_origins")

// allowOrigin sets Access-Control-Allow-Origin for an allowed request and
// reports whether it is allowed. Requests without an Origin header come from
// servers or tools, not from another site's page, so they pass.
func (t *tracker) allowOrigin(c echo.Context) bool {
	h := c.Response().Header()
	if t.cookieDomain != "" {
		addVary(c, headerVaryOrigin)
		if origin := c.Request().Header.Get(echo.HeaderOrigin); t.credentialed(origin) {
			h.Set(echo.HeaderAccessControlAllowOrigin, origin)
			h.Set(echo.HeaderAccessControlAllowCredentials, "true")
			return true
		}
	}
	if t.origins == nil {
		h[echo.HeaderAccessControlAllowOrigin] = headerAnyOrigin
		return true
	}
	if t.cookieDomain == "" {
		addVary(c, headerVaryOrigin)
	}
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

// notString is the error for a member that must be a string.
func notString(key string) error {
	return app.Invalid(key, "invalid_"+key, "%s must be a string", key)
}

// setMember stores a tracking body's member in dst, refusing a value that
// is not a string; a nil dst is a member we do not read, ignored. The
// handlers pick dst with a switch on the key rather than a table of
// pointers, which would move their input struct to the heap.
func setMember(dst *string, key []byte, val string, isString bool) error {
	switch {
	case dst == nil:
		return nil
	case !isString:
		return notString(string(key))
	}
	*dst = val
	return nil
}

var errInvalidEID = app.Invalid("eid", "invalid_eid", "eid must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -")

// checkEID refuses a client event id that is not 1–64 URL-safe characters
// (contract §3); "" is an event sent without one.
func checkEID(eid string) error {
	if eid != "" && text.VisitorID(eid, 64) == "" {
		return errInvalidEID
	}
	return nil
}

// Handlers.

func (t *tracker) click(c echo.Context) error {
	var in app.ClickInput
	err := t.readBody(c, func(key []byte, val string, isString bool) error {
		var dst *string
		switch string(key) {
		case "ref":
			dst = &in.Ref
		case "sub":
			dst = &in.Sub
		case "prev":
			dst = &in.Prev
		case "url":
			dst = &in.URL
		case "referrer":
			dst = &in.Referrer
		case "vid":
			dst = &in.VID
		case "eid":
			dst = &in.EID
		}
		return setMember(dst, key, val, isString)
	})
	if err == nil {
		err = checkEID(in.EID)
	}
	if err != nil {
		return err
	}
	in.IP = c.RealIP()
	in.UserAgent = c.Request().UserAgent()
	res, err := t.app.TrackClick(in)
	if err != nil {
		return err
	}
	// Ids and app.RFC3339 times need no escaping: build the answer by hand,
	// in a pooled buffer (the response writer copies it).
	bp := t.bufs.Get().(*[]byte)
	defer t.bufs.Put(bp)
	b := append((*bp)[:0], `{"referral":"`...)
	b = append(b, res.Referral...)
	b = append(b, `","program":"`...)
	b = append(b, res.Program...)
	b = append(b, `","expires_at":"`...)
	b = res.ExpiresAt.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `"}`...)
	if t.cookieDomain != "" {
		t.setCookies(c, res, in.VID)
	}
	status := http.StatusCreated
	if res.Repeat {
		status = http.StatusOK
	}
	return answerJSON(c, status, b)
}

// answerJSON sends b, a JSON answer, with status.
func answerJSON(c echo.Context, status int, b []byte) error {
	c.Response().Header()[echo.HeaderContentType] = headerJSON
	return c.Blob(status, echo.MIMEApplicationJSON, b)
}

var notAttributed = []byte(`{"attributed":false}`)

func (t *tracker) lead(c echo.Context) error {
	var in app.LeadInput
	err := t.readBody(c, func(key []byte, val string, isString bool) error {
		var dst *string
		switch string(key) {
		case "email":
			dst = &in.Email
		case "name":
			dst = &in.Name
		case "referral":
			dst = &in.Referral
		case "vid":
			dst = &in.VID
		case "url":
			dst = &in.URL
		case "program":
			dst = &in.Program
		case "eid":
			dst = &in.EID
		}
		return setMember(dst, key, val, isString)
	})
	if err == nil {
		err = checkEID(in.EID)
	}
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
		return answerJSON(c, http.StatusAccepted, notAttributed)
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	bp := t.bufs.Get().(*[]byte)
	defer t.bufs.Put(bp)
	b := append(append(append((*bp)[:0], `{"lead":"`...), res.Lead.ID...), `","attributed":true}`...)
	return answerJSON(c, status, b)
}
