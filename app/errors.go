package app

import (
	"errors"
	"fmt"

	"github.com/spiffy/spiffy/store"
)

// Errors the app layer returns; the HTTP layer maps them to status codes.
var (
	// ErrNotFound: the thing does not exist (404). It matches store.ErrNotFound.
	ErrNotFound = store.ErrNotFound
	// ErrUnauthorized: missing or wrong credentials (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: signed in, but not allowed (403).
	ErrForbidden = errors.New("forbidden")
	// ErrThrottled: too many attempts; try later (429).
	ErrThrottled = errors.New("too many attempts")
)

// Error is a client error with a stable snake_case code, an HTTP status and a
// human message: what the API answers as {"error","message"}.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string // the input field at fault, when there is one
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Invalid is a 400 naming the bad field.
func Invalid(field, code, format string, args ...any) *Error {
	return &Error{Status: 400, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Conflict is a 409, for a unique value already taken.
func Conflict(field, code, format string, args ...any) *Error {
	return &Error{Status: 409, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound is a 404 with a specific code ("program_not_found").
func NotFound(code, format string, args ...any) *Error {
	return &Error{Status: 404, Code: code, Message: fmt.Sprintf(format, args...)}
}

// notFoundAs turns a store "not found" into a specific 404; other errors pass.
func notFoundAs(err error, code, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return NotFound(code, "%s not found", what)
	}
	return err
}
