package elasticsearch

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// syncTransport does an HTTP/1.1 round trip on the caller's goroutine:
// it writes the request on a kept-alive connection and reads the answer
// there. net/http's Transport hands each request to the connection's
// writer goroutine and the answer back from its reader goroutine; on two
// cores each hand-off is a thread waking, ≈ 125 µs of CPU per 512 KiB
// bulk request against ≈ 50 µs on one goroutine (bench/roundtrip), and at
// small memory_limits, whose bodies are small, that was the tail
// workload's largest cost after the records themselves (bench/RESULTS.md,
// bulk requests at 40MiB).
//
// A server may answer before it has read the body: 413 for a body over
// Elasticsearch's http.max_content_length, 401 or 403 from the headers
// alone, 503; it then closes the connection, and may stop reading first.
// RFC 9112 §9.5 asks a client that sends a body to watch for that answer
// and stop sending; net/http reads it on its reader goroutine while its
// writer goroutine writes. Here the body goes to the socket in
// non-blocking writes (a socket with room takes it in one), and whenever
// the socket has no room a peek (recvfrom with MSG_PEEK|MSG_DONTWAIT)
// looks for anything from the server: an answer that came early matters
// when the server stops taking bytes. A wait for room lasts poll at most,
// then the peek is done again, so a server that answered and stopped
// reading without closing is found too. Once the
// server has spoken the request stops, the answer is read as the answer,
// and the connection is closed after it. A write that fails (the server
// closed and reset the connection) first reads the answer the server may
// have sent before it closed, for answerWait at most, and is an error
// only without one.
//
// With https a readable byte on the socket may be TLS's own (a session
// ticket): whether the server answered is asked of the TLS connection, a
// read with a short deadline (a read timeout leaves a *tls.Conn usable; a
// write timeout would not, so writes never time out but as the request's
// end). The TLS records of the body wait in the connection's out buffer
// when the socket has no room, so that the wait happens here, between the
// peeks, and not inside crypto/tls.
//
// It takes its settings from base (dial, TLS, timeouts, idle connections
// per host, write buffer) and leaves to base what it does not do: requests
// through a proxy, and schemes other than http and https. It speaks
// HTTP/1.1 only, which is what Elasticsearch and OpenSearch serve.
type syncTransport struct {
	base *http.Transport
	// poll is how long a body waits for room in the socket before it looks
	// again whether the server answered (pollWait; tests set it).
	poll time.Duration

	mu   sync.Mutex
	idle map[string][]*syncConn // by scheme and host, most recent last
}

const (
	// tlsPiece is the most of a body handed to the TLS connection at
	// once: it bounds the records waiting in syncConn.out.
	tlsPiece = 64 << 10
	// pollWait is syncTransport.poll: how late an answer is found that
	// came while the body waited for a server that no longer reads.
	pollWait = 50 * time.Millisecond
	// answerWait bounds the read of an answer after a failed write: the
	// answer is in the socket already or not coming.
	answerWait = 250 * time.Millisecond
	// tlsPeek bounds the read that tells a TLS answer from TLS's own
	// records.
	tlsPeek = time.Millisecond
)

// errAnswered stops a request's writes when the server has spoken;
// errReadable stops send when the socket has something to read under TLS.
var (
	errAnswered = errors.New("the server answered before the request was written")
	errReadable = errors.New("the socket has something to read")
)

func newSyncTransport(base *http.Transport) *syncTransport {
	return &syncTransport{base: base, poll: pollWait, idle: make(map[string][]*syncConn)}
}

// syncConn is one connection, its buffers, and the state of the request
// being written on it.
type syncConn struct {
	key    string
	conn   net.Conn        // what requests are written on: tc, or raw
	tc     *tls.Conn       // with https
	raw    net.Conn        // the connection as dialled
	rc     syscall.RawConn // raw's socket; nil if raw exposes none (then writes block as raw's do)
	br     *bufio.Reader
	bw     *bufio.Writer // onto (*connWriter)(c)
	idleAt time.Time

	// The request being written.
	ctx      context.Context
	poll     time.Duration
	sent     int64     // its bytes that reached the socket
	writeErr error     // the first error of its writes
	spoke    bool      // the server sent something, or closed, before it was written
	armed    bool      // raw has a write deadline, for the poll
	queue    bool      // tc's records go to out when the socket has no room
	out      []byte    // TLS records waiting for room in the socket
	body     io.Reader // the body handed to ReadFrom, to go on with after an interim answer
	bodyEnd  bool      // the body was written to its end

	// writeSome's arguments and results; writeFn is writeSome, bound once
	// so that a write allocates nothing.
	writeFn  func(fd uintptr) bool
	peekFn   func(fd uintptr) bool
	wp       []byte
	wn       int
	werr     error
	wait     bool // wait for room (send) or return at once (tryWrite)
	needArm  bool // no room, and no deadline set yet
	readable bool // the peek found bytes, an end of stream or an error
	one      [1]byte
}

