package syslog

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
	"time"
	"unsafe"

	gsformat "gopkg.in/mcuadros/go-syslog.v2/format"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/jsonbytes"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// facilities and severities are the RFC 5424 6.2.1 codes by name.
var facilities = [24]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

var severities = [8]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// maxPRI is facility 23, severity 7 (RFC 5424 6.2.1).
const maxPRI = 191

// utf8BOM may start an RFC 5424 MSG (6.4).
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// outcome counts what happened to the frames of one batch; the batcher adds
// it to the input's Stats once per batch, not once per message.
type outcome struct {
	messages, malformed, truncated, noTimestamp int64
}

// parser turns one frame into one record, through go-syslog.v2's parsers,
// and corrects what those parsers invent: a missing PRI or timestamp is
// never replaced by made-up values, and a missing RFC 3164 hostname is left
// out instead of being filled with the receiver's own name.
type parser struct {
	format gsformat.Format
	// forced5424 rejects frames that are not RFC 5424 (format: rfc5424);
	// the library would otherwise read them with shifted fields.
	forced5424 bool
	// libraryOnly turns the RFC 5424 fast path off (rfc3164 format, and
	// tests and benchmarks that compare the two paths).
	libraryOnly bool
	// ts reads the fast path's timestamps, and last is the header of the
	// last message it read (one parser per connection or UDP reader, so
	// neither is shared).
	ts   timestamp.Parser
	last lastHeader
}

func newParser(format string) *parser {
	switch format {
	case "rfc3164":
		return &parser{format: &gsformat.RFC3164{}, libraryOnly: true}
	case "rfc5424":
		return &parser{format: &gsformat.RFC5424{}, forced5424: true}
	default:
		return &parser{format: &gsformat.Automatic{}}
	}
}

// fields is what a frame really held. The byte slices are views into the
// frame (fast path) or into the library's strings, read-only either way;
// they live until the record's extra members are encoded.
type fields struct {
	pri                                  int // -1 when the frame has none
	time                                 int64
	hostname, appName, procID, msgID, sd []byte
	msg                                  []byte
	malformed                            bool
	// plainHeader: hostname, app_name and proc_id hold no byte that JSON
	// escapes; plainMsgID: msg_id neither (fast path only).
	plainHeader, plainMsgID bool
	// sdPlain: sd is not "-" and its only byte that JSON escapes is '"'
	// (fast path only).
	sdPlain bool
	// header is HOSTNAME SP APP-NAME SP PROCID in the frame, and
	// sameHeader says it repeats the parser's lastHeader (fast path only).
	header     []byte
	sameHeader bool
}

// add parses frame and appends its record to b. An incomplete frame (cut
// by a disconnect) is not parsed: it is kept raw and flagged malformed,
// with its PRI's fields when it has one. recv is the receive time
// (Unix ns), used when the message carries no usable timestamp. sourceIP is
// the encoded `"source_ip":"…"` member, or empty. The record's line and
// extra members are written straight into b's buffer. frame is not
// retained.
func (p *parser) add(b *record.Batch, frame []byte, truncated, incomplete bool, recv int64, sourceIP []byte, out *outcome) {
	var f fields
	if incomplete {
		f = fields{pri: -1, msg: frame, malformed: true}
		if pri, _, ok := parsePRI(frame); ok {
			f.pri = pri
		}
	} else {
		p.parse(&f, frame, recv)
	}
	r := record.Record{Time: f.time, Offset: -1}
	out.messages++
	if truncated {
		r.Flags |= record.Truncated
		out.truncated++
	}
	if f.malformed {
		r.Flags |= record.Malformed
		out.malformed++
	}
	noTS := f.time == 0
	if noTS {
		r.Time = recv
		out.noTimestamp++
	}
	buf := b.Buf
	start, oldCap := len(buf), cap(buf)
	buf = append(buf, f.msg...)
	mid := len(buf)
	const open = `"syslog":{`
	first := mid + len(open)
	if f.sameHeader && f.pri == p.last.pri {
		buf = append(buf, p.last.enc...)
	} else {
		buf = append(buf, open...)
		if f.pri >= 0 {
			buf = append(buf, priMembers[f.pri]...)
		}
		buf = member(buf, first, `"hostname":`, f.hostname, f.plainHeader)
		buf = member(buf, first, `"app_name":`, f.appName, f.plainHeader)
		buf = member(buf, first, `"proc_id":`, f.procID, f.plainHeader)
		if f.header != nil {
			p.last.remember(&f, buf[mid:])
		}
	}
	buf = member(buf, first, `"msg_id":`, f.msgID, f.plainMsgID)
	if f.sdPlain {
		buf = plainSD(buf, first, f.sd)
	} else {
		buf = member(buf, first, `"structured_data":`, f.sd, false)
	}
	if noTS {
		if len(buf) > first {
			buf = append(buf, ',')
		}
		// @timestamp is the receive time: the message had no usable one.
		buf = append(buf, `"no_timestamp":true`...)
	}
	buf = append(buf, '}')
	if len(sourceIP) > 0 {
		buf = append(buf, ',')
		buf = append(buf, sourceIP...)
	}
	b.Buf = buf
	b.AddAppended(r, start, mid, oldCap)
}

