package syslog

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/sluicelog/sluice/parsers/timestamp"
)

// RFC 5424 6.2 field length limits.
const (
	maxHostname = 255
	maxAppName  = 48
	maxProcID   = 128
	maxMsgID    = 32
	maxSDName   = 32
)

// read5424 reads a well-formed RFC 5424 frame into f, which is zero,
// without go-syslog.v2 and without allocating: every field is a view into
// frame. last is the connection's previous header (see lastHeader); a
// frame that repeats it is not read token by token.
//
//	<PRI>1 SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]
//
// It returns true only where its fields are exactly what the library path
// (parseLibrary) gives; anything it is not sure of is left to that path:
// header fields empty, too long or outside PRINTUSASCII, a timestamp the
// library reads differently or rejects (see stamp5424), structured data
// that does not follow the RFC's grammar or that the library would cut
// short, a VERSION other than 1. FuzzFast5424 holds it to that.
func (f *fields) read5424(frame []byte, ts *timestamp.Parser, last *lastHeader) bool {
	pri, n, ok := parsePRI(frame)
	if !ok || len(frame) < n+2 || frame[n] != '1' || frame[n+1] != ' ' {
		return false
	}
	f.pri = pri
	i := n + 2

	tok, i, _ := token(frame, i, 32)
	if tok == nil {
		return false
	}
	if !(len(tok) == 1 && tok[0] == '-') {
		if f.time, ok = stamp5424(tok, ts); !ok {
			return false
		}
	}
	start := i
	if n := len(last.raw); n > 0 && len(frame) > i+n && frame[i+n] == ' ' && string(frame[i:i+n]) == string(last.raw) {
		// The previous frame's HOSTNAME SP APP-NAME SP PROCID: three
		// tokens without SP, so the same bytes split the same way.
		app := i + last.host + 1
		proc := app + last.app + 1
		f.hostname, f.appName, f.procID = frame[i:app-1], frame[app:proc-1], frame[proc:i+n]
		f.plainHeader, f.sameHeader = last.plain, true
		last.misses = 0
		i += n + 1
	} else {
		var plainHost, plainApp, plainProc bool
		if f.hostname, i, plainHost = token(frame, i, maxHostname); f.hostname == nil {
			return false
		}
		if f.appName, i, plainApp = token(frame, i, maxAppName); f.appName == nil {
			return false
		}
		if f.procID, i, plainProc = token(frame, i, maxProcID); f.procID == nil {
			return false
		}
		f.plainHeader = plainHost && plainApp && plainProc
	}
	f.header = frame[start : i-1]
	if f.msgID, i, f.plainMsgID = token(frame, i, maxMsgID); f.msgID == nil {
		return false
	}

	end, sdPlain := structuredData(frame, i)
	if end < 0 {
		return false
	}
	f.sdPlain = sdPlain
	f.sd = frame[i:end]
	switch {
	case end == len(frame):
		f.msg = frame[end:]
	case frame[end] == ' ':
		f.msg = bytes.TrimPrefix(frame[end+1:], utf8BOM)
	default:
		return false
	}
	return true
}

// lastHeader is the HOSTNAME SP APP-NAME SP PROCID of a connection's (or
// UDP reader's) last message that took the fast path, with the encoded
// syslog members of that header under one PRI. One connection's messages
// mostly come from one process on one host: a frame that repeats the
// header is checked with one comparison instead of three tokens, and from
// the second repeat on its members are copied already encoded. A frame
// that does not repeat it costs the copy of its header; on a connection
// whose headers keep changing (a relay's) only one in rememberEvery is
// copied.
type lastHeader struct {
	raw       []byte // HOSTNAME SP APP-NAME SP PROCID
	host, app int    // the lengths of HOSTNAME and APP-NAME in raw
	plain     bool   // none of the three needs escaping in JSON
	pri       int    // the PRI enc is for; -1 for none
	enc       []byte // `"syslog":{` and the members of pri and the three
	misses    int    // frames in a row that did not repeat the header
}

const rememberEvery = 16