// aLongTimeAgo is a deadline that has passed: setting it stops any read or
// write in progress on the connection.
var aLongTimeAgo = time.Unix(1, 0)

// RoundTrip sends req and returns its answer, whose body must be read to
// its end or closed; the connection goes back to the idle ones when the
// body has been read to its end.
func (t *syncTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return t.base.RoundTrip(req)
	}
	if t.base.Proxy != nil {
		if p, err := t.base.Proxy(req); err != nil || p != nil {
			return t.base.RoundTrip(req)
		}
	}
	key := req.URL.Scheme + "://" + hostPort(req.URL)
	for attempt := 0; ; attempt++ {
		c, reused := t.take(key)
		if c == nil {
			var err error
			if c, err = t.dial(req.Context(), req.URL.Scheme, key); err != nil {
				closeBody(req)
				return nil, err
			}
		}
		res, written, err := t.exchange(c, req)
		if err == nil {
			return res, nil
		}
		// A kept-alive connection the server closed between two checks is
		// found at the write; the request then went nowhere and goes once
		// more on a fresh connection, as net/http does.
		if reused && !written && attempt == 0 && req.GetBody != nil {
			body, gerr := req.GetBody()
			if gerr == nil {
				r := *req
				r.Body = body
				req = &r
				continue
			}
		}
		closeBody(req)
		return nil, err
	}
}

// exchange writes req on c and reads the answer's head. written says
// whether any of the request was written.
func (t *syncTransport) exchange(c *syncConn, req *http.Request) (*http.Response, bool, error) {
	ctx := req.Context()
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(aLongTimeAgo) })
	fail := func(err error) (*http.Response, bool, error) {
		stop()
		_ = c.raw.Close()
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
		}
		return nil, c.sent > 0, err
	}
	c.begin(ctx, t.poll)
	werr := req.Write(c.bw)
	if werr == nil {
		werr = c.bw.Flush()
	}
	if c.spoke {
		werr = nil // stopped to read the answer
	} else if werr != nil && c.writeErr != nil {
		werr = c.writeErr
	}
	if err := c.end(); err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err) // a read deadline was cleared after its end set one
	}
	if werr != nil && !c.spoke {
		// The server may have answered and closed: its answer is still to
		// be read. Without one, the failed write is the error.
		if ctx.Err() != nil || c.sent == 0 {
			return fail(fmt.Errorf("write the request: %w", werr))
		}
		if err := c.readDeadline(time.Now().Add(answerWait)); err != nil {
			return fail(err)
		}
		if _, err := c.br.Peek(1); err != nil {
			return fail(fmt.Errorf("write the request: %w", werr))
		}
		if err := c.readDeadline(time.Time{}); err != nil {
			return fail(err)
		}
	}
	for {
		res, err := http.ReadResponse(c.br, req)
		if err != nil {
			return fail(fmt.Errorf("read the answer: %w", err))
		}
		if res.StatusCode >= 100 && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols {
			// An interim answer; the final one follows. One that stopped
			// the body lets it go on.
			if c.spoke && werr == nil && !c.bodyEnd {
				if err := c.resume(); err != nil && !c.spoke {
					return fail(fmt.Errorf("write the request: %w", err))
				}
			}
			continue
		}
		// An answer that came before the request was all written leaves
		// the connection in the middle of it.
		keep := !res.Close && !req.Close && !c.spoke && werr == nil
		res.Body = &syncBody{body: res.Body, t: t, c: c, stop: stop, keep: keep}
		return res, true, nil
	}
}

