package jsonbytes

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Unescape appends to dst the bytes of the JSON string whose contents (the
// bytes between the quotes) are quoted, with its escapes undone, and returns
// the extended dst.
//
// \uXXXX escapes become UTF-8; a surrogate pair becomes one character, and a
// surrogate without its other half becomes U+FFFD, as in encoding/json.
// Bytes that are not part of an escape are copied as they are, in runs of
// one copy each: Unescape checks neither UTF-8 nor raw control characters
// (Members does, for whole lines).
//
// On a malformed escape (a '\\' at the end, an unknown escape letter, fewer
// than four hex digits after \u) it returns dst unchanged, at its original
// length, and an error quoting the escape. It does not keep quoted, and
// allocates only to grow dst or to build the error.
func Unescape(dst, quoted []byte) ([]byte, error) {
	n0 := len(dst)
	s := quoted
	for {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			return append(dst, s...), nil
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		if len(s) < 2 {
			return dst[:n0], badEscape(s)
		}
		switch c := s[1]; c {
		case '"', '\\', '/':
			dst = append(dst, c)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s[2:])
			if !ok {
				return dst[:n0], badEscape(s)
			}
			s = s[6:]
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					r2, ok = hex4(s[2:])
				}
				// DecodeRune gives U+FFFD unless r is high and r2 low.
				if r = utf16.DecodeRune(r, r2); ok && r != utf8.RuneError {
					s = s[6:]
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			return dst[:n0], badEscape(s)
		}
		s = s[2:]
	}
}

// hex4 decodes the four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// badEscape returns the error for the malformed escape at the start of s.
func badEscape(s []byte) error {
	if len(s) > 6 {
		s = s[:6]
	}
	return fmt.Errorf("json: bad escape %q in string", string(s)) // a copy: s does not escape
}
