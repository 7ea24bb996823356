package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/text"
)

// Server-set tracking cookies (tracking.cookie_domain, contract §3).
//
// Safari keeps a cookie written by script for at most 7 days (24 hours
// after a click from a known tracker), whatever its expiry; a cookie set by
// the server in an HTTP response keeps its Max-Age. When Spiffy runs on a
// subdomain of the merchant's site (partners.shop.example for
// shop.example), or behind the merchant's own path (data-api), /t/click
// answers with Set-Cookie for the merchant's domain, and SpiffyJS reads the
// cookies back with document.cookie. The request is same-site, so
// SameSite=Lax cookies are stored and sent; a cross-origin XHR only stores
// them when it is credentialed, hence the credentialed CORS answer.

// visitorCookieAge is how long spiffy_vid lives: a year, below Chrome's
// 400-day cap on any cookie.
const visitorCookieAge = 365 * 24 * 60 * 60

// credentialed reports whether origin may make credentialed requests: one
// of tracking.allowed_origins when that is set, otherwise the cookie
// domain itself or a host under it (the only pages that can read the
// cookies), never any origin at all.
func (t *tracker) credentialed(origin string) bool {
	if origin == "" {
		return false
	}
	if t.origins != nil {
		return t.origins[strings.ToLower(origin)]
	}
	_, host, ok := strings.Cut(origin, "://")
	if !ok {
		return false
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	host = strings.ToLower(host)
	return host == t.cookieDomain || strings.HasSuffix(host, "."+t.cookieDomain)
}

// setCookies adds spiffy_ref (until the kept referral expires) and, when
// the click carried a well-formed visitor id, spiffy_vid (a year) to a
// click's answer. Not HttpOnly: SpiffyJS reads them.
func (t *tracker) setCookies(c echo.Context, res *app.ClickResult, vid string) {
	// The same test as HSTS's: TLS here, or a trusted proxy's word for it.
	secure := servedOverHTTPS(c.Request(), t.trusted)
	if age := int64(res.ExpiresAt.Sub(t.app.Now()) / time.Second); age > 0 {
		c.Response().Header().Add(echo.HeaderSetCookie, t.cookie("spiffy_ref", res.Referral, age, secure))
	}
	if vid = text.VisitorID(vid, 64); vid != "" {
		c.Response().Header().Add(echo.HeaderSetCookie, t.cookie("spiffy_vid", vid, visitorCookieAge, secure))
	}
}

// cookie renders one Set-Cookie value. The values are ids (URL-safe), so
// nothing needs quoting; Expires is there for clients that predate Max-Age.
func (t *tracker) cookie(name, value string, maxAge int64, secure bool) string {
	b := make([]byte, 0, 160)
	b = append(b, name...)
	b = append(b, '=')
	b = append(b, value...)
	b = append(b, "; Path=/; Domain="...)
	b = append(b, t.cookieDomain...)
	b = append(b, "; Max-Age="...)
	b = strconv.AppendInt(b, maxAge, 10)
	b = append(b, "; Expires="...)
	b = t.app.Now().Add(time.Duration(maxAge)*time.Second).UTC().AppendFormat(b, http.TimeFormat)
	b = append(b, "; SameSite=Lax"...)
	if secure {
		b = append(b, "; Secure"...)
	}
	return string(b)
}
