package document

import (
	"slices"

	"github.com/sluicelog/sluice/internal/jsonbytes"

	"github.com/sluicelog/sluice/parsers/timelayout"
)

// The time and level of a record are taken while its parser's members are
// merged: one pass over the members just written (their positions are
// known, no document is decoded), then the level member is rewritten in
// place.

// member is the position of one "key":value pair in dst (jsonbytes.Member).
type member = jsonbytes.Member

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
		m, next, ok := jsonbytes.NextMember(dst, i)
		if !ok {
			break
		}
		i = next
		key := dst[m.KeyStart+1 : m.KeyEnd-1]
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
		v := dst[tm.ValStart:tm.ValEnd]
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
	v := dst[m.ValStart:m.ValEnd]
	switch {
	case len(v) >= 2 && v[0] == '"' && !slices.Contains(v, '\\'):
		inner := v[1 : len(v)-1]
		for i, c := range inner {
			if c >= 'A' && c <= 'Z' {
				inner[i] = c + 'a' - 'A'
			}
		}
		if canon := levelAlias(inner); canon != "" && canon != string(inner) {
			dst = slices.Replace(dst, m.ValStart+1, m.ValEnd-1, []byte(canon)...)
		}
	case len(v) == 2 && v[0] >= '1' && v[0] <= '6' && v[1] == '0':
		// pino and bunyan write numbers: 10 trace ... 60 fatal.
		canon := [...]string{`"trace"`, `"debug"`, `"info"`, `"warn"`, `"error"`, `"fatal"`}[v[0]-'1']
		dst = slices.Replace(dst, m.ValStart, m.ValEnd, []byte(canon)...)
	}
	if string(dst[m.KeyStart:m.KeyEnd]) != `"level"` {
		dst = slices.Replace(dst, m.KeyStart, m.KeyEnd, []byte(`"level"`)...)
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
