package timestamp

import (
	"encoding/binary"
	"slices"
)

// Parser is ParseRFC3339 with a memory of one second. Log records come in
// time order, so consecutive timestamps almost always share their
// "YYYY-MM-DDThh:mm:ss": the Parser keeps the last such prefix that was
// valid and what it is worth, and when the next timestamp starts with the
// same 19 bytes it reads only the fraction and the zone (the zone follows
// the fraction, so it is read every time, as is everything after the
// seconds).
//
// The zero Parser is ready to use. A Parser is not safe for concurrent use:
// each goroutine that parses (a file's reader, a connection, a worker) owns
// one.
type Parser struct {
	// w0, w1 and w2 are bytes 0-7, 8-15 and 11-18 of the remembered prefix
	// (the last two overlap), compared as three words.
	w0, w1, w2 uint64
	wall       int64 // parseWall of the prefix
	valid      bool  // false until a prefix passed parseWall
}

// ParseRFC3339 returns what the package function ParseRFC3339 returns for
// b, for every b. A b whose prefix is not a valid date and time of day
// leaves the remembered one as it is. It does not allocate and does not
// keep b.
func (p *Parser) ParseRFC3339(b []byte) (int64, bool) {
	if len(b) < 20 {
		return 0, false
	}
	w0 := binary.LittleEndian.Uint64(b[0:8])
	w1 := binary.LittleEndian.Uint64(b[8:16])
	w2 := binary.LittleEndian.Uint64(b[11:19])
	if !p.valid || w0 != p.w0 || w1 != p.w1 || w2 != p.w2 {
		wall, ok := parseWall(b)
		if !ok {
			return 0, false
		}
		p.w0, p.w1, p.w2, p.wall, p.valid = w0, w1, w2, wall, true
	}
	return parseTail(b, p.wall)
}

// Formatter is AppendRFC3339Nano with a memory of one second: it keeps the
// text of the last Unix second it wrote, "YYYY-MM-DDThh:mm:ss", so that a
// run of times within one second (log records come in time order) costs a
// copy and the nine fraction digits.
//
// The zero Formatter is ready to use. A Formatter is not safe for
// concurrent use: each goroutine that formats owns one.
type Formatter struct {
	sec   int64    // the Unix second that text holds
	text  [19]byte // putSeconds(sec)
	valid bool     // false until text is set
}

// AppendRFC3339Nano appends ns to dst exactly as the package function
// AppendRFC3339Nano does, for every ns, and returns the extended dst. It
// allocates only if dst lacks room for 30 more bytes.
func (f *Formatter) AppendRFC3339Nano(dst []byte, ns int64) []byte {
	sec, frac := splitSec(ns)
	if !f.valid || sec != f.sec {
		putSeconds(&f.text, sec)
		f.sec, f.valid = sec, true
	}
	n := len(dst)
	dst = slices.Grow(dst, 30)[:n+30]
	b := (*[30]byte)(dst[n:])
	*(*[19]byte)(b[:19]) = f.text
	b[19] = '.'
	putFrac((*[9]byte)(b[20:29]), frac)
	b[29] = 'Z'
	return dst
}
