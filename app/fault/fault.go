// Package fault holds the kinded errors of the rules: a client error with a
// kind (which the HTTP layer maps to a status), a stable snake_case code, a
// human message and the field at fault. It is a leaf so that the rules'
// helpers in app's sub-packages (input checks, read models) can return the
// same errors app does; app re-exports them.
package fault

import (
	"errors"
	"fmt"
)

// Kind says what sort of failure an Error is. The HTTP layer picks the
// status from it; the rules never speak HTTP.
type Kind int

const (
	// KindInvalid: the input is wrong (a field, the body, a filter).
	KindInvalid Kind = iota + 1
	// KindNotFound: the thing asked for does not exist, or is not the
	// caller's to see.
	KindNotFound
	// KindConflict: the request clashes with what is stored (a value
	// taken, a record in the wrong state).
	KindConflict
	// KindForbidden: the caller may not do this.
	KindForbidden
	// KindTooMany: too many requests, or too much running at once.
	KindTooMany
	// KindTooLarge: the body is over its limit.
	KindTooLarge
	// KindUnsupportedMedia: the body is not in a format this accepts.
	KindUnsupportedMedia
	// KindUnavailable: the server cannot do it right now (shutting down).
	KindUnavailable
)

// Error is a client error with a kind, a stable snake_case code and a
// human message: what the API answers as {"error","message"}.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Field   string // the input field at fault, when there is one
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf is an Error of the given kind.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is bad input, naming the field.
func Invalid(field, code, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Conflict is a clash with what is stored, such as a unique value already
// taken.
func Conflict(field, code, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound is a "not found" with a specific code ("program_not_found").
func NotFound(code, format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

// IsKind reports whether err is (or wraps) an *Error of that kind.
func IsKind(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}