// remember keeps the fast path's header of f, whose encoded members
// (`"syslog":{` onwards) are enc: the header itself when it is new, its
// encoding when it repeats.
func (l *lastHeader) remember(f *fields, enc []byte) {
	if f.sameHeader {
		l.pri = f.pri
		l.enc = append(l.enc[:0], enc...)
		return
	}
	l.misses++
	if l.misses > 2 && l.misses%rememberEvery != 0 {
		return
	}
	l.raw = append(l.raw[:0], f.header...)
	l.host, l.app, l.plain = len(f.hostname), len(f.appName), f.plainHeader
	l.pri = -1
}

// token returns the 1..max PRINTUSASCII bytes at b[i:], the index after
// the SP that must follow them, and whether they are plain: free of '"'
// and '\\', the only PRINTUSASCII bytes JSON escapes. It returns nil if
// there is no such token. The library reads up to the next SP whatever the
// bytes and would take an empty field; neither is what a well-formed frame
// holds, so both are declined.
func token(b []byte, i, max int) ([]byte, int, bool) {
	start := i
	end := min(len(b), start+max+1)
	// Eight bytes at a time while they fit in b (the frame goes on past
	// a field, so words may reach beyond end; a stop found there means
	// the token is too long): stop8 flags the first byte outside
	// PRINTUSASCII (SP among them) exactly, quote8 flags '"' and '\\'
	// (exactly from the lowest; only those below the stop count).
	var esc uint64
	for i < end && i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		q := quote8(w)
		if m := stop8(w); m != 0 {
			esc |= q & (m&-m - 1)
			i = min(i+bits.TrailingZeros64(m)>>3, end)
			goto found
		}
		esc |= q
		i += 8
	}
	if i >= end {
		return nil, 0, false
	}
	// One table load per byte for the rest: SP and every non-PRINTUSASCII
	// byte stop the loop (which one it was is checked once after), and the
	// classes of the others are or-ed together.
	{
		var seen byte
		for i < end {
			c := headerClass[b[i]]
			if c == 0 {
				break
			}
			seen |= c
			i++
		}
		if seen&classEscaped != 0 {
			esc = 1
		}
	}
found:
	if i == start || i == end || b[i] != ' ' {
		return nil, 0, false
	}
	return b[start:i], i + 1, esc == 0
}

// stop8 sets the high bit of the first (lowest) byte of w outside
// PRINTUSASCII (below 33 or above 126), and maybe of bytes after it; 0
// when there is none. A byte in 33..126 neither borrows (w-33) nor carries
// (w+1), so nothing below the first such byte is flagged.
func stop8(w uint64) uint64 {
	const ones = 0x0101010101010101
	return ((w - 33*ones) | w | (w + ones)) & 0x8080808080808080
}

// quote8 sets the high bit of every byte of w that is '"' or '\\' (and
// maybe of bytes just above one: never below the lowest).
func quote8(w uint64) uint64 {
	const ones = 0x0101010101010101
	x, y := w^'"'*ones, w^'\\'*ones
	return ((x-ones)&^x | (y-ones)&^y) & 0x8080808080808080
}

const (
	classPlain   = 1 // PRINTUSASCII that JSON copies as it is
	classEscaped = 2 // '"' and '\\'
)

// headerClass sorts bytes for token; 0 is SP and everything outside
// PRINTUSASCII (33..126).
var headerClass = func() (t [256]byte) {
	for c := 33; c <= 126; c++ {
		t[c] = classPlain
	}
	t['"'], t['\\'] = classEscaped, classEscaped
	return t
}()

// stamp5424 reads an RFC 5424 TIMESTAMP as Unix ns where go-syslog.v2
// reads the same instant: "YYYY-MM-DDThh:mm:ss", an optional fraction of
// 1 to 6 digits, then "Z" or ±hh:mm. The library differs elsewhere, so
// those are declined: it takes a lowercase 't'/'z' nowhere, a fraction of
// 0 or 7+ digits oddly, seconds = 60 not at all, and rolls a day past the
// month's end over (Feb 31) where timestamp.ParseRFC3339 says no; it also
// parses digits with strconv.Atoi, so "+1" is a month to it (the fixed
// digit checks here refuse that). Times outside int64 ns are declined by
// ParseRFC3339 (the library wraps them), so 0001-01-01 (time.Time's zero,
// "no timestamp" to from5424) never comes here. ts is the connection's:
// its messages mostly share the second.
func stamp5424(b []byte, ts *timestamp.Parser) (int64, bool) {
	if len(b) < 20 || b[10] != 'T' || b[17] > '5' {
		return 0, false
	}
	i := 19
	if b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if d := i - start; d < 1 || d > 6 {
			return 0, false
		}
	}
	switch {
	case i == len(b)-1 && b[i] == 'Z':
	case i == len(b)-6 && (b[i] == '+' || b[i] == '-'):
	default:
		return 0, false
	}
	return ts.ParseRFC3339(b)
}

