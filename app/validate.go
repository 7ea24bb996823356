package app

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode/utf8"
)

// validateEmail accepts a single plain address (no display name), at most
// 254 bytes.
func validateEmail(field, s string) error {
	if s == "" {
		return Invalid(field, "invalid_email", "%s is required", field)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return Invalid(field, "invalid_email", "%s is not a valid email address", field)
	}
	return nil
}

// validateText checks a required or optional single-line text field.
func validateText(field string, s string, required bool, max int) error {
	if required && strings.TrimSpace(s) == "" {
		return Invalid(field, "invalid_"+field, "%s is required", field)
	}
	if utf8.RuneCountInString(s) > max {
		return Invalid(field, "invalid_"+field, "%s must be at most %d characters", field, max)
	}
	if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n") {
		return Invalid(field, "invalid_"+field, "%s contains characters that are not allowed", field)
	}
	return nil
}

// validateHTTPURL accepts an absolute http(s) URL.
func validateHTTPURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > 2048 {
		return Invalid(field, "invalid_"+field, "%s must be an absolute http or https URL", field)
	}
	return nil
}

// validCode: referral codes are 2–64 URL-safe characters.
func validateCode(field, s string) error {
	if len(s) < 2 || len(s) > 64 {
		return Invalid(field, "invalid_"+field, "%s must be 2 to 64 characters", field)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return Invalid(field, "invalid_"+field, "%s may contain only letters, digits, '-' and '_'", field)
		}
	}
	return nil
}
