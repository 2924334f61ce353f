// Package regex turns lines into JSON object members with a Go regular
// expression: each named group that matched becomes a member. Presets cover
// the nginx and Apache combined access logs and klog.
package regex

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicelog/sluice/internal/jsonbytes"
)

// Kind is the JSON type a group's text is written as.
type Kind uint8

// The kinds a group can have. A group whose text does not parse as its
// kind (nginx writes "-" for no bytes) is left out of the output, so that a
// field keeps one type in Elasticsearch.
const (
	String Kind = iota
	Int
	Float
	Bool
)

// ParseKind parses a type hint: "string" (or ""), "int", "float", "bool".
func ParseKind(s string) (Kind, error) {
	switch s {
	case "", "string":
		return String, nil
	case "int":
		return Int, nil
	case "float":
		return Float, nil
	case "bool":
		return Bool, nil
	}
	return 0, fmt.Errorf("unknown type %q (want string, int, float or bool)", s)
}

// Parser is a compiled pattern. It is safe for concurrent use.
type Parser struct {
	re     *regexp.Regexp
	groups []group // by submatch index; name == "" for unnamed groups
	names  []string
}

type group struct {
	id   int    // index in names; a name may repeat in alternatives
	name string // field name, type suffix removed
	key  []byte // name as a JSON string followed by ':'
	kind Kind
}

// New compiles pattern. A named group is a field: `(?P<status>...)`, with
// an optional type suffix `(?P<status__int>...)`; types (may be nil) maps
// field names to type hints as well, and wins over a suffix. Every name in
// types must be a group of the pattern.
func New(pattern string, types map[string]string) (*Parser, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	p := &Parser{re: re, groups: make([]group, re.NumSubexp()+1)}
	seen := map[string]bool{}
	for i, name := range re.SubexpNames() {
		if name == "" {
			continue
		}
		kind := String
		if base, hint, ok := strings.Cut(name, "__"); ok {
			if kind, err = ParseKind(hint); err != nil {
				return nil, fmt.Errorf("group %q: %w", name, err)
			}
			name = base
		}
		if t, ok := types[name]; ok {
			if kind, err = ParseKind(t); err != nil {
				return nil, fmt.Errorf("types[%q]: %w", name, err)
			}
		}
		id := slices.Index(p.names, name)
		if id >= 0 {
			// One field from alternatives (syslog's 5424|3164): at most one
			// of the groups takes part in a match, and AppendMembers writes
			// the first that does.
			if prev := p.groups[slices.IndexFunc(p.groups, func(g group) bool { return g.name == name })]; prev.kind != kind || id >= 64 {
				return nil, fmt.Errorf("group %q is named twice with different types", name)
			}
		} else {
			id = len(p.names)
			p.names = append(p.names, name)
		}
		seen[name] = true
		p.groups[i] = group{id: id, name: name, key: append(jsonbytes.AppendStringString(nil, name), ':'), kind: kind}
	}
	if len(p.names) == 0 {
		return nil, fmt.Errorf("the pattern has no named group (?P<name>...)")
	}
	for name := range types {
		if !seen[name] {
			return nil, fmt.Errorf("types[%q]: no such group in the pattern", name)
		}
	}
	return p, nil
}

// Names returns the field names, in the order of the pattern.
func (p *Parser) Names() []string { return p.names }

// AppendMembers appends the members of the JSON object for line to dst,
// without braces: one per named group that took part in the match, in the
// order of the pattern. A trailing "\n" or "\r\n" is not matched. ok is
// false, and dst is returned unchanged, when the pattern does not match.
// Strings are escaped with jsonbytes.AppendString.
//
// It does not keep line; matching allocates the submatch slice (Go's
// regexp has no way to pass one in).
func (p *Parser) AppendMembers(dst, line []byte) ([]byte, bool) {
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
		if n > 0 && line[n-1] == '\r' {
			n--
		}
	}
	line = line[:n]
	m := p.re.FindSubmatchIndex(line)
	if m == nil {
		return dst, false
	}
	first := true
	var written uint64 // by name id, for names that repeat
	for i := 1; i < len(p.groups); i++ {
		g := &p.groups[i]
		s, e := m[2*i], m[2*i+1]
		if g.name == "" || s < 0 {
			continue
		}
		if g.id < 64 {
			if written&(1<<g.id) != 0 {
				continue
			}
			written |= 1 << g.id
		}
		v := line[s:e]
		mark := len(dst)
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, g.key...)
		if !appendValue(&dst, v, g.kind) {
			dst = dst[:mark]
			continue
		}
		first = false
	}
	return dst, true
}

func appendValue(dst *[]byte, v []byte, k Kind) bool {
	switch k {
	case Int:
		d := v
		neg := len(d) > 0 && (d[0] == '-' || d[0] == '+')
		if neg {
			d = d[1:]
		}
		if len(d) == 0 {
			return false
		}
		for _, c := range d {
			if c < '0' || c > '9' {
				return false
			}
		}
		for len(d) > 1 && d[0] == '0' {
			d = d[1:] // JSON has no leading zeros
		}
		if v[0] == '-' && (len(d) > 1 || d[0] != '0') {
			*dst = append(*dst, '-')
		}
		*dst = append(*dst, d...)
	case Float:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || f-f != 0 { // NaN and ±Inf are not JSON
			return false
		}
		*dst = strconv.AppendFloat(*dst, f, 'g', -1, 64)
	case Bool:
		b, err := strconv.ParseBool(string(v))
		if err != nil {
			return false
		}
		*dst = strconv.AppendBool(*dst, b)
	default:
		*dst = jsonbytes.AppendString(*dst, v)
	}
	return true
}