// plainSD appends the structured_data member of sd, an SD that is not
// "-" and whose only byte that JSON escapes is '"' (fast path: sdPlain),
// to the syslog object x whose members start at first: what member and
// jsonbytes.AppendString write, eight bytes at a time up to each quote.
func plainSD(x []byte, first int, sd []byte) []byte {
	const key = `"structured_data":"`
	n := len(x)
	// Room for an escape per byte, and for a word written whole where
	// fewer of its bytes count.
	x = slices.Grow(x, 1+len(key)+2*len(sd)+1+8)
	buf := x[:cap(x)]
	if n > first {
		buf[n] = ','
		n++
	}
	n += copy(buf[n:], key)
	i := 0
	for i+8 <= len(sd) {
		w := binary.LittleEndian.Uint64(sd[i:])
		binary.LittleEndian.PutUint64(buf[n:], w)
		q := w ^ '"'*0x0101010101010101
		q = (q - 0x0101010101010101) &^ q & 0x8080808080808080
		if q == 0 {
			i += 8
			n += 8
			continue
		}
		// The lowest flagged byte is the first quote (a borrow flags
		// only bytes above one).
		k := bits.TrailingZeros64(q) >> 3
		n += k
		buf[n], buf[n+1] = '\\', '"'
		n += 2
		i += k + 1
	}
	for _, c := range sd[i:] {
		if c == '"' {
			buf[n] = '\\'
			n++
		}
		buf[n] = c
		n++
	}
	buf[n] = '"'
	return buf[:n+1]
}

// member appends `key:"val"` to the syslog object x, whose members start
// at first; a field that is empty or "-" (RFC 5424's NILVALUE) is left out.
// plain says val needs no escaping: the fast path checked it is
// PRINTUSASCII without '"' or '\\', so it is copied as it is.
func member(x []byte, first int, key string, val []byte, plain bool) []byte {
	if len(val) == 0 || (len(val) == 1 && val[0] == '-') {
		return x
	}
	if len(x) > first {
		x = append(x, ',')
	}
	x = append(x, key...)
	if plain {
		x = append(x, '"')
		x = append(x, val...)
		return append(x, '"')
	}
	return jsonbytes.AppendString(x, val)
}

// priMembers holds the encoded facility and severity members of each PRI,
// `"facility":"local0","severity":"info"`: every message has them, and
// there are only 192.
var priMembers = func() (m [maxPRI + 1][]byte) {
	for pri := range m {
		b := append([]byte(nil), `"facility":`...)
		b = jsonbytes.AppendStringString(b, facilities[pri/8])
		b = append(b, `,"severity":`...)
		m[pri] = jsonbytes.AppendStringString(b, severities[pri%8])
	}
	return m
}()

// parse reads one frame into f, which is zero. A frame that is not
// syslog is kept whole as msg and marked malformed, with its PRI when it
// had a valid one.
func (p *parser) parse(f *fields, frame []byte, recv int64) {
	if !p.libraryOnly && f.read5424(frame, &p.ts, &p.last) {
		return
	}
	*f = p.parseLibrary(frame, recv)
}

