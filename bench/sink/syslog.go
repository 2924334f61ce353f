package sink

import (
	"bytes"
	"strconv"
)

// NewSyslog returns a sink that expects perConn messages from each of conns
// syslog senders, written by AppendSyslog.
func NewSyslog(conns, perConn int) *Sink {
	s := &Sink{records: perConn, total: int64(conns * perConn), done: make(chan struct{})}
	s.parse = s.parseSyslog
	for range conns {
		s.bits = append(s.bits, make([]uint64, (perConn+63)/64))
	}
	if s.total == 0 {
		close(s.done)
	}
	return s
}

// AppendSyslog appends message seq of sender conn: an RFC 5424 frame of
// about 170 bytes, newline-terminated (RFC 6587 non-transparent framing).
func AppendSyslog(dst []byte, conn, seq int) []byte {
	dst = append(dst, "<134>1 2026-11-26T10:00:00."...)
	dst = append(dst, strconv.Itoa(100000+seq%900000)...)
	dst = append(dst, "Z host-"...)
	dst = strconv.AppendInt(dst, int64(conn), 10)
	dst = append(dst, " bench "...)
	dst = strconv.AppendInt(dst, int64(conn), 10)
	dst = append(dst, " m"...)
	dst = strconv.AppendInt(dst, int64(seq), 10)
	dst = append(dst, ` [req@32473 id="r`...)
	dst = strconv.AppendInt(dst, int64(seq), 10)
	dst = append(dst, `"] GET /api/v1/orders served in 12ms to 10.0.0.7 user=alice conn=`...)
	dst = strconv.AppendInt(dst, int64(conn), 10)
	dst = append(dst, " seq="...)
	dst = strconv.AppendInt(dst, int64(seq), 10)
	return append(dst, " end\n"...)
}

// parseSyslog checks a document of an AppendSyslog message: the syslog
// fields parsed out of it, and the message whole in log.
func (s *Sink) parseSyslog(doc []byte) (f, seq int, ok bool) {
	if !bytes.HasPrefix(doc, []byte(`{"@timestamp":"2026-11-26T10:00:00.`)) ||
		!bytes.Contains(doc, []byte(`"app_name":"bench"`)) || !bytes.Contains(doc, []byte(`"facility":`)) {
		return 0, 0, false
	}
	conn, ok1 := intAfter(doc, `"proc_id":"`)
	seq, ok2 := intAfter(doc, `"msg_id":"m`)
	lconn, ok3 := intAfter(doc, " conn=")
	lseq, ok4 := intAfter(doc, " seq=")
	if !ok1 || !ok2 || !ok3 || !ok4 || conn != lconn || seq != lseq || conn < 0 || conn >= len(s.bits) ||
		!bytes.Contains(doc, []byte(`"hostname":"host-`+strconv.Itoa(conn)+`"`)) {
		return 0, 0, false
	}
	return conn, seq, s.inRange(seq)
}
