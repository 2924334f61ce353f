// Package jsonbytes holds the small JSON pieces the agent needs on its hot path,
// written for byte slices and for no allocation per line: quoting a string
// (AppendString), undoing the escapes of one (Unescape), and checking that a
// log line is a JSON object whose members can be merged into a document
// (Members).
package jsonbytes

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
	"unsafe"
)

const hexDigits = "0123456789abcdef"

// plainASCII[c] is true for the ASCII bytes that AppendString copies as they
// are: 0x20-0x7f except '"' and '\\'.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString appends s to dst as a quoted JSON string and returns the
// extended dst.
//
// It escapes '"' and '\\'; '\n', '\r' and '\t' as \n, \r and \t; the other
// bytes below 0x20 as \u00XX; and U+2028 and U+2029 as \u2028 and \u2029 (so
// the output is also valid JavaScript). Each byte of s that is not part of a
// valid UTF-8 sequence becomes U+FFFD, so the output is always valid UTF-8.
// Everything else, '<', '>', '&' and DEL included, is copied as is, in runs
// of one copy each.
//
// It does not keep s, and allocates only to grow dst.
func AppendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is waiting to be copied
	i := plainPrefix(s)
	for i < len(s) {
		if i+8 <= len(s) {
			m := escape8(binary.LittleEndian.Uint64(s[i:]))
			if m == 0 {
				i += 8
				continue
			}
			// Straight to the first byte that needs a look; the rest of
			// the word is read again from there.
			i += bits.TrailingZeros64(m) >> 3
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		// A run of non-ASCII characters is decoded here, not through the
		// word scan, which would stop at each of their bytes.
		for i < len(s) && s[i] >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\ufffd"...)
				i++
				start = i
			case r == '\u2028' || r == '\u2029':
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
				i += size
				start = i
			default:
				i += size
			}
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendStringString is AppendString for a string.
func AppendStringString(dst []byte, s string) []byte {
	// Read-only view of s: AppendString neither writes to nor keeps it.
	return AppendString(dst, unsafe.Slice(unsafe.StringData(s), len(s)))
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// escape8 sets the high bit of the first (lowest) byte of w that
// AppendString does not copy as it is ('"', '\\', below 0x20, or >= 0x80),
// and maybe of bytes after it; it is 0 when there is none. A plain byte
// borrows in none of the three subtractions, so nothing below the first
// such byte is flagged: the lowest set bit is exact.
func escape8(w uint64) uint64 {
	return (w | (w - 0x20*ones) | ((w ^ '"'*ones) - ones) | ((w ^ '\\'*ones) - ones)) & highs
}
