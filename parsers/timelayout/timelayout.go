// Package timelayout parses the time a log line carries in one of its
// fields: RFC 3339, Unix epochs (s, ms, µs, ns) or a layout written the Go
// way (02/Jan/2006:15:04:05 -0700) or the strftime way (%d/%b/%Y:%H:%M:%S
// %z). Parsing takes bytes, does not allocate, fills a missing year from
// the read time and is faster than time.Parse (bench/RESULTS.md).
package timelayout

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluicelog/sluice/parsers/timestamp"
)

type kind uint8

const (
	kRFC3339 kind = iota
	kEpoch
	kLayout
)

// Layout is a compiled layout. It is immutable and safe for concurrent use.
type Layout struct {
	kind   kind
	unit   int64 // epoch: nanoseconds per unit
	tokens []token
	year   bool // the layout has a year; else the reference time's is used
	spec   string
}

type tok uint8

const (
	tLiteral tok = iota
	tYear
	tYear2
	tMonth
	tMonthName // Jan or January
	tDay       // 02, _2, %d, %e: one or two digits, a leading space allowed
	tHour
	tHour12
	tMinute
	tSecond
	tFrac // .000 or .999 (any digits)
	tAMPM
	tWeekday // Mon or Monday: skipped
	tZone    // Z07:00, -0700, -07, MST: Z, ±hh[:mm], UTC, GMT
)

type token struct {
	t   tok
	lit string
}

// New compiles a layout: rfc3339, epoch_s, epoch_ms, epoch_us, epoch_ns,
// a strftime pattern (anything with a %), or a Go layout.
func New(spec string) (*Layout, error) {
	l := &Layout{spec: spec}
	switch spec {
	case "":
		return nil, fmt.Errorf("empty time layout")
	case "rfc3339", "RFC3339", "iso8601":
		l.kind = kRFC3339
		return l, nil
	case "epoch_s", "epoch":
		l.kind, l.unit = kEpoch, 1e9
		return l, nil
	case "epoch_ms":
		l.kind, l.unit = kEpoch, 1e6
		return l, nil
	case "epoch_us":
		l.kind, l.unit = kEpoch, 1e3
		return l, nil
	case "epoch_ns":
		l.kind, l.unit = kEpoch, 1
		return l, nil
	}
	l.kind = kLayout
	var err error
	if strings.Contains(spec, "%") {
		l.tokens, err = strftime(spec)
	} else {
		l.tokens = goLayout(spec)
	}
	if err != nil {
		return nil, err
	}
	var has [tZone + 1]bool
	for _, t := range l.tokens {
		has[t.t] = true
	}
	if !has[tMonth] && !has[tMonthName] || !has[tDay] || !has[tHour] && !has[tHour12] {
		return nil, fmt.Errorf("time layout %q needs at least a month, a day and an hour", spec)
	}
	l.year = has[tYear] || has[tYear2]
	return l, nil
}

// String returns the layout as written.
func (l *Layout) String() string { return l.spec }

// goStd are the Go layout elements understood, longest first at each
// start so that "January" wins over "Jan".
var goStd = []struct {
	s string
	t tok
}{
	{"January", tMonthName}, {"Monday", tWeekday}, {"Z07:00", tZone}, {"-07:00", tZone},
	{"Z0700", tZone}, {"-0700", tZone}, {"2006", tYear}, {"Jan", tMonthName}, {"Mon", tWeekday},
	{"MST", tZone}, {"-07", tZone}, {"Z07", tZone}, {"01", tMonth}, {"02", tDay}, {"_2", tDay},
	{"15", tHour}, {"03", tHour12}, {"04", tMinute}, {"05", tSecond}, {"06", tYear2},
	{"PM", tAMPM}, {"pm", tAMPM},
	{"1", tMonth}, {"2", tDay}, {"3", tHour12}, {"4", tMinute}, {"5", tSecond},
}

func goLayout(s string) []token {
	var out []token
	lit := 0
	flush := func(i int) {
		if i > lit {
			out = append(out, token{t: tLiteral, lit: s[lit:i]})
		}
	}
	for i := 0; i < len(s); {
		if (s[i] == '.' || s[i] == ',') && i+1 < len(s) && (s[i+1] == '0' || s[i+1] == '9') {
			j := i + 1
			for j < len(s) && s[j] == s[i+1] {
				j++
			}
			if j == len(s) || s[j] < '0' || s[j] > '9' {
				flush(i)
				out = append(out, token{t: tFrac})
				i, lit = j, j
				continue
			}
		}
		matched := false
		for _, std := range goStd {
			if strings.HasPrefix(s[i:], std.s) {
				flush(i)
				out = append(out, token{t: std.t})
				i += len(std.s)
				lit, matched = i, true
				break
			}
		}
		if !matched {
			i++
		}
	}
	flush(len(s))
	return out
}

