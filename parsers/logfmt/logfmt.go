// Package logfmt turns logfmt lines (`level=info msg="hello world" retry`)
// into JSON object members that a document encoder can merge, in the style
// of jsonbytes.Members.
package logfmt

import (
	"bytes"

	"github.com/sluicelog/sluice/internal/jsonbytes"
)

// MaxFields is the most key/value pairs (bare keys included) a line may
// hold; a line with more is not taken as logfmt.
const MaxFields = 256

// AppendMembers appends the members of the JSON object that line stands for
// to dst, without braces, and returns the extended dst:
//
//	key=value key2="quoted \" value" flag  →  "key":"value","key2":"quoted \" value","flag":true
//
// Values are always strings (an empty value, `reason=`, is ""); a bare key
// is true. Pairs are separated by spaces or tabs; a trailing "\r\n" or "\n"
// is ignored. Inside double quotes \" \\ \n \r and \t are undone; any other
// backslash is kept as it is. Keys and values are written with
// jsonbytes.AppendString, so the output is valid JSON even for invalid
// UTF-8 or control characters.
//
// ok is false, and dst is returned unchanged, when the line is not logfmt:
// no key=value pair at all, an unterminated quote, a quote inside a key or
// an unquoted value, a closing quote not followed by a space, an empty key
// (`=x`), or more than MaxFields fields.
//
// AppendMembers does not keep line and allocates only to grow dst.
func AppendMembers(dst, line []byte) ([]byte, bool) {
	dst, _, ok := AppendMembersReserved(dst, line, nil)
	return dst, ok
}

// AppendMembersReserved is AppendMembers that also reports conflict: true
// when a key repeats or reserved (if not nil) returns true for one.
// reserved must not keep the key it is passed. conflict is false when ok is
// false.
func AppendMembersReserved(dst, line []byte, reserved func(key []byte) bool) (out []byte, conflict, ok bool) {
	start := len(dst)
	b := bytes.TrimSuffix(line, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	var keys [MaxFields][2]int32 // offsets of the keys in b
	n, pairs := 0, 0
	i := 0
	for {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i == len(b) {
			break
		}
		ks := i
		for i < len(b) && b[i] != ' ' && b[i] != '\t' && b[i] != '=' && b[i] != '"' {
			i++
		}
		key := b[ks:i]
		if len(key) == 0 || n == MaxFields {
			return dst[:start], false, false // `=x`, `"x"`, or too many fields
		}
		if !conflict {
			if reserved != nil && reserved(key) {
				conflict = true
			}
			for _, k := range keys[:n] {
				if bytes.Equal(b[k[0]:k[1]], key) {
					conflict = true
					break
				}
			}
		}
		keys[n] = [2]int32{int32(ks), int32(i)}
		n++
		if n > 1 {
			dst = append(dst, ',')
		}
		dst = jsonbytes.AppendString(dst, key)
		dst = append(dst, ':')
		if i == len(b) || b[i] != '=' {
			dst = append(dst, "true"...)
			continue
		}
		pairs++
		i++ // '='
		if i < len(b) && b[i] == '"' {
			if i, dst = appendQuoted(dst, b, i+1); i < 0 {
				return dst[:start], false, false
			}
			if i < len(b) && b[i] != ' ' && b[i] != '\t' {
				return dst[:start], false, false // `a="x"y`
			}
			continue
		}
		vs := i
		for i < len(b) && b[i] != ' ' && b[i] != '\t' {
			if b[i] == '"' {
				return dst[:start], false, false // `a=x"y`
			}
			i++
		}
		dst = jsonbytes.AppendString(dst, b[vs:i])
	}
	if pairs == 0 {
		return dst[:start], false, false
	}
	return dst, conflict, true
}

// appendQuoted appends the quoted value whose opening quote is at i-1 as a
// JSON string and returns the index past its closing quote, or -1 if it is
// not closed.
func appendQuoted(dst, b []byte, i int) (int, []byte) {
	dst = append(dst, '"')
	run := i // b[run:i] waits to be copied
	for ; i < len(b); i++ {
		var esc string
		switch b[i] {
		case '"':
			dst = appendRaw(dst, b[run:i])
			return i + 1, append(dst, '"')
		case '\\':
			if i+1 == len(b) {
				return -1, dst
			}
			switch b[i+1] {
			case '"':
				esc = `\"`
			case '\\':
				esc = `\\`
			case 'n':
				esc = `\n`
			case 'r':
				esc = `\r`
			case 't':
				esc = `\t`
			default:
				i++ // keep the backslash and the byte after it as they are
				continue
			}
		default:
			continue
		}
		dst = appendRaw(dst, b[run:i])
		dst = append(dst, esc...)
		i++
		run = i + 1
	}
	return -1, dst
}

// appendRaw appends s escaped for the inside of a JSON string, without
// quotes.
func appendRaw(dst, s []byte) []byte {
	if len(s) == 0 {
		return dst
	}
	n := len(dst)
	dst = jsonbytes.AppendString(dst, s)
	copy(dst[n:], dst[n+1:len(dst)-1])
	return dst[:len(dst)-2]
}