// structuredData returns the end of the STRUCTURED-DATA at b[i:] ("-", or
// SD-ELEMENTs following RFC 5424 6.3), or -1. The library does not parse
// it: it ends it at the first ']' followed by SP or the frame's end, so an
// element whose value holds "] " (escaped or not) is declined, as is every
// unescaped ']' or '"' and any backslash escape the RFC does not name.
// plain reports SD-ELEMENTs whose only byte that JSON escapes is '"' (no
// '\\', no byte below 0x20 or from 0x80): add then encodes them without
// jsonbytes.AppendString.
func structuredData(b []byte, i int) (end int, plain bool) {
	if i >= len(b) {
		// The library calls a missing SD "-"; a well-formed frame has one.
		return -1, false
	}
	if b[i] == '-' {
		return i + 1, false
	}
	var seen byte // the sdClass bits of the bytes read
	for i < len(b) && b[i] == '[' {
		i++
		if i = sdName(b, i, &seen); i < 0 {
			return -1, false
		}
		for i < len(b) && b[i] == ' ' {
			i++
			if i = sdName(b, i, &seen); i < 0 || i+1 >= len(b) || b[i] != '=' || b[i+1] != '"' {
				return -1, false
			}
			if i = sdValue(b, i+2, &seen); i < 0 {
				return -1, false
			}
		}
		if i >= len(b) || b[i] != ']' {
			return -1, false
		}
		i++
		// Only the last element's ']' may be followed by SP or the end,
		// or the library stops there.
		if i < len(b) && b[i] == '[' {
			continue
		}
		return i, seen&sdEscaped == 0
	}
	return -1, false
}

// sdClass sorts bytes for sdName and sdValue: the bytes that end a name
// or stop a value's scan, and those JSON escapes.
const (
	sdNameEnd  = 1 << iota // '=', SP, ']', '"': the end of an SD-NAME
	sdNameBad              // outside PRINTUSASCII (but SP): not in an SD-NAME
	sdValueEnd             // '"', ']', '\\': a PARAM-VALUE's scan stops
	sdEscaped              // '\\', below 0x20, 0x80 and up: JSON escapes them
)

var sdClass = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case c == '=' || c == ' ' || c == ']' || c == '"':
			t[c] |= sdNameEnd
		case c < 33 || c > 126:
			t[c] |= sdNameBad
		}
		if c == '"' || c == ']' || c == '\\' {
			t[c] |= sdValueEnd
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			t[c] |= sdEscaped
		}
	}
	return t
}()

// sdName checks an SD-NAME (1*32 PRINTUSASCII but '=', SP, ']', '"') at
// b[i:] and returns the index after it, or -1. It ors the sdClass of its
// bytes into seen.
func sdName(b []byte, i int, seen *byte) int {
	start := i
	var cls byte
	for i < len(b) {
		c := sdClass[b[i]]
		if c&sdNameEnd != 0 {
			break
		}
		if c&sdNameBad != 0 {
			return -1
		}
		cls |= c
		i++
	}
	if n := i - start; n < 1 || n > maxSDName {
		return -1
	}
	*seen |= cls
	return i
}

// sdValue checks a PARAM-VALUE after its opening '"' and returns the index
// after its closing '"', or -1. '"', '\' and ']' must be escaped; a "\]"
// before SP would end the library's SD there. It ors the sdClass of the
// value's bytes into seen.
func sdValue(b []byte, i int, seen *byte) int {
	var cls byte
	for i < len(b) {
		c := sdClass[b[i]]
		cls |= c
		if c&sdValueEnd == 0 {
			i++
			continue
		}
		switch b[i] {
		case '"':
			*seen |= cls
			return i + 1
		case ']':
			return -1
		}
		// '\\'
		if i+1 >= len(b) {
			return -1
		}
		switch b[i+1] {
		case '"', '\\':
		case ']':
			if i+2 < len(b) && b[i+2] == ' ' {
				return -1
			}
		default:
			return -1
		}
		i += 2
	}
	return -1
}
