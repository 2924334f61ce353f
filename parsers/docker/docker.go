// Package docker parses the lines of docker's json-file log driver:
//
//	{"log":"hello\n","stream":"stdout","time":"2019-04-01T17:58:33.598656444Z"}
//
// Keys may come in any order and other keys (such as "attrs") may be
// present; they are skipped. "log" is required; "stream" and "time" are
// optional (Stream and Time are then zero). Docker ends the "log" value of a
// complete line with "\n"; a value without it is a partial line (docker
// splits lines longer than 16 KiB) whose rest follows in the next lines of
// the same stream.
//
// The parser is a small hand-written scanner: it checks the structure it
// walks through (braces, quotes, separators, the escapes of the values it
// reads) but is lenient inside the values of keys it skips, and does not
// check UTF-8. Use the json package for strict validation of the log text.
package docker

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/sluicelog/sluice/agent/record/stream"
	"github.com/sluicelog/sluice/internal/jsonbytes"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// Line is one parsed json-file line.
type Line struct {
	Time    int64         // Unix nanoseconds; 0 without a "time" key
	Stream  stream.Stream // stream.Unknown without a "stream" key
	Partial bool          // the "log" value does not end in "\n"
	// Msg is the unescaped "log" value without the "\n" that ends a
	// complete line. It is a subslice of the dst returned by Parse.
	Msg []byte
}

// Parse parses one json-file line (with or without its trailing newline).
// It appends the unescaped "log" value to dst, less the "\n" that ends a
// complete line, and returns the line and the extended dst; Line.Msg is the
// tail of that dst, and the returned dst ends where Msg ends. So partial lines
// join by parsing them into the same buffer:
//
//	buf = buf[:0]
//	for {
//		l, buf, err = docker.Parse(buf, next())
//		if err != nil || !l.Partial {
//			break
//		}
//	}
//	// buf holds the whole message
//
// Msg is valid until dst is next written to. Parse does not keep line and
// does not allocate when dst has room for the message. On error it returns
// dst unchanged and an error that says what is wrong and quotes the input
// where it went wrong.
func Parse(dst, line []byte) (Line, []byte, error) {
	var p Parser
	return p.Parse(dst, line)
}

// Parser is Parse for the lines of one file, in order: it remembers the
// second of the last "time" (a timestamp.Parser), which the next lines
// almost always share, so that for those only the fraction and the zone
// are read. The zero Parser is ready to use. It is not safe for concurrent
// use: each reader of a file owns one.
type Parser struct {
	ts timestamp.Parser
}

// Parse is the package function Parse: the same results for every dst and
// line, in any order.
func (p *Parser) Parse(dst, line []byte) (Line, []byte, error) {
	n0 := len(dst)
	l, dst, _, perr := parse(&p.ts, dst, line)
	if perr.what != "" {
		return Line{}, dst[:n0], perr.error(line)
	}
	return l, dst, nil
}

// Looks reports whether line is a docker json-file line as the driver writes
// it: Parse would accept it, and it has a valid "time" and a "stream" of
// stdout or stderr besides "log". (Parse alone also accepts a bare
// {"log":"..."}, which many JSON application logs could pass for.) It is
// meant for telling the format of a file from its first line; it allocates
// only for a "log" value longer than 256 bytes.
func Looks(line []byte) bool {
	var buf [256]byte
	var tp timestamp.Parser
	l, _, hasTime, perr := parse(&tp, buf[:0], line)
	return perr.what == "" && hasTime && l.Stream != stream.Unknown
}

// parseError is what went wrong, and where. Building the error value is left
// to the error path.
type parseError struct {
	what string
	pos  int   // in line, for quoting
	err  error // an escape error from jsonbytes.Unescape
}

func (e parseError) error(line []byte) error {
	const maxQuote = 40
	pos := min(max(e.pos, 0), len(line))
	snippet := line[pos:]
	more := ""
	if len(snippet) > maxQuote {
		snippet, more = snippet[:maxQuote], "..."
	}
	if e.err != nil {
		return fmt.Errorf("docker: %s at byte %d: %w", e.what, pos, e.err)
	}
	return fmt.Errorf("docker: %s at byte %d: %q%s", e.what, pos, snippet, more)
}

const (
	keyOther = iota
	keyLog
	keyStream
	keyTime
)