// parseLibrary is parse through go-syslog.v2, for every frame the fast
// path declines.
func (p *parser) parseLibrary(frame []byte, recv int64) (f fields) {
	raw := fields{pri: -1, msg: frame, malformed: true}
	pri, n, ok := parsePRI(frame)
	if !ok {
		return raw
	}
	raw.pri = pri
	rest := frame[n:]
	if len(rest) == 0 {
		// "<13>" alone: a valid PRI and an empty message. The library's
		// RFC 3164 parser indexes past the end here.
		return fields{pri: pri, msg: rest}
	}
	defer func() {
		// Defence in depth: a parser bug on hostile input must cost one
		// message, never the connection or the agent.
		if recover() != nil {
			f = raw
		}
	}()
	lp := p.format.GetParser(frame)
	if err := lp.Parse(); err != nil {
		return raw
	}
	parts := lp.Dump()
	if _, is5424 := parts["app_name"]; is5424 {
		if v, _ := parts["version"].(int); v < 1 {
			return raw
		}
		return from5424(frame, pri, parts, raw)
	}
	if p.forced5424 {
		return raw
	}
	return from3164(rest, pri, parts, recv, raw)
}

func from5424(frame []byte, pri int, parts gsformat.LogParts, raw fields) fields {
	f := fields{pri: pri}
	if ts, _ := parts["timestamp"].(time.Time); !ts.IsZero() {
		f.time = ts.UnixNano()
	}
	f.hostname = partView(parts, "hostname")
	f.appName = partView(parts, "app_name")
	f.procID = partView(parts, "proc_id")
	f.msgID = partView(parts, "msg_id")
	f.sd = partView(parts, "structured_data")
	msg, _ := parts["message"].(string)
	// The library's MSG is the frame's tail; take it from the frame so it
	// is not copied twice.
	if !hasSuffix(frame, msg) {
		return raw
	}
	f.msg = bytes.TrimPrefix(frame[len(frame)-len(msg):], utf8BOM)
	return f
}

func from3164(rest []byte, pri int, parts gsformat.LogParts, recv int64, raw fields) fields {
	f := fields{pri: pri}
	content, _ := parts["content"].(string)
	// The library trims spaces around the content, which is otherwise the
	// frame's tail.
	trimmed := bytes.TrimRight(rest, " ")
	if !hasSuffix(trimmed, content) {
		return raw
	}
	f.msg = trimmed[len(trimmed)-len(content):]
	n, withYear := stamp3164(rest)
	if n == 0 {
		// No timestamp the library accepts: it made up the current time,
		// skipped hostname and tag, and kept everything as content.
		return f
	}
	ts, _ := parts["timestamp"].(time.Time)
	f.time = ts.UnixNano()
	if !withYear && f.time > recv+int64(7*24*time.Hour) {
		// The library assumes the current year; a December message read
		// in January belongs to last year.
		f.time = ts.AddDate(-1, 0, 0).UnixNano()
	}
	after := rest[n:]
	if len(after) > 0 && after[0] == ' ' {
		after = after[1:]
	}
	tok := after
	if i := bytes.IndexByte(tok, ' '); i >= 0 {
		tok = tok[:i]
	}
	if len(tok) > 0 && tok[len(tok)-1] == ':' {
		// No hostname (the GNU syslog() form): the token is the tag. The
		// library puts the receiver's own host name here; leave it out.
	} else {
		f.hostname = partView(parts, "hostname")
		after = after[min(len(tok)+1, len(after)):]
	}
	tag, _ := parts["tag"].(string)
	f.appName = view(tag)
	// The library drops the PID of "tag[pid]:"; read it from the frame.
	if tag != "" && len(after) > len(tag) && string(after[:len(tag)]) == tag && after[len(tag)] == '[' {
		pid := after[len(tag)+1:]
		if j := bytes.IndexByte(pid, ']'); j > 0 {
			f.procID = pid[:j]
		}
	}
	return f
}

