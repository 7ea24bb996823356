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
}

// NewServer builds the Echo server with middleware, the error handler and
// the API and tracking routes.
func NewServer(a *app.App) *Server {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	s := &Server{App: a, Echo: e, cfg: a.Config(), log: a.Log(), metrics: newMetrics(a)}
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(s.cfg.TrustedProxies)
	e.Use(s.recoverPanics, s.logAndMeasure)
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:      "0",
		ContentTypeNosniff: "nosniff",
		XFrameOptions:      "SAMEORIGIN",
		ReferrerPolicy:     "strict-origin-when-cross-origin",
	}))

	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/metrics", s.metrics.handler())

	s.API = e.Group("/api/v1", middleware.BodyLimit("1M"), s.requireAPIKey)
	s.routesAccountsAPI()
	s.routesTracking()
	s.routesLeadsPurchasesAPI()
	s.routesExportsAPI()
	s.routesWebhooksAPI()
	return s
}

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

// WantsJSON reports whether errors for this request are answered as JSON:
// the API, tracking, and clients that ask for JSON.
func WantsJSON(c echo.Context) bool {
	p := c.Request().URL.Path
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/t/") || p == "/healthz" ||
		strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "application/json")
}

// ErrorBody is the JSON shape of every error: {"error","message"}.
type ErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Classify maps an error to its HTTP status and body. Unknown errors are 500
// with a generic message; their details only reach the log.
func Classify(err error) (int, ErrorBody) {
	var ae *app.Error
	var he *echo.HTTPError
	var dup *app.DuplicateError
	switch {
	case errors.As(err, &ae):
		return kindStatus(ae.Kind), ErrorBody{Error: ae.Code, Message: ae.Message, Field: ae.Field}
	case errors.Is(err, app.ErrUnauthorized):
		return http.StatusUnauthorized, ErrorBody{Error: "unauthorized", Message: "missing or invalid credentials"}
	case errors.Is(err, app.ErrForbidden):
		return http.StatusForbidden, ErrorBody{Error: "forbidden", Message: "you are not allowed to do this"}
	case errors.Is(err, app.ErrThrottled):
		return http.StatusTooManyRequests, ErrorBody{Error: "too_many_attempts", Message: "too many attempts; try again in a few minutes"}
	case errors.As(err, &dup):
		return http.StatusConflict, ErrorBody{Error: "duplicate_" + dup.Field, Message: dup.Field + " is already taken", Field: dup.Field}
	case errors.Is(err, app.ErrNotFound):
		return http.StatusNotFound, ErrorBody{Error: "not_found", Message: "not found"}
	case errors.Is(err, app.ErrBadCursor):
		return http.StatusBadRequest, ErrorBody{Error: "invalid_cursor", Message: "cursor is not valid"}
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && he.Code < 500 {
			msg = m
		}
		return he.Code, ErrorBody{Error: httpErrorCode(he.Code), Message: msg}
	}
	return http.StatusInternalServerError, ErrorBody{Error: "internal_error", Message: "something went wrong; it has been logged"}
}

// kindStatus is the one place a kind of domain error becomes a status.
func kindStatus(k app.Kind) int {
	switch k {
	case app.KindInvalid:
		return http.StatusBadRequest
	case app.KindNotFound:
		return http.StatusNotFound
	case app.KindConflict:
		return http.StatusConflict
	case app.KindForbidden:
		return http.StatusForbidden
	case app.KindTooMany:
		return http.StatusTooManyRequests
	case app.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case app.KindUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case app.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func httpErrorCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "payload_too_large"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	}
	if status >= 500 {
		return "internal_error"
	}
	return "bad_request"
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := Classify(err)
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if WantsJSON(c) || s.HTMLError == nil {
		_ = c.JSON(status, body)
		return
	}
	s.HTMLError(c, status, body.Message)
}

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
