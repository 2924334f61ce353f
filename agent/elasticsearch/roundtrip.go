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
// It takes its settings from base (dial, TLS, timeouts, idle connections
// per host, write buffer) and leaves to base what it does not do: requests
// through a proxy, and schemes other than http and https. It speaks
// HTTP/1.1 only, which is what Elasticsearch and OpenSearch serve.
type syncTransport struct {
	base *http.Transport

	mu   sync.Mutex
	idle map[string][]*syncConn // by scheme and host, most recent last
}

func newSyncTransport(base *http.Transport) *syncTransport {
	return &syncTransport{base: base, idle: make(map[string][]*syncConn)}
}

// syncConn is one connection and its buffers.
type syncConn struct {
	key    string
	conn   net.Conn // what requests are written on (a *tls.Conn with https)
	raw    net.Conn // the connection as dialled
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
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
	stop := context.AfterFunc(req.Context(), func() { _ = c.conn.SetDeadline(aLongTimeAgo) })
	fail := func(written bool, err error) (*http.Response, bool, error) {
		stop()
		_ = c.conn.Close()
		if cerr := req.Context().Err(); cerr != nil {
			err = cerr
		}
		return nil, written, err
	}
	var n int64
	c.bw.Reset(writerTo{c.conn, &n})
	if err := req.Write(c.bw); err != nil {
		return fail(n > 0, fmt.Errorf("write the request: %w", err))
	}
	if err := c.bw.Flush(); err != nil {
		return fail(true, fmt.Errorf("write the request: %w", err))
	}
	for {
		res, err := http.ReadResponse(c.br, req)
		if err != nil {
			return fail(true, fmt.Errorf("read the answer: %w", err))
		}
		if res.StatusCode >= 100 && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols {
			continue // an interim answer; the final one follows
		}
		keep := !res.Close && !req.Close
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
	conn := raw
	if scheme == "https" {
		cfg := &tls.Config{}
		if t.base.TLSClientConfig != nil {
			cfg = t.base.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(raw, cfg)
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
		conn = tc
	}
	size := t.base.WriteBufferSize
	if size <= 0 {
		size = 4 << 10
	}
	return &syncConn{
		key: key, conn: conn, raw: raw,
		br: bufio.NewReaderSize(conn, 16<<10),
		bw: bufio.NewWriterSize(writerTo{conn, nil}, size),
	}, nil
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
		if d := t.base.IdleConnTimeout; d > 0 && time.Since(c.idleAt) > d || !stillOpen(c.raw) {
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
	if b.stop() && atEnd && b.keep && b.c.br.Buffered() == 0 {
		b.t.put(b.c)
		return
	}
	_ = b.c.conn.Close()
}

// writerTo is the connection under the write buffer; it counts the bytes
// written when n is set, so that a failed request knows whether any of it
// left, and passes ReadFrom on so that bodyConn writes a body in one write.
type writerTo struct {
	conn net.Conn
	n    *int64
}

func (w writerTo) Write(p []byte) (int, error) {
	n, err := w.conn.Write(p)
	if w.n != nil {
		*w.n += int64(n)
	}
	return n, err
}

func (w writerTo) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	var err error
	if rf, ok := w.conn.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.conn}, r)
	}
	if w.n != nil {
		*w.n += n
	}
	return n, err
}

// stillOpen says whether the server has not closed c while it was idle:
// a peek that finds nothing to read (EAGAIN) means open; an end of stream,
// an error or bytes nobody asked for mean it cannot carry a request.
// Connections that do not expose their descriptor count as open.
func stillOpen(c net.Conn) bool {
	if bc, ok := c.(bodyConn); ok {
		c = bc.Conn
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = n < 0 && errors.Is(rerr, syscall.EAGAIN)
		return true
	})
	return err == nil && open
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