// partView is the library's string for key, as a read-only view.
func partView(parts gsformat.LogParts, key string) []byte {
	s, _ := parts[key].(string)
	return view(s)
}

// view is s as bytes without a copy. Nothing writes to it: it is only
// read by the JSON encoder.
func view(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

// parsePRI reads "<N>" with N in 0..191 and returns N and the PRI's length.
func parsePRI(b []byte) (pri, n int, ok bool) {
	if len(b) < 3 || b[0] != '<' {
		return 0, 0, false
	}
	for i := 1; i < len(b) && i <= 4; i++ {
		c := b[i]
		switch {
		case c == '>' && i > 1:
			return pri, i + 1, pri <= maxPRI
		case c >= '0' && c <= '9':
			pri = pri*10 + int(c-'0')
		default:
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// stamp3164 returns the length of the timestamp at the start of b that
// go-syslog.v2's RFC 3164 parser accepts (time.Stamp, "Jan _2 15:04:05",
// or RFC 3339 with a numeric offset and no fraction, tried in the same
// order), or 0 when there is none. The library reports a timestamp it could
// not read as the current time, so this check tells the two apart. withYear
// is true for the RFC 3339 form.
func stamp3164(b []byte) (n int, withYear bool) {
	rfcFirst := len(b) > 0 && b[0] > '0' && b[0] < '9'
	if rfcFirst && isRFC3339Offset(b) {
		return 25, true
	}
	if isStamp(b) {
		return 15, false
	}
	if !rfcFirst && isRFC3339Offset(b) {
		return 25, true
	}
	// The fast checks know the common shapes only; time.Parse also takes
	// odd spacing ("May 01  0:00:00"). Ask it, as the library does, on
	// this rarer path.
	if len(b) >= 15 && parsesAs(time.Stamp, b[:15]) {
		return 15, false
	}
	if len(b) >= 25 && parsesAs(time.RFC3339, b[:25]) {
		return 25, true
	}
	return 0, false
}

func parsesAs(layout string, b []byte) bool {
	_, err := time.ParseInLocation(layout, string(b), time.UTC)
	return err == nil
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// daysIn is the longest month: time.Parse checks the day against the
// month in year 0, a leap year.
var daysIn = [12]int{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func isStamp(b []byte) bool {
	if len(b) < 15 || b[3] != ' ' || b[6] != ' ' || b[9] != ':' || b[12] != ':' {
		return false
	}
	month := -1
	for i, m := range months {
		if string(b[:3]) == m {
			month = i
		}
	}
	if month < 0 {
		return false
	}
	day, ok := num(b[4:6], true)
	if !ok || day < 1 || day > daysIn[month] {
		return false
	}
	return clock(b[7:15])
}

// clock checks "hh:mm:ss".
func clock(b []byte) bool {
	h, ok1 := num(b[0:2], false)
	m, ok2 := num(b[3:5], false)
	s, ok3 := num(b[6:8], false)
	return ok1 && ok2 && ok3 && h < 24 && m < 60 && s < 60
}

// isRFC3339Offset checks "2006-01-02T15:04:05-07:00".
func isRFC3339Offset(b []byte) bool {
	if len(b) < 25 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' ||
		(b[19] != '+' && b[19] != '-') || b[22] != ':' {
		return false
	}
	_, ok := num(b[0:4], false)
	month, ok2 := num(b[5:7], false)
	day, ok3 := num(b[8:10], false)
	if !ok || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn[month-1] {
		return false
	}
	if day == 29 && month == 2 {
		y, _ := num(b[0:4], false)
		if y%4 != 0 || (y%100 == 0 && y%400 != 0) {
			return false
		}
	}
	oh, ok4 := num(b[20:22], false)
	om, ok5 := num(b[23:25], false)
	return clock(b[11:19]) && ok4 && ok5 && oh < 24 && om < 60
}

// num reads decimal digits; with padded, a leading space counts as 0
// (the "_2" of time.Stamp).
func num(b []byte, padded bool) (int, bool) {
	v := 0
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v*10 + int(c-'0')
		case c == ' ' && padded && i == 0:
		default:
			return 0, false
		}
	}
	return v, true
}
