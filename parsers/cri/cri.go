// Package cri parses the log lines that containerd and CRI-O write for the
// kubelet:
//
//	<RFC 3339 time> <stdout|stderr> <tags> <message>
//
// for example
//
//	2020-08-19T21:06:24.33754077Z stderr F at org.apache.hadoop.ipc.Client.call
//
// Fields are separated by exactly one space. The tags field is a
// ':'-separated list whose first element is P (a partial line: the runtime
// split a long line, and the rest follows in the next lines) or F (the full
// line, or the last part of a split one); later elements are ignored, for
// forward compatibility. An empty message may lack the space after the tags.
package cri

import (
	"bytes"
	"fmt"

	"github.com/sluicelog/sluice/agent/record/stream"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// Line is one parsed CRI log line.
type Line struct {
	Time    int64         // Unix nanoseconds
	Stream  stream.Stream // stream.Stdout or stream.Stderr
	Partial bool          // tag P: the message continues in the next line of this stream
	// Msg is the message, every byte after the space that follows the tags,
	// including any trailing '\r'. It aliases the line passed to Parse and
	// is valid as long as that line is.
	Msg []byte
}

// Parse parses one CRI log line, without its trailing '\n'.
//
// It does not allocate on success, and the returned Line.Msg points into
// line. On failure it returns an error that names the bad field and quotes
// the start of it.
func Parse(line []byte) (Line, error) {
	var p Parser
	return p.Parse(line)
}

// Parser is Parse for the lines of one file, in order: it remembers the
// second of the last timestamp (a timestamp.Parser), which the next lines
// almost always share, so that for those only the fraction and the zone
// are read. The zero Parser is ready to use. It is not safe for concurrent
// use: each reader of a file owns one.
type Parser struct {
	ts timestamp.Parser
}

// Parse is the package function Parse: the same results for every line,
// in any order.
func (p *Parser) Parse(line []byte) (Line, error) {
	l, field, bad := parse(&p.ts, line)
	if bad != badNone {
		return Line{}, parseError(field, bad)
	}
	return l, nil
}

// parseError names the bad field and quotes the start of it.
func parseError(field []byte, bad badField) error {
	if len(field) > maxQuote {
		return fmt.Errorf("cri: %s %q (cut)", bad, field[:maxQuote])
	}
	return fmt.Errorf("cri: %s %q", bad, field)
}

// Looks reports whether line is a CRI log line: it is Parse without the
// error, and costs about the same (tens of nanoseconds, no allocation). Use it
// to tell the format of a file from its first line.
func Looks(line []byte) bool {
	var tp timestamp.Parser
	_, _, bad := parse(&tp, line)
	return bad == badNone
}

type badField uint8

const (
	badNone badField = iota
	badTime
	badStream
	badTag
)

func (b badField) String() string {
	switch b {
	case badTime:
		return "bad timestamp"
	case badStream:
		return "bad stream"
	case badTag:
		return "bad tag"
	default:
		return "no error"
	}
}

// parse returns the line, or which field is bad and the bytes from the start
// of that field to the end of the line. It reads the timestamp with tp.
func parse(tp *timestamp.Parser, line []byte) (Line, []byte, badField) {
	var l Line
	rest := line

	n := bytes.IndexByte(rest, ' ')
	if n < 0 {
		return l, rest, badTime
	}
	ts, ok := tp.ParseRFC3339(rest[:n])
	if !ok {
		return l, rest, badTime
	}
	l.Time = ts
	rest = rest[n+1:]

	// "stdout " and "stderr " are 7 bytes.
	if len(rest) < 7 || rest[6] != ' ' {
		return l, rest, badStream
	}
	l.Stream = stream.Parse(rest[:6])
	if l.Stream == stream.Unknown {
		return l, rest, badStream
	}
	rest = rest[7:]

	// The first tag is exactly "P" or "F", then ':' (more tags), ' ' (the
	// message) or the end of the line (an empty message).
	if len(rest) == 0 || (rest[0] != 'P' && rest[0] != 'F') {
		return l, rest, badTag
	}
	l.Partial = rest[0] == 'P'
	switch {
	case len(rest) == 1:
		l.Msg = rest[1:]
		return l, nil, badNone
	case rest[1] == ' ':
		l.Msg = rest[2:]
		return l, nil, badNone
	case rest[1] != ':':
		return l, rest, badTag
	}
	n = bytes.IndexByte(rest, ' ')
	if n < 0 {
		l.Msg = rest[len(rest):]
	} else {
		l.Msg = rest[n+1:]
	}
	return l, nil, badNone
}

// maxQuote is how much of a bad field an error message quotes.
const maxQuote = 40