// dial opens a connection to key's host, with TLS for https.
func (t *syncTransport) dial(ctx context.Context, scheme, key string) (*syncConn, error) {
	addr := key[len(scheme)+3:]
	dial := t.base.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	raw, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &syncConn{key: key, conn: raw, raw: raw, rc: rawConn(raw)}
	c.writeFn, c.peekFn = c.writeSome, c.peekOnce
	if scheme == "https" {
		cfg := &tls.Config{}
		if t.base.TLSClientConfig != nil {
			cfg = t.base.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(tlsWire{Conn: raw, c: c}, cfg)
		hctx := ctx
		if d := t.base.TLSHandshakeTimeout; d > 0 {
			var cancel context.CancelFunc
			hctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		if err := tc.HandshakeContext(hctx); err != nil {
			_ = raw.Close()
			return nil, err
		}
		c.tc, c.conn = tc, tc
	}
	size := t.base.WriteBufferSize
	if size <= 0 {
		size = 4 << 10
	}
	c.br = bufio.NewReaderSize(c.conn, 16<<10)
	c.bw = bufio.NewWriterSize((*connWriter)(c), size)
	return c, nil
}

// rawConn is the socket under c, or nil when c exposes none.
func rawConn(c net.Conn) syscall.RawConn {
	if bc, ok := c.(bodyConn); ok {
		c = bc.Conn
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// take returns the most recently used idle connection to key that is
// still open, and whether there was one.
func (t *syncTransport) take(key string) (*syncConn, bool) {
	for {
		t.mu.Lock()
		list := t.idle[key]
		if len(list) == 0 {
			t.mu.Unlock()
			return nil, false
		}
		c := list[len(list)-1]
		list[len(list)-1] = nil
		t.idle[key] = list[:len(list)-1]
		t.mu.Unlock()
		if d := t.base.IdleConnTimeout; d > 0 && time.Since(c.idleAt) > d || !c.stillOpen() {
			_ = c.conn.Close()
			continue
		}
		return c, true
	}
}

// put keeps c for the next request to its host, up to
// MaxIdleConnsPerHost (net/http's default, 2, when unset).
func (t *syncTransport) put(c *syncConn) {
	limit := t.base.MaxIdleConnsPerHost
	if limit <= 0 {
		limit = http.DefaultMaxIdleConnsPerHost
	}
	c.idleAt = time.Now()
	c.ctx = nil
	t.mu.Lock()
	if len(t.idle[c.key]) < limit {
		t.idle[c.key] = append(t.idle[c.key], c)
		c = nil
	}
	t.mu.Unlock()
	if c != nil {
		_ = c.conn.Close()
	}
}

// CloseIdleConnections closes the connections no request is using, its
// own and base's.
func (t *syncTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = make(map[string][]*syncConn)
	t.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			_ = c.conn.Close()
		}
	}
	t.base.CloseIdleConnections()
}

// syncBody is an answer's body: read to its end, it gives the
// connection back; closed before, it closes the connection (what is left
// of the answer would otherwise be read as the next one's).
type syncBody struct {
	body io.ReadCloser
	t    *syncTransport
	c    *syncConn
	stop func() bool
	keep bool
	done bool
}

func (b *syncBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	if err == io.EOF {
		b.finish(true)
	} else if err != nil {
		b.finish(false)
	}
	return n, err
}

func (b *syncBody) Close() error {
	b.finish(false)
	return nil
}

// finish lets go of the connection once: back to the idle ones if the
// answer was read to its end, the deadline watch had not fired and
// neither side asked to close; closed otherwise.
func (b *syncBody) finish(atEnd bool) {
	if b.done {
		return
	}
	b.done = true
	atEnd = atEnd || b.body == http.NoBody // nothing to read: closed unread is at its end
	_ = b.body.Close()
	watched := b.stop()
	if watched && atEnd && b.keep && b.c.br.Buffered() == 0 {
		b.t.put(b.c)
		return
	}
	if watched && atEnd && !b.c.spoke {
		_ = b.c.conn.Close() // with TLS, its closure alert first: the socket has room
		return
	}
	// In the middle of an exchange: with TLS, a closure alert could wait
	// (5 s, crypto/tls's bound) for room a server that stopped reading
	// never makes.
	_ = b.c.raw.Close()
}

// stillOpen says whether the server has not closed c while it was idle:
// a peek that finds nothing to read means open; an end of stream, an
// error or bytes nobody asked for mean it cannot carry a request.
// Connections that do not expose their socket count as open.
func (c *syncConn) stillOpen() bool {
	if c.rc == nil {
		return true
	}
	c.readable = true
	if err := c.rc.Read(c.peekFn); err != nil {
		return false
	}
	return !c.readable
}

// hostPort is u's host and port, the scheme's port if it names none.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