// parse does the work of Parse and Looks. hasTime says whether there was a
// "time" key. It reads the time with tp.
func parse(tp *timestamp.Parser, dst, line []byte) (l Line, _ []byte, hasTime bool, _ parseError) {
	b := line
	n0 := len(dst)
	logStart, logEnd := -1, -1
	var (
		streamRaw, timeRaw []byte
		streamEsc, timeEsc bool
		streamPos, timePos int
	)

	i := skipSpace(b, 0)
	if at(b, i) != '{' {
		return l, dst, false, parseError{what: "not a JSON object", pos: i}
	}
	i = skipSpace(b, i+1)
	if at(b, i) == '}' {
		i++
	} else {
		for {
			if at(b, i) != '"' {
				return l, dst, false, syntaxError(b, i, "expected a key")
			}
			kStart := i
			kEnd, escaped := stringEnd(b, i+1)
			if kEnd < 0 {
				return l, dst, false, parseError{what: "unterminated key", pos: kStart}
			}
			key := b[i+1 : kEnd-1]
			var which int
			if escaped {
				// Undo the escapes at the end of dst, look, and forget.
				var err error
				n := len(dst)
				if dst, err = jsonbytes.Unescape(dst, key); err != nil {
					return l, dst, false, parseError{what: "bad key", pos: kStart, err: err}
				}
				which = keyOf(dst[n:])
				dst = dst[:n]
			} else {
				which = keyOf(key)
			}

			i = skipSpace(b, kEnd)
			if at(b, i) != ':' {
				return l, dst, false, syntaxError(b, i, "expected ':'")
			}
			i = skipSpace(b, i+1)
			vStart := i

			if which == keyOther {
				if i = skipValue(b, i); i < 0 {
					return l, dst, false, syntaxError(b, vStart, "bad value")
				}
			} else {
				if at(b, i) != '"' {
					return l, dst, false, parseError{what: `"` + keyName[which] + `" is not a string`, pos: vStart}
				}
				vEnd, escaped := stringEnd(b, i+1)
				if vEnd < 0 {
					return l, dst, false, parseError{what: `unterminated "` + keyName[which] + `" value`, pos: vStart}
				}
				raw := b[i+1 : vEnd-1]
				i = vEnd
				switch which {
				case keyLog:
					dst = dst[:n0] // a repeated "log": the last one wins
					var err error
					if dst, err = jsonbytes.Unescape(dst, raw); err != nil {
						return l, dst, false, parseError{what: `bad "log" value`, pos: vStart, err: err}
					}
					logStart, logEnd = n0, len(dst)
				case keyStream:
					// Judged after the object: a repeated key's last value wins.
					streamRaw, streamEsc, streamPos = raw, escaped, vStart
				case keyTime:
					timeRaw, timeEsc, timePos = raw, escaped, vStart
					hasTime = true
				}
			}

			i = skipSpace(b, i)
			switch at(b, i) {
			case ',':
				i = skipSpace(b, i+1)
				continue
			case '}':
				i++
			default:
				return l, dst, false, syntaxError(b, i, "expected ',' or '}'")
			}
			break
		}
	}
	if i = skipSpace(b, i); i != len(b) {
		return l, dst, false, parseError{what: "trailing data after the object", pos: i}
	}
	if logStart < 0 {
		return l, dst, false, parseError{what: `no "log" key`, pos: 0}
	}
	var perr parseError
	if streamRaw != nil {
		if dst, perr = scalar(tp, dst, streamRaw, streamEsc, streamPos, keyStream, &l); perr.what != "" {
			return l, dst[:logEnd], false, perr
		}
	}
	if timeRaw != nil {
		if dst, perr = scalar(tp, dst, timeRaw, timeEsc, timePos, keyTime, &l); perr.what != "" {
			return l, dst[:logEnd], false, perr
		}
	}
	msg := dst[logStart:logEnd]
	if len(msg) > 0 && msg[len(msg)-1] == '\n' {
		msg = msg[:len(msg)-1]
		dst = dst[:len(dst)-1]
	} else {
		l.Partial = true
	}
	l.Msg = msg
	return l, dst, hasTime, parseError{}
}

// scalar parses the "stream" or "time" value raw (unescaping it past the
// end of dst first when needed, then cutting dst back) into l, a time with
// tp.
func scalar(tp *timestamp.Parser, dst, raw []byte, escaped bool, pos, which int, l *Line) ([]byte, parseError) {
	n := len(dst)
	if escaped {
		var err error
		if dst, err = jsonbytes.Unescape(dst, raw); err != nil {
			return dst[:n], parseError{what: `bad "` + keyName[which] + `" value`, pos: pos, err: err}
		}
		raw = dst[n:]
	}
	var ok bool
	if which == keyStream {
		l.Stream = stream.Parse(raw)
		ok = l.Stream != stream.Unknown
	} else {
		l.Time, ok = tp.ParseRFC3339(raw)
	}
	if !ok {
		return dst[:n], parseError{what: `bad "` + keyName[which] + `" value`, pos: pos}
	}
	return dst[:n], parseError{}
}

var keyName = [...]string{keyLog: "log", keyStream: "stream", keyTime: "time"}

func keyOf(key []byte) int {
	switch string(key) {
	case "log":
		return keyLog
	case "stream":
		return keyStream
	case "time":
		return keyTime
	default:
		return keyOther
	}
}

// syntaxError reports a JSON syntax error at i, or the end of the line if
// that is where it is.
func syntaxError(b []byte, i int, what string) parseError {
	if i >= len(b) {
		return parseError{what: "line ends inside the JSON object", pos: 0}
	}
	return parseError{what: what, pos: i}
}

// stringEnd finds the end of the string whose opening quote is at i-1: the
// index just past the closing quote, or -1. escaped says whether the string
// holds a backslash. It does not check the escapes.
func stringEnd(b []byte, i int) (end int, escaped bool) {
	for {
		// 8 bytes at a time: (x-0x01..) &^ x & 0x80.. has its lowest set
		// bit in the first zero byte of x, if any.
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			q := w ^ ('"' * ones)
			s := w ^ ('\\' * ones)
			if t := ((q-ones)&^q | (s-ones)&^s) & highs; t != 0 {
				i += bits.TrailingZeros64(t) / 8
				break
			}
			i += 8
		}
		for i < len(b) && b[i] != '"' && b[i] != '\\' {
			i++
		}
		if i >= len(b) {
			return -1, false
		}
		if b[i] == '"' {
			return i + 1, escaped
		}
		escaped = true
		i += 2 // the backslash and the byte it escapes
	}
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// skipValue returns the index just past the JSON value at b[i:], or -1. It
// matches brackets and strings but does not check what is inside them.
func skipValue(b []byte, i int) int {
	switch at(b, i) {
	case '"':
		end, _ := stringEnd(b, i+1)
		return end
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			case '"':
				end, _ := stringEnd(b, i+1)
				if end < 0 {
					return -1
				}
				i = end
				continue
			}
			i++
		}
		return -1
	default: // a number or literal: up to the next delimiter
		j := i
		for j < len(b) && !isDelim(b[j]) {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r', '"', '{', '[', ':':
		return true
	}
	return false
}

func at(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
