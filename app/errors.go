package app

import (
	"errors"

	"github.com/spiffy/spiffy/app/fault"

	"github.com/spiffy/spiffy/app/throttle"
	"github.com/spiffy/spiffy/store"
)

// Errors the app layer returns; the HTTP layer (app/web) maps them to
// status codes.
var (
	// ErrNotFound: the thing does not exist. It matches store.ErrNotFound.
	ErrNotFound = store.ErrNotFound
	// ErrBadCursor: a list cursor that this server did not hand out.
	ErrBadCursor = store.ErrBadCursor
	// ErrUnauthorized: missing or wrong credentials.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: signed in, but not allowed.
	ErrForbidden = errors.New("forbidden")
	// ErrThrottled: too many attempts; try later (a *throttle.WaitError says when).
	ErrThrottled = throttle.ErrThrottled
)

// DuplicateError is a unique value (an email, a referral code) already
// taken; Field names it.
type DuplicateError = store.DuplicateError

// The kinded errors live in app/fault so that app's sub-packages can return
// them too; these names are the ones the rules and their callers use.
type (
	Kind  = fault.Kind
	Error = fault.Error
)

// The kinds of Error (see fault.Kind).
const (
	KindInvalid, KindNotFound, KindConflict, KindForbidden           = fault.KindInvalid, fault.KindNotFound, fault.KindConflict, fault.KindForbidden
	KindTooMany, KindTooLarge, KindUnsupportedMedia, KindUnavailable = fault.KindTooMany, fault.KindTooLarge, fault.KindUnsupportedMedia, fault.KindUnavailable
)

// Constructors of Error (see package fault).
var (
	Errorf, Invalid, Conflict = fault.Errorf, fault.Invalid, fault.Conflict
	NotFound, IsKind          = fault.NotFound, fault.IsKind
)

// notFoundAs turns a store "not found" into a specific one; other errors pass.
func notFoundAs(err error, code, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return NotFound(code, "%s not found", what)
	}
	return err
}
