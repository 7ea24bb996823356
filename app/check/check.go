// Package check holds the checks of input from forms and the API that
// many rules share (emails, single-line text, URLs, referral codes, date
// ranges); each refusal is a fault.Invalid naming the field.
package check

import (
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spiffy/spiffy/app/fault"
)

// Email accepts a single plain address (no display name), at most
// 254 bytes.
func Email(field, s string) error {
	if s == "" {
		return fault.Invalid(field, "invalid_email", "%s is required", field)
	}
	if len(s) <= 254 && plainAddress(s) {
		return nil
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return fault.Invalid(field, "invalid_email", "%s is not a valid email address", field)
	}
	return nil
}

// plainAddress reports whether s is an address of the everyday kind that
// mail.ParseAddress accepts as it is: two dot-atoms of letters, digits and
// "_%+-" around one "@", the domain with a dot. It saves the parser's
// allocations on the tracking path; anything else goes to the parser.
func plainAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	return dotAtom(local) && dotAtom(domain) && strings.IndexByte(domain, '.') >= 0
}

// dotAtom reports whether s is non-empty words of [A-Za-z0-9_%+-] joined
// by single dots.
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '_', c == '%', c == '+', c == '-':
		case c == '.' && s[i-1] != '.':
		default:
			return false
		}
	}
	return true
}

// Text checks a required or optional single-line text field.
func Text(field string, s string, required bool, max int) error {
	if required && strings.TrimSpace(s) == "" {
		return fault.Invalid(field, "invalid_"+field, "%s is required", field)
	}
	if utf8.RuneCountInString(s) > max {
		return fault.Invalid(field, "invalid_"+field, "%s must be at most %d characters", field, max)
	}
	if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n") {
		return fault.Invalid(field, "invalid_"+field, "%s contains characters that are not allowed", field)
	}
	return nil
}

// HTTPURL accepts an absolute http(s) URL.
func HTTPURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > 2048 {
		return fault.Invalid(field, "invalid_"+field, "%s must be an absolute http or https URL", field)
	}
	return nil
}

// Code checks a referral code: referral codes are 2–64 URL-safe characters.
func Code(field, s string) error {
	if len(s) < 2 || len(s) > 64 {
		return fault.Invalid(field, "invalid_"+field, "%s must be 2 to 64 characters", field)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fault.Invalid(field, "invalid_"+field, "%s may contain only letters, digits, '-' and '_'", field)
		}
	}
	return nil
}

// DateRange reads from/to as UTC dates (YYYY-MM-DD), both days
// included: it returns [from 00:00, the day after to 00:00). Empty values
// leave that end open.
func DateRange(fromS, toS string) (from, to time.Time, err error) {
	if fromS != "" {
		if from, err = time.Parse(time.DateOnly, fromS); err != nil {
			return from, to, fault.Invalid("from", "invalid_from", "from must be a date such as 2026-01-31")
		}
	}
	if toS != "" {
		t, err := time.Parse(time.DateOnly, toS)
		if err != nil {
			return from, to, fault.Invalid("to", "invalid_to", "to must be a date such as 2026-01-31")
		}
		to = t.AddDate(0, 0, 1)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, fault.Invalid("to", "invalid_to", "to must not be before from")
	}
	return from, to, nil
}