func strftime(s string) ([]token, error) {
	var out []token
	var lit []byte
	emit := func(t tok) {
		if len(lit) > 0 {
			out = append(out, token{t: tLiteral, lit: string(lit)})
			lit = lit[:0]
		}
		out = append(out, token{t: t})
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit = append(lit, s[i])
			continue
		}
		if i+1 == len(s) {
			return nil, fmt.Errorf("time layout %q ends with %%", s)
		}
		i++
		switch s[i] {
		case 'Y':
			emit(tYear)
		case 'y':
			emit(tYear2)
		case 'm':
			emit(tMonth)
		case 'b', 'h', 'B':
			emit(tMonthName)
		case 'd', 'e':
			emit(tDay)
		case 'H', 'k':
			emit(tHour)
		case 'I', 'l':
			emit(tHour12)
		case 'M':
			emit(tMinute)
		case 'S':
			emit(tSecond)
		case 'f', 'L', 'N':
			// The fraction token reads its own '.' or ','.
			if n := len(lit); n > 0 && (lit[n-1] == '.' || lit[n-1] == ',') {
				lit = lit[:n-1]
			}
			emit(tFrac)
		case 'p', 'P':
			emit(tAMPM)
		case 'a', 'A':
			emit(tWeekday)
		case 'z', 'Z':
			emit(tZone)
		case 'T':
			emit(tHour)
			lit = append(lit, ':')
			emit(tMinute)
			lit = append(lit, ':')
			emit(tSecond)
		case 'F':
			emit(tYear)
			lit = append(lit, '-')
			emit(tMonth)
			lit = append(lit, '-')
			emit(tDay)
		case '%':
			lit = append(lit, '%')
		default:
			return nil, fmt.Errorf("time layout %q: %%%c is not supported", s, s[i])
		}
	}
	if len(lit) > 0 {
		out = append(out, token{t: tLiteral, lit: string(lit)})
	}
	return out, nil
}

