package web

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/spiffy/spiffy/app"
)

var errBadJSON = app.Invalid("body", "invalid_json", "body is not valid JSON")

// parseFlatJSON parses a JSON object and calls set for each member: with
// the decoded string for a string value, "" for null, and isString false
// for any other value (numbers, booleans, arrays, objects, which it skips).
// It is the tracking endpoints' decoder: their bodies are flat objects of
// strings, and this does without encoding/json's reflection and
// allocations on the busiest route. Keys are passed undecoded (our keys
// have no escapes; an escaped key simply matches nothing). Like
// encoding/json, invalid UTF-8 in strings becomes U+FFFD.
func parseFlatJSON(b []byte, set func(key []byte, val string, isString bool) error) error {
	// src is b as a string, made at the first string value: the values
	// without escapes are slices of it, one allocation for the body rather
	// than one per member.
	var src string
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return app.Invalid("body", "invalid_json", "body must be a JSON object")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return errBadJSON
			}
			ks, ke, end, escaped, ok := scanString(b, i)
			if !ok {
				return errBadJSON
			}
			key := b[ks:ke]
			if escaped {
				key = nil
			}
			i = skipWS(b, end)
			if i >= len(b) || b[i] != ':' {
				return errBadJSON
			}
			i = skipWS(b, i+1)
			if i >= len(b) {
				return errBadJSON
			}
			switch {
			case b[i] == '"':
				vs, ve, vend, vesc, ok := scanString(b, i)
				if !ok {
					return errBadJSON
				}
				if key != nil {
					var val string
					if vesc {
						if val, ok = unquote(b[vs:ve]); !ok {
							return errBadJSON
						}
					} else {
						if src == "" {
							src = string(b)
						}
						val = src[vs:ve]
					}
					if !utf8.ValidString(val) {
						val = validUTF8(val)
					}
					if err := set(key, val, true); err != nil {
						return err
					}
				}
				i = vend
			case bytes.HasPrefix(b[i:], []byte("null")):
				if key != nil {
					if err := set(key, "", true); err != nil {
						return err
					}
				}
				i += 4
			default:
				end, ok := skipValue(b, i, 0)
				if !ok {
					return errBadJSON
				}
				if key != nil {
					if err := set(key, "", false); err != nil {
						return err
					}
				}
				i = end
			}
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return errBadJSON
		}
	}
	if skipWS(b, i) != len(b) {
		return app.Invalid("body", "invalid_json", "body must be a single JSON object")
	}
	return nil
}

// validUTF8 replaces each invalid byte with U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		out = utf8.AppendRune(out, r) // RuneError for an invalid byte
		i += n
	}
	return string(out)
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString finds the JSON string starting at b[i] == '"': its contents
// are b[start:end] and it ends before next. escaped reports backslashes.
func scanString(b []byte, i int) (start, end, next int, escaped, ok bool) {
	start = i + 1
	for j := start; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return start, j, j + 1, escaped, true
		case c == '\\':
			escaped = true
			j++
		case c < 0x20:
			return 0, 0, 0, false, false
		}
	}
	return 0, 0, 0, false, false
}

// unquote decodes the escapes of a JSON string's contents.
func unquote(s []byte) (string, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false
		}
		switch s[i] {
		case '"', '\\', '/':
			out = append(out, s[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(-1), false
				if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					r2, ok2 = hex4(s, i+3)
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return string(out), true
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// skipValue skips one JSON value that is not a string or null at top
// level of a member: a number, true, false, an array or an object. Nesting
// is capped so a hostile body cannot recurse deeply (it is at most 8 KB
// anyway).
func skipValue(b []byte, i, depth int) (int, bool) {
	if depth > 32 || i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		_, _, next, _, ok := scanString(b, i)
		return next, ok
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closing {
			return i + 1, true
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, false
				}
				_, _, next, _, ok := scanString(b, i)
				if !ok {
					return 0, false
				}
				i = skipWS(b, next)
				if i >= len(b) || b[i] != ':' {
					return 0, false
				}
				i = skipWS(b, i+1)
			}
			next, ok := skipValue(b, i, depth+1)
			if !ok {
				return 0, false
			}
			i = skipWS(b, next)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == closing {
				return i + 1, true
			}
			return 0, false
		}
	case bytes.HasPrefix(b[i:], []byte("true")):
		return i + 4, true
	case bytes.HasPrefix(b[i:], []byte("false")):
		return i + 5, true
	case bytes.HasPrefix(b[i:], []byte("null")):
		return i + 4, true
	case c == '-' || c >= '0' && c <= '9':
		j := i
		if b[j] == '-' {
			j++
		}
		digits := j
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		if j == digits {
			return 0, false
		}
		return j, true
	}
	return 0, false
}
