package document

import (
	"slices"

	"github.com/sluicelog/sluice/parsers/timelayout"
)

// The time and level of a record are taken while its parser's members are
// merged: one pass over the members just written (their positions are
// known, no document is decoded), then the level member is rewritten in
// place.

// member is the position of one "key":value pair in dst: the key with its
// quotes at [ks, ke), the value at [vs, ve).
type member struct{ ks, ke, vs, ve int }

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index past the string that opens at i, or -1.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index past the JSON value at i (valid JSON, as
// the parsers write it), or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				if j = skipString(b, j); j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}

// nextMember reads the member at or after i (past a separating comma).
func nextMember(b []byte, i int) (member, int, bool) {
	i = skipWS(b, i)
	if i < len(b) && b[i] == ',' {
		i = skipWS(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		return member{}, i, false
	}
	var m member
	m.ks = i
	if i = skipString(b, i); i < 0 {
		return member{}, i, false
	}
	m.ke = i
	if i = skipWS(b, i); i >= len(b) || b[i] != ':' {
		return member{}, i, false
	}
	m.vs = skipWS(b, i+1)
	if m.ve = skipValue(b, m.vs); m.ve < 0 {
		return member{}, i, false
	}
	return m, m.ve, true
}

// levelKeys in order of preference: the first present becomes "level".
var levelKeys = [...]string{"level", "lvl", "severity", "log.level"}

// fieldResult is what fields found.
type fieldResult struct {
	time    int64
	timeOK  bool
	timeSet bool // a time field is configured
}

// fields finds the time member and normalises the level member among the
// members at dst[start:], and returns dst.
func (p *parser) fields(dst []byte, start int, ref int64) ([]byte, fieldResult) {
	res := fieldResult{timeSet: p.time != nil}
	var (
		lvl     member
		lvlRank = len(levelKeys)
		tm      member
		haveTm  bool
	)
	for i := start; ; {
		m, next, ok := nextMember(dst, i)
		if !ok {
			break
		}
		i = next
		key := dst[m.ks+1 : m.ke-1]
		if p.time != nil && !haveTm && string(key) == p.timeKey {
			tm, haveTm = m, true
		}
		if p.level && lvlRank > 0 {
			for r, k := range levelKeys[:lvlRank] {
				if string(key) == k {
					lvl, lvlRank = m, r
					break
				}
			}
		}
	}
	if haveTm {
		v := dst[tm.vs:tm.ve]
		if len(v) >= 2 && v[0] == '"' {
			v = v[1 : len(v)-1]
		}
		res.time, res.timeOK = p.time.Parse(v, ref)
	}
	if lvlRank < len(levelKeys) {
		dst = normalizeLevel(dst, lvl)
	}
	return dst, res
}

// normalizeLevel rewrites one level member as "level":"<lower-case,
// canonical value>". The value is changed before the key so that the
// key's position stays valid.
func normalizeLevel(dst []byte, m member) []byte {
	v := dst[m.vs:m.ve]
	switch {
	case len(v) >= 2 && v[0] == '"' && !slices.Contains(v, '\\'):
		inner := v[1 : len(v)-1]
		for i, c := range inner {
			if c >= 'A' && c <= 'Z' {
				inner[i] = c + 'a' - 'A'
			}
		}
		if canon := levelAlias(inner); canon != "" && canon != string(inner) {
			dst = slices.Replace(dst, m.vs+1, m.ve-1, []byte(canon)...)
		}
	case len(v) == 2 && v[0] >= '1' && v[0] <= '6' && v[1] == '0':
		// pino and bunyan write numbers: 10 trace ... 60 fatal.
		canon := [...]string{`"trace"`, `"debug"`, `"info"`, `"warn"`, `"error"`, `"fatal"`}[v[0]-'1']
		dst = slices.Replace(dst, m.vs, m.ve, []byte(canon)...)
	}
	if string(dst[m.ks:m.ke]) != `"level"` {
		dst = slices.Replace(dst, m.ks, m.ke, []byte(`"level"`)...)
	}
	return dst
}

// levelAlias maps a lower-case level to its canonical name, "" when it
// is not a known alias (the lower-cased value stays).
func levelAlias(v []byte) string {
	switch string(v) {
	case "w", "warn", "warning":
		return "warn"
	case "e", "err", "error", "eror":
		return "error"
	case "i", "info", "information", "informational":
		return "info"
	case "d", "dbg", "debug":
		return "debug"
	case "t", "trc", "trace":
		return "trace"
	case "f", "fatal":
		return "fatal"
	case "crit", "critical":
		return "critical"
	case "emerg", "emergency":
		return "emergency"
	}
	return ""
}

// timeOf compiles a layout for a preset's default; nil when it does not
// compile (a preset bug caught by the tests).
func timeOf(layout string) *timelayout.Layout {
	l, err := timelayout.New(layout)
	if err != nil {
		return nil
	}
	return l
}
