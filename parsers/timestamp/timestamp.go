// Package timestamp parses and formats RFC 3339 timestamps as Unix
// nanoseconds without the time package on the hot path: no allocation, no
// time.Location lookups.
//
// ParseRFC3339 and AppendRFC3339Nano hold no state. Parser and Formatter
// give the same results and remember the last second they saw, which the
// next record of a time-ordered stream almost always shares; a goroutine
// that handles such a stream owns one of each it needs.
package timestamp

import (
	"encoding/binary"
	"math/bits"
)

// ParseRFC3339 parses an RFC 3339 timestamp such as
// 2026-11-25T10:00:00.123456789Z or 2026-11-25T12:00:00+02:00 and returns it
// as Unix nanoseconds (UTC).
//
// Accepted: YYYY-MM-DD, 'T' (or 't'), hh:mm:ss, an optional '.' followed by
// one or more digits, then 'Z' (or 'z') or a ±hh:mm offset. Digits past the
// ninth fraction digit are checked and dropped (truncated, as time.Parse
// does). Fields are range-checked: month 1-12, day within the month (leap
// years included), hour < 24, minute < 60, second <= 60, offset hours < 24,
// offset minutes < 60. A leap second (ss = 60) counts as the first second of
// the next minute, as Unix time has no leap seconds.
//
// It returns false for anything else, including a time that does not fit in
// an int64 of nanoseconds (before 1677-09-21 or after 2262-04-11). It does not
// allocate and does not keep b.
func ParseRFC3339(b []byte) (int64, bool) {
	// Shortest form: 2006-01-02T15:04:05Z (20 bytes).
	if len(b) < 20 {
		return 0, false
	}
	wall, ok := parseWall(b)
	if !ok {
		return 0, false
	}
	return parseTail(b, wall)
}

