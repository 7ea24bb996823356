// Package text cleans the free text that browsers send before Spiffy
// stores it: tracking's fields, cut to their caps, and visitor ids. How
// long each field may be is package app's rule, but for the sub-id, whose
// cap the portal's link builder needs too.
package text

import (
	"strings"
	"unicode/utf8"
)

// Clean makes free text from a browser safe to store and show: valid
// UTF-8, no control characters, trimmed, at most max bytes (cut on a rune
// boundary).
func Clean(s string, max int) string {
	s = strings.TrimSpace(s)
	if len(s) > max {
		i := max
		for i > 0 && !utf8.RuneStart(s[i]) {
			i-- // do not split a character: s[i] is the first byte dropped
		}
		s = s[:i]
	}
	needs := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			needs = true
			break
		}
	}
	if !needs {
		return s
	}
	s = strings.ToValidUTF8(s, "")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			if r == '\t' || r == '\n' || r == '\r' {
				return ' '
			}
			return -1
		}
		return r
	}, s)
}

// VisitorID keeps a visitor id only when it looks like one SpiffyJS makes
// (URL-safe characters, at most max bytes): it goes into index keys. It
// is "" otherwise.
func VisitorID(s string, max int) string {
	if s == "" || len(s) > max {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return ""
		}
	}
	return s
}

// MaxSubID caps an affiliate's campaign sub-id (?sub=).
const MaxSubID = 100

// SubID is a sub-id as tracking keeps it (trimmed, no control characters,
// at most MaxSubID bytes), so a link builder shows what will be stored.
func SubID(s string) string { return Clean(s, MaxSubID) }
