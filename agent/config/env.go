package config

import (
	"bytes"
	"fmt"
	"os"
)

// Expand replaces ${VAR} and ${VAR:-default} with values from lookup
// (os.LookupEnv when nil). "$$" is a literal "$". A variable that is unset
// and has no default is an error naming its line, so a missing Secret is
// caught at startup instead of shipping to "http:///".
func Expand(src []byte, lookup func(string) (string, bool)) ([]byte, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var out bytes.Buffer
	out.Grow(len(src))
	line := 1
	var quote byte // the open quote of a scalar on this line, or 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			line++
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && c == '#' && (i == 0 || src[i-1] == ' ' || src[i-1] == '\t' || src[i-1] == '\n'):
			// A comment: copied as it is, so "${VAR}" in prose is no error.
			end := bytes.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			out.Write(src[i : i+end])
			i += end - 1
			continue
		}
		if c != '$' || i+1 >= len(src) {
			out.WriteByte(c)
			continue
		}
		switch src[i+1] {
		case '$':
			out.WriteByte('$')
			i++
			continue
		case '{':
		default:
			out.WriteByte(c)
			continue
		}
		end := bytes.IndexByte(src[i+2:], '}')
		if end < 0 {
			return nil, fmt.Errorf("line %d: unterminated ${ in %q", line, clip(src[i:]))
		}
		expr := string(src[i+2 : i+2+end])
		name, def, hasDef := expr, "", false
		if j := indexOf(expr, ":-"); j >= 0 {
			name, def, hasDef = expr[:j], expr[j+2:], true
		}
		if !validName(name) {
			return nil, fmt.Errorf("line %d: bad variable name %q in ${%s}", line, name, expr)
		}
		v, ok := lookup(name)
		switch {
		case ok && (v != "" || !hasDef):
			out.WriteString(v)
		case hasDef:
			out.WriteString(def)
		default:
			return nil, fmt.Errorf("line %d: environment variable %s is not set (write ${%s:-default} to allow that)", line, name, name)
		}
		i += 2 + end
	}
	return out.Bytes(), nil
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}

func clip(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}