// parseWall reads and checks the date and time of day, b[:19]
// ("YYYY-MM-DDThh:mm:ss", len(b) >= 19), and returns them as seconds since
// 1970-01-01T00:00:00 of the same wall clock: the zone comes later.
func parseWall(b []byte) (int64, bool) {
	_ = b[18]
	year, ok1 := digits4(b[0:4])
	month, ok2 := digits2(b[5:7])
	day, ok3 := digits2(b[8:10])
	hour, ok4 := digits2(b[11:13])
	minute, ok5 := digits2(b[14:16])
	sec, ok6 := digits2(b[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 ||
		b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 60 {
		return 0, false
	}
	return daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec), true
}

// parseTail reads what follows the seconds, b[19:] (len(b) >= 20): an
// optional fraction, then the zone, which must end b. wall is what
// parseWall returned for b[:19].
func parseTail(b []byte, wall int64) (int64, bool) {
	i := 19
	var frac int64
	if b[i] == '.' {
		i++
		start := i
		n := 0
		// Eight digits at once when eight bytes follow the '.': the runtimes
		// write up to nine (fewer when they trim trailing zeros).
		if len(b)-i >= 8 {
			x := binary.LittleEndian.Uint64(b[i:])
			d := x - 0x3030303030303030
			// A byte's top bit is set here if it is below '0' (the
			// subtraction), above '9' (the addition) or above 0x7f. Carries
			// and borrows only go to later bytes, so the first byte
			// flagged is the first non-digit.
			nonDigit := ((x + 0x4646464646464646) | x | d) & 0x8080808080808080
			n = bits.TrailingZeros64(nonDigit) / 8 // 8 when all are digits
			// Keep the n digits, moved up behind leading zeros.
			frac = int64(eightDigits(d << (64 - 8*n)))
			i += n
		}
		for i < len(b) {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			if n < 9 {
				frac = frac*10 + int64(d)
				n++
			}
			i++
		}
		if i == start {
			return 0, false
		}
		frac *= pow10[9-n]
	}
	if i >= len(b) {
		return 0, false
	}

	var offset int64 // seconds east of UTC
	switch b[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(b)-i != 6 || b[i+3] != ':' {
			return 0, false
		}
		oh, okh := digits2(b[i+1 : i+3])
		om, okm := digits2(b[i+4 : i+6])
		if !okh || !okm || oh > 23 || om > 59 {
			return 0, false
		}
		offset = int64(oh*3600 + om*60)
		if b[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return 0, false
	}
	if i != len(b) {
		return 0, false
	}
	return toNanos(wall-offset, frac)
}

// toNanos returns secs*1e9+frac (0 <= frac < 1e9), or false if that does not
// fit in an int64.
func toNanos(secs, frac int64) (int64, bool) {
	const (
		maxSec = 9223372036 // math.MaxInt64 / 1e9
		minSec = -9223372037
	)
	switch {
	case secs > maxSec || secs < minSec:
		return 0, false
	case secs == maxSec && frac > 854775807:
		return 0, false
	case secs == minSec && frac < 145224192:
		return 0, false
	case secs < 0:
		// (secs+1)*1e9 cannot overflow where secs*1e9 might.
		return (secs+1)*1e9 + (frac - 1e9), true
	default:
		return secs*1e9 + frac, true
	}
}

// eightDigits returns the number that x holds as eight digits of one
// byte each (0-9, the first in the lowest byte).
func eightDigits(x uint64) uint64 {
	x = (x * 2561) >> 8                                      // pairs: 10*a + b
	x = ((x & 0x00ff00ff00ff00ff) * 6553601) >> 16           // fours: 100*ab + cd
	return ((x & 0x0000ffff0000ffff) * 42949672960001) >> 32 // 10000*abcd + efgh
}

var pow10 = [10]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

func digits2(b []byte) (int, bool) {
	d0, d1 := b[0]-'0', b[1]-'0'
	if d0 > 9 || d1 > 9 {
		return 0, false
	}
	return int(d0)*10 + int(d1), true
}

func digits4(b []byte) (int, bool) {
	hi, ok1 := digits2(b[0:2])
	lo, ok2 := digits2(b[2:4])
	return hi*100 + lo, ok1 && ok2
}

func isLeap(year int) bool {
	return year%4 == 0 && (year%100 != 0 || year%400 == 0)
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	default:
		return 31
	}
}

// daysFromCivil returns the number of days from 1970-01-01 to the given date
// of the proleptic Gregorian calendar. Years are shifted to start in March so
// that the leap day is the last day of the year; 400 years are 146097 days.
func daysFromCivil(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400                     // [0, 399]
	mp := int64((month + 9) % 12)          // March = 0
	doy := (153*mp+2)/5 + int64(day) - 1   // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468       // 719468 days from 0000-03-01 to 1970-01-01
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(days int64) (year, month, day int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], March = 0
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// split returns the day number since 1970-01-01 and the nanoseconds into that
// day (always >= 0) of ns.
func split(ns int64) (days, nsOfDay int64) {
	const nsPerDay = 86400 * 1e9
	days = ns / nsPerDay
	nsOfDay = ns % nsPerDay
	if nsOfDay < 0 {
		days--
		nsOfDay += nsPerDay
	}
	return days, nsOfDay
}

// Date returns the UTC calendar date of ns (Unix nanoseconds), for example
// for daily index names. It does not allocate.
func Date(ns int64) (year, month, day int) {
	days, _ := split(ns)
	return civilFromDays(days)
}

// AppendRFC3339Nano appends ns (Unix nanoseconds) to dst as a UTC RFC 3339
// timestamp with exactly nine fraction digits, for example
// 2026-11-25T10:00:00.123456789Z, and returns the extended dst. The fixed
// width (30 bytes) makes the strings sort in time order. It allocates only if
// dst lacks room for 30 more bytes.
func AppendRFC3339Nano(dst []byte, ns int64) []byte {
	var f Formatter
	return f.AppendRFC3339Nano(dst, ns)
}

// splitSec returns the Unix second of ns and the nanoseconds into it
// (always >= 0).
func splitSec(ns int64) (sec, frac int64) {
	sec, frac = ns/1e9, ns%1e9
	if frac < 0 {
		sec--
		frac += 1e9
	}
	return sec, frac
}

// putSeconds writes the UTC date and time of day of the Unix second sec,
// "YYYY-MM-DDThh:mm:ss", for a sec of an int64 of nanoseconds (its year has
// four digits).
func putSeconds(b *[19]byte, sec int64) {
	days := floorDiv(sec, 86400)
	secOfDay := int(sec - days*86400)
	year, month, day := civilFromDays(days)
	put2(b[0:2], year/100)
	put2(b[2:4], year%100)
	b[4] = '-'
	put2(b[5:7], month)
	b[7] = '-'
	put2(b[8:10], day)
	b[10] = 'T'
	put2(b[11:13], secOfDay/3600)
	b[13] = ':'
	put2(b[14:16], secOfDay/60%60)
	b[16] = ':'
	put2(b[17:19], secOfDay%60)
}

// putFrac writes frac (0 <= frac < 1e9) as nine digits.
func putFrac(b *[9]byte, frac int64) {
	v := uint32(frac)
	b[0] = byte('0' + v/1e8)
	binary.LittleEndian.PutUint64(b[1:], eightASCII(v%1e8))
}

// eightASCII returns v (< 1e8) as eight ASCII digits, the first in the
// lowest byte: v is cut into two lanes of four digits, then four of two,
// then eight of one, each lane divided by a multiply and a shift.
func eightASCII(v uint32) uint64 {
	x := uint64(v/10000) | uint64(v%10000)<<32
	q := (x * 10486 >> 20) & 0x0000007f0000007f // x/100 in each lane (x < 10000)
	x = q | (x-q*100)<<16
	q = (x * 103 >> 10) & 0x000f000f000f000f // x/10 in each lane (x < 100)
	x = q | (x-q*10)<<8
	return x | 0x3030303030303030
}

func put2(b []byte, v int) {
	b[0] = byte('0' + v/10)
	b[1] = byte('0' + v%10)
}
