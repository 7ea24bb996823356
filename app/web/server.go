package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/config"
)

// ContentSecurityPolicy is sent with every response. It matters on the
// pages: their scripts and styles are files of ours (/static/*), never
// inline, so an injected <script>, on…= attribute or style attribute does
// nothing, and no other site may frame them (clickjacking). On JSON, CSV and
// /spiffy.js it is inert (a policy applies to documents, and the tracking
// script runs under the merchant's page's policy); sending it everywhere
// means no HTML answer, error pages included, can go out without it.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"

// Server is the HTTP face of the App: one Echo instance with route groups for
// the JSON API, tracking, and (mounted by package ui) the admin UI and portal.
type Server struct {
	App  *app.App
	Echo *echo.Echo
	// API is the /api/v1 group, behind API-key authentication.
	API *echo.Group
	// HTMLError renders a friendly error page; package ui sets it. Without
	// it, HTML errors are plain text.
	HTMLError func(c echo.Context, status int, message string)

	cfg     config.Config
	log     *slog.Logger
	metrics *metrics
	// pages is the middleware every request runs in, outermost first.
	pages []echo.MiddlewareFunc
	// composed are the routes registered with their chain already wrapped
	// around the handler (addRoutes). Written only while NewServer builds
	// the routes, read-only afterwards.
	composed map[routeKey]bool
}

// NewServer builds the Echo server with middleware, the error handler and
// the API and tracking routes.
func NewServer(a *app.App) *Server {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	s := &Server{App: a, Echo: e, cfg: a.Config(), log: a.Log(), metrics: newMetrics(a), composed: map[routeKey]bool{}}
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(s.cfg.TrustedProxies)
	// compress wraps logAndMeasure so that the error pages and JSON errors
	// it writes (c.Error) are compressed too.
	s.pages = []echo.MiddlewareFunc{s.recoverPanics, compress(), s.logAndMeasure,
		pageHeaders(), hsts(s.cfg.TrustedProxies)}
	e.Use(s.aroundUnlessComposed)

	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	}).Name = "healthz"
	e.GET("/metrics", s.metrics.handler(s.cfg.Metrics.Token)).Name = "metrics"

	// The group's catch-all answers unknown /api/v1 paths behind the key
	// check; its routes are added with the same middleware, composed once
	// (routesAPI).
	s.API = e.Group(apiPrefix, s.apiMiddleware()...)
	s.routesAPI()
	s.routesTracking(newTracker(a, s.cfg))
	s.routesIntegrations()
	return s
}

// apiPrefix is where the merchant API lives.
const apiPrefix = "/api/v1"

// apiMiddleware is what every /api/v1 route runs inside the page chain.
func (s *Server) apiMiddleware() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{middleware.BodyLimit("1M"), s.requireAPIKey}
}

// aroundUnlessComposed is the one global middleware. Echo wraps global and
// route middleware around the handler again on every request (a closure
// allocation per middleware per request); the routes of our own tables
// (addRoutes) have their whole chain composed once when registered, so for
// them this passes straight through. Every other request (the admin's and
// the portal's pages, unknown paths, wrong methods) gets the page chain,
// composed per request as Echo would.
func (s *Server) aroundUnlessComposed(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.composed[routeKey{c.Request().Method, c.Path()}] {
			return next(c)
		}
		return applyChain(next, s.pages)(c)
	}
}

// routeKey names a registered route.
type routeKey struct{ method, path string }

// applyChain wraps h in chain, chain[0] outermost, as Echo does.
func applyChain(h echo.HandlerFunc, chain []echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(chain) - 1; i >= 0; i-- {
		h = chain[i](h)
	}
	return h
}

// isTracking reports whether the request is for the tracking endpoints
// (/t/*), the hot path.
func isTracking(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/t/") }

// ipExtractor decides where the client IP (rate limits, sign-in throttling,
// click records) comes from: the peer address, or X-Forwarded-For when the
// peer is one of the configured reverse proxies. Trusting the header from
// anyone would let every visitor pick their own rate-limit bucket.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// Shutdown stops accepting connections and waits for in-flight requests.
func (s *Server) Shutdown(ctx context.Context) error { return s.Echo.Shutdown(ctx) }

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic in handler", "path", c.Request().URL.Path, "panic", r)
				err = errors.New("panic")
			}
		}()
		return next(c)
	}
}

func (s *Server) logAndMeasure(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		dur := time.Since(start)
		s.metrics.observe(c.Request().Method, route, status, dur)
		if s.log.Enabled(c.Request().Context(), slog.LevelDebug) || status >= 500 {
			s.log.Log(c.Request().Context(), levelFor(status), "http",
				"method", c.Request().Method, "path", c.Request().URL.Path, "route", route,
				"status", status, "ms", dur.Milliseconds(), "ip", c.RealIP())
		}
		return nil
	}
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelDebug
}

// requireAPIKey authenticates /api/v1 with "Authorization: Bearer <key>".
func (s *Server) requireAPIKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return app.ErrUnauthorized
		}
		if _, err := s.App.AuthenticateAPIKey(strings.TrimSpace(secret)); err != nil {
			return err
		}
		return next(c)
	}
}
