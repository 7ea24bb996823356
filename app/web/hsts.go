package web

import (
	"net"
	"net/http"

	"github.com/labstack/echo/v4"
)

// hstsValue asks browsers to use only HTTPS for this host for a year. No
// includeSubDomains: Spiffy usually runs on one name of the shop's domain
// (partners.shop.example), and its siblings are not ours to pin to HTTPS.
const hstsValue = "max-age=31536000"

// hsts sends Strict-Transport-Security on responses that travel over HTTPS:
// those of Spiffy's own TLS listener, and those a trusted reverse proxy
// (trusted_proxies) says it serves over HTTPS with X-Forwarded-Proto. The
// header from anyone else is not believed, and plain HTTP never gets HSTS.
func hsts(trusted []*net.IPNet) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if servedOverHTTPS(c.Request(), trusted) {
				c.Response().Header().Set("Strict-Transport-Security", hstsValue)
			}
			return next(c)
		}
	}
}

func servedOverHTTPS(r *http.Request, trusted []*net.IPNet) bool {
	if r.TLS != nil {
		return true
	}
	if len(trusted) == 0 || r.Header.Get(echo.HeaderXForwardedProto) != "https" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer := net.ParseIP(host)
	for _, n := range trusted {
		if peer != nil && n.Contains(peer) {
			return true
		}
	}
	return false
}