// Parse returns b as Unix nanoseconds. ref (Unix nanoseconds, the read
// time) supplies the year when the layout has none: its year, or the year
// before when that would put the time more than a day after ref (a
// December line read in January). A layout without a zone is UTC.
func (l *Layout) Parse(b []byte, ref int64) (int64, bool) {
	switch l.kind {
	case kRFC3339:
		return timestamp.ParseRFC3339(b)
	case kEpoch:
		return l.epoch(b)
	}
	var (
		year, month, day, hour, minute, sec, frac int
		offset                                    int // seconds east of UTC
		pm, ampm                                  bool
	)
	month, day = -1, -1
	i := 0
	for k, t := range l.tokens {
		var ok bool
		switch t.t {
		case tLiteral:
			if len(b)-i < len(t.lit) || string(b[i:i+len(t.lit)]) != t.lit {
				return 0, false
			}
			i += len(t.lit)
			ok = true
		case tYear:
			year, i, ok = num(b, i, 4, 4)
		case tYear2:
			year, i, ok = num(b, i, 2, 2)
			year += 2000
			if year > 2068 {
				year -= 100
			}
		case tMonth:
			month, i, ok = num(b, i, 1, 2)
		case tMonthName:
			month, i, ok = monthName(b, i)
		case tDay:
			if i < len(b) && b[i] == ' ' {
				i++
			}
			day, i, ok = num(b, i, 1, 2)
		case tHour, tHour12:
			hour, i, ok = num(b, i, 1, 2)
			ampm = ampm || t.t == tHour12
		case tMinute:
			minute, i, ok = num(b, i, 1, 2)
		case tSecond:
			sec, i, ok = num(b, i, 1, 2)
			// As time.Parse does: a fraction may follow the seconds
			// even when the layout has none.
			if ok && i+1 < len(b) && (b[i] == '.' || b[i] == ',') && isDigit(b[i+1]) &&
				(k+1 == len(l.tokens) || l.tokens[k+1].t != tFrac) {
				frac, i = fraction(b, i+1)
			}
		case tFrac:
			if i < len(b) && (b[i] == '.' || b[i] == ',') {
				i++
			}
			if i < len(b) && isDigit(b[i]) {
				frac, i = fraction(b, i)
			}
			ok = true
		case tAMPM:
			if len(b)-i < 2 {
				return 0, false
			}
			switch b[i] | 0x20 {
			case 'a':
			case 'p':
				pm = true
			default:
				return 0, false
			}
			if b[i+1]|0x20 != 'm' {
				return 0, false
			}
			i, ok = i+2, true
		case tWeekday:
			j := i
			for j < len(b) && (b[j]|0x20 >= 'a' && b[j]|0x20 <= 'z') {
				j++
			}
			i, ok = j, j-i >= 3
		case tZone:
			offset, i, ok = zone(b, i)
		}
		if !ok {
			return 0, false
		}
	}
	if i != len(b) {
		return 0, false
	}
	if ampm {
		if hour < 1 || hour > 12 {
			return 0, false
		}
		hour %= 12
		if pm {
			hour += 12
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return 0, false
	}
	if !l.year {
		year = time.Unix(0, ref).UTC().Year()
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, frac, time.UTC)
	if t.Day() != day { // 31 April
		return 0, false
	}
	ns := t.UnixNano() - int64(offset)*1e9
	if !l.year && ns > ref+int64(24*time.Hour) {
		ns = time.Date(year-1, time.Month(month), day, hour, minute, sec, frac, time.UTC).UnixNano() - int64(offset)*1e9
	}
	if y := t.Year(); y < 1678 || y > 2261 { // outside int64 nanoseconds
		return 0, false
	}
	return ns, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// num reads min to max digits at i.
func num(b []byte, i, minN, maxN int) (int, int, bool) {
	v, n := 0, 0
	for i < len(b) && n < maxN && isDigit(b[i]) {
		v = v*10 + int(b[i]-'0')
		i++
		n++
	}
	return v, i, n >= minN
}

// fraction reads digits at i as nanoseconds (past nine digits dropped).
func fraction(b []byte, i int) (int, int) {
	v, n := 0, 0
	for i < len(b) && isDigit(b[i]) {
		if n < 9 {
			v = v*10 + int(b[i]-'0')
			n++
		}
		i++
	}
	for ; n < 9; n++ {
		v *= 10
	}
	return v, i
}

var months = [12]string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}

// monthName reads "Jan" or "January", in any case.
func monthName(b []byte, i int) (int, int, bool) {
	if len(b)-i < 3 {
		return 0, i, false
	}
	for m, name := range months {
		if b[i]|0x20 != name[0] || b[i+1]|0x20 != name[1] || b[i+2]|0x20 != name[2] {
			continue
		}
		j := i + 3
		full := true
		for k := 3; k < len(name); k++ {
			if j+k-3 >= len(b) || b[j+k-3]|0x20 != name[k] {
				full = false
				break
			}
		}
		if full {
			j = i + len(name)
		}
		return m + 1, j, true
	}
	return 0, i, false
}

// zone reads Z, UTC, GMT, ±hh, ±hhmm or ±hh:mm.
func zone(b []byte, i int) (int, int, bool) {
	if i < len(b) && (b[i] == 'Z' || b[i] == 'z') {
		return 0, i + 1, true
	}
	if len(b)-i >= 3 && (string(b[i:i+3]) == "UTC" || string(b[i:i+3]) == "GMT") {
		return 0, i + 3, true
	}
	if i >= len(b) || b[i] != '+' && b[i] != '-' {
		return 0, i, false
	}
	neg := b[i] == '-'
	h, j, ok := num(b, i+1, 2, 2)
	if !ok || h > 23 {
		return 0, i, false
	}
	m := 0
	if j < len(b) && b[j] == ':' {
		j++
	}
	if j+1 < len(b) && isDigit(b[j]) && isDigit(b[j+1]) {
		m, j, _ = num(b, j, 2, 2)
		if m > 59 {
			return 0, i, false
		}
	}
	off := h*3600 + m*60
	if neg {
		off = -off
	}
	return off, j, true
}

// epoch parses digits with an optional fraction, in l.unit.
func (l *Layout) epoch(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var whole int64
	i := 0
	for i < len(b) && isDigit(b[i]) {
		if whole > (1<<63-1)/10/l.unit {
			return 0, false
		}
		whole = whole*10 + int64(b[i]-'0')
		i++
	}
	if i == 0 {
		return 0, false
	}
	if whole > (1<<63-1)/l.unit {
		return 0, false
	}
	ns := whole * l.unit
	if i < len(b) && b[i] == '.' {
		i++
		scale := l.unit
		for i < len(b) && isDigit(b[i]) {
			scale /= 10
			ns += int64(b[i]-'0') * scale
			i++
		}
	}
	if i != len(b) {
		return 0, false
	}
	if neg {
		ns = -ns
	}
	return ns, true
}
