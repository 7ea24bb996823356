package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/throttle"
)

// WantsJSON reports whether errors for this request are answered as JSON:
// the API, tracking, and clients that ask for JSON.
func WantsJSON(c echo.Context) bool {
	p := c.Request().URL.Path
	// Providers posting to /integrations/ are no browsers, yet do not ask
	// for JSON (Stripe sends "Accept: */*; q=0.5, application/xml").
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/t/") || strings.HasPrefix(p, "/integrations/") || p == "/healthz" ||
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
		return http.StatusTooManyRequests, ErrorBody{Error: "too_many_attempts", Message: "too many attempts; try again " + TryAgainIn(err)}
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
	SetRetryAfter(c, err)
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

// SetRetryAfter sets the Retry-After header (whole seconds, rounded up)
// when err says how long to wait before trying again.
func SetRetryAfter(c echo.Context, err error) {
	if d, ok := throttle.RetryAfter(err); ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
}

// TryAgainIn says when to try again after err, in words: "in 4 seconds",
// "in 15 minutes", or "in a few minutes" when err does not say.
func TryAgainIn(err error) string {
	d, ok := throttle.RetryAfter(err)
	switch {
	case !ok:
		return "in a few minutes"
	case d <= time.Second:
		return "in a second"
	case d < time.Minute:
		return fmt.Sprintf("in %d seconds", (d+time.Second-1)/time.Second)
	case d <= time.Minute:
		return "in a minute"
	}
	return fmt.Sprintf("in %d minutes", (d+time.Minute-1)/time.Minute)
}
