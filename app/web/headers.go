package web

import (
	"github.com/labstack/echo/v4"
)

// Header values the server sends on many answers, each one slice shared by
// all of them: Header.Set and Add allocate a new []string per call, several
// per request. Sharing is safe because nothing changes a header value in
// place (Set replaces the slice, Del drops it) and each slice's capacity is
// its length, so an Add after ours appends into a copy.

// sharedValue is a header value to assign directly: h[key] = sharedValue(v)
// with key in canonical form.
func sharedValue(v string) []string { return []string{v}[:1:1] }

var (
	headerJSON               = sharedValue(echo.MIMEApplicationJSON)
	headerAnyOrigin          = sharedValue("*")
	headerVaryAcceptEncoding = sharedValue(echo.HeaderAcceptEncoding)
	headerVaryOrigin         = sharedValue(echo.HeaderOrigin)
)

// pageHeaders sends the security headers of pages (and, harmlessly, of
// every other answer but the tracking ones; see ContentSecurityPolicy): the
// headers Echo's Secure middleware sent with the same settings, from shared
// slices.
func pageHeaders() echo.MiddlewareFunc {
	headers := []struct {
		key   string
		value []string
	}{
		{echo.HeaderXXSSProtection, sharedValue("0")},
		{echo.HeaderXContentTypeOptions, sharedValue("nosniff")},
		// As frame-ancestors 'none', for browsers without CSP.
		{echo.HeaderXFrameOptions, sharedValue("DENY")},
		{echo.HeaderContentSecurityPolicy, sharedValue(ContentSecurityPolicy)},
		{echo.HeaderReferrerPolicy, sharedValue("strict-origin-when-cross-origin")},
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// The tracking answers are a few bytes of JSON read by
			// SpiffyJS's fetch, never rendered nor framed.
			if !isTracking(c) {
				h := c.Response().Header()
				for _, kv := range headers {
					h[kv.key] = kv.value
				}
			}
			return next(c)
		}
	}
}

// addVary adds name to the Vary header, from a shared slice when it is the
// first value.
func addVary(c echo.Context, name []string) {
	h := c.Response().Header()
	if len(h[echo.HeaderVary]) == 0 {
		h[echo.HeaderVary] = name
		return
	}
	h.Add(echo.HeaderVary, name[0])
}
