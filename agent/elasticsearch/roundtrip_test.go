package elasticsearch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/httpbody"
)

// connServer is a server that answers each request with its body's
// length and counts the connections it accepted.
type connServer struct {
	srv *httptest.Server

	mu     sync.Mutex
	opened int
	idle   []net.Conn
	closed chan struct{} // a connection was closed
}

func newConnServer(t *testing.T, tlsOn bool, h http.HandlerFunc) *connServer {
	s := &connServer{closed: make(chan struct{}, 64)}
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			n, err := io.Copy(io.Discard, r.Body)
			if err != nil {
				return
			}
			_, _ = w.Write([]byte(`{"read":` + strconv.FormatInt(n, 10) + `}`))
		}
	}
	s.srv = httptest.NewUnstartedServer(h)
	s.srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch st {
		case http.StateNew:
			s.opened++
		case http.StateIdle:
			s.idle = append(s.idle, c)
		case http.StateClosed:
			s.closed <- struct{}{}
		}
	}
	if tlsOn {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.srv.Close)
	return s
}

// idleConn waits until the server has set its one connection idle (it
// does so after the answer has left) and returns it.
func (s *connServer) idleConn(t *testing.T) net.Conn {
	var c net.Conn
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.idle) != 1 {
			return false
		}
		c = s.idle[0]
		return true
	}, hangWait, time.Millisecond, "one kept-alive connection")
	return c
}

func (s *connServer) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened
}

// syncFor is a syncTransport with the output's settings for srv.
func syncFor(t *testing.T, srv *httptest.Server) *syncTransport {
	base := &http.Transport{
		DialContext:         dialBodyConn((&net.Dialer{Timeout: 10 * time.Second}).DialContext),
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     time.Minute,
		TLSHandshakeTimeout: 10 * time.Second,
		WriteBufferSize:     writeBufferSize,
	}
	if srv.TLS != nil {
		base.TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	}
	d := newSyncTransport(base)
	t.Cleanup(d.CloseIdleConnections)
	return d
}

// post sends body to u through rt and returns the answer's status and body.
func post(ctx context.Context, rt http.RoundTripper, u string, body []byte) (int, string, error) {
	req, held, err := httpbody.NewRequest(ctx, http.MethodPost, u, body)
	if err != nil {
		return 0, "", err
	}
	defer held.Detach()
	res, err := rt.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// Requests one after another go over one kept-alive connection, plain and
// with TLS, and each answer is the one to its request; bodies larger
// than a write piece arrive whole.
func TestSyncTransportReusesItsConnection(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		s := newConnServer(t, tlsOn, nil)
		d := syncFor(t, s.srv)
		for i := 1; i <= 20; i++ {
			n := i * 1000
			if i%5 == 0 {
				n = i * 100_000 // 0.5 to 2 MB: several pieces
			}
			status, answer, err := post(context.Background(), d, s.srv.URL+"/_bulk", bytes.Repeat([]byte("x"), n))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, `{"read":`+strconv.Itoa(n)+`}`, answer)
		}
		require.Equal(t, 1, s.connections(), "tls=%v", tlsOn)
	}
}

// A kept-alive connection the server closed while it was idle is not
// used: the next request goes on a fresh one and gets its answer.
func TestSyncTransportSkipsAConnectionTheServerClosed(t *testing.T) {
	s := newConnServer(t, false, nil)
	d := syncFor(t, s.srv)
	_, _, err := post(context.Background(), d, s.srv.URL+"/_bulk", []byte("first"))
	require.NoError(t, err)
	require.NoError(t, s.idleConn(t).Close())
	<-s.closed

	status, answer, err := post(context.Background(), d, s.srv.URL+"/_bulk", []byte("second"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, `{"read":6}`, answer)
	require.Equal(t, 2, s.connections())
}

// An answer with "Connection: close" is read and its connection closed;
// the next request dials again.
func TestSyncTransportClosesWhatTheServerCloses(t *testing.T) {
	s := newConnServer(t, false, nil)
	s.srv.Config.SetKeepAlivesEnabled(false)
	d := syncFor(t, s.srv)
	for range 3 {
		status, _, err := post(context.Background(), d, s.srv.URL+"/_bulk", []byte("x"))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
	}
	require.Equal(t, 3, s.connections())
}

// A request whose context ends while its answer is being read returns the
// context's error, and the connection it was on is not used again.
func TestSyncTransportStopsWithItsContext(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var calls sync.Mutex
	n := 0
	s := newConnServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		calls.Lock()
		n++
		first := n == 1
		calls.Unlock()
		if first {
			w.Header().Set("Content-Length", "100")
			_, _ = w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
			started <- struct{}{}
			<-release
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	defer close(release)
	d := syncFor(t, s.srv)

	ctx, cancel := context.WithCancel(context.Background())
	req, held, err := httpbody.NewRequest(ctx, http.MethodPost, s.srv.URL+"/_bulk", []byte("body"))
	require.NoError(t, err)
	res, err := d.RoundTrip(req)
	require.NoError(t, err)
	<-started
	cancel()
	_, err = io.ReadAll(res.Body)
	require.Error(t, err)
	require.NoError(t, res.Body.Close())
	held.Detach()

	status, answer, err := post(context.Background(), d, s.srv.URL+"/_bulk", []byte("again"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "ok", answer)
	require.Equal(t, 2, s.connections())
}

// A request whose context ends while its body waits for a server that
// reads nothing (and answers nothing) returns the context's error, in
// time: neither the wait for room in the socket nor closing the
// connection (with TLS, a closure alert would wait for room too) goes on
// past the request's end. The output's timeout and the agent's shutdown
// rest on it.
func TestSyncTransportStopsWithItsContextWhileWriting(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		release := make(chan struct{})
		s := newConnServer(t, tlsOn, func(w http.ResponseWriter, r *http.Request) {
			<-release
		})
		t.Cleanup(func() { close(release) }) // before the server's Close, which waits for the handler
		d := syncFor(t, s.srv)
		body := bytes.Repeat([]byte("x"), 64<<20) // more than the sockets hold
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, _, err := post(ctx, d, s.srv.URL+"/_bulk", body)
			done <- err
		}()
		select {
		case err := <-done:
			require.ErrorIs(t, err, context.DeadlineExceeded, "tls=%v", tlsOn)
		case <-time.After(3 * time.Second):
			t.Fatalf("tls=%v: the request outlived its context by seconds", tlsOn)
		}
	}
}

// A request that a proxy would carry goes through net/http's transport,
// to the proxy.
func TestSyncTransportLeavesProxiesToNetHTTP(t *testing.T) {
	var got []string
	var mu sync.Mutex
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.String())
		mu.Unlock()
		_, _ = w.Write([]byte("via proxy"))
	}))
	defer proxy.Close()
	pu, err := url.Parse(proxy.URL)
	require.NoError(t, err)
	base := &http.Transport{Proxy: http.ProxyURL(pu)}
	d := newSyncTransport(base)
	defer d.CloseIdleConnections()

	status, answer, err := post(context.Background(), d, "http://es.invalid:9200/_bulk", []byte("x"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "via proxy", answer)
	require.Equal(t, []string{"http://es.invalid:9200/_bulk"}, got)
}

// A server that cannot be reached is an error naming the failure, not an
// answer.
func TestSyncTransportDialError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	d := newSyncTransport(&http.Transport{DialContext: (&net.Dialer{}).DialContext})
	_, _, err = post(context.Background(), d, "http://"+addr+"/_bulk", []byte("x"))
	var op *net.OpError
	require.True(t, errors.As(err, &op), "%v", err)
}

// Answers that come before the body is read.
//
// RFC 9112 §9.5: "A client sending a message body SHOULD monitor the
// network connection for an error response while it is transmitting the
// request. If the client sees a response that indicates the server does
// not wish to receive the message body and is closing the connection, the
// client SHOULD immediately cease transmitting the body and close its side
// of the connection." RFC 9110 §15.5.14: on a 413 the server MAY close the
// connection. Elasticsearch answers a body over http.max_content_length
// (100mb by default; less on hosted clusters) with 413 and closes; its
// security layer can refuse the credentials from the headers alone. §9.6
// is how the closing goes: net/http's server closes its writing side,
// waits, then closes (faultyBulk.early); a server that closes at once with
// the body unread resets the connection (earlyServer). The sockets'
// buffers are made small so that the body cannot all be written before
// the answer: the writes must see it.

// smallBufferListener listens with a receive buffer of a few KiB, which
// the connections it accepts inherit.
func smallBufferListener(t *testing.T) net.Listener {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10)
		})
		return errors.Join(err, serr)
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

// smallBufferFaultyBulk is a faultyBulk listening with small buffers. With
// TLS it asks for a client certificate, and so (crypto/tls's server, as
// Java's) sends its TLS 1.3 session ticket once the client's handshake is
// over: the ticket comes while the first body is written, readable on the
// socket and no answer. cfg is set to trust it and to present a
// certificate.
func smallBufferFaultyBulk(t *testing.T, tlsOn bool, cfg *config.Output) *faultyBulk {
	f := newUnstartedFaultyBulk(t)
	_ = f.srv.Listener.Close()
	f.srv.Listener = smallBufferListener(t)
	if !tlsOn {
		f.srv.Start()
		*cfg = testConfig(f.srv.URL)
		return f
	}
	srvPEM, _, srvCert := selfSigned(t, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	cliPEM, cliKey, _ := selfSigned(t, "sluice", x509.ExtKeyUsageClientAuth)
	clients := x509.NewCertPool()
	require.True(t, clients.AppendCertsFromPEM(cliPEM))
	f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: clients, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13}
	f.srv.StartTLS()
	*cfg = testConfig(f.srv.URL)
	cfg.TLS = config.ClientTLS{
		CAFile:   writeFile(t, "ca.pem", string(srvPEM)),
		CertFile: writeFile(t, "client.pem", string(cliPEM)),
		KeyFile:  writeFile(t, "client.key", string(cliKey)),
	}
	return f
}

// startSmallBufferOutput runs an output whose connections have a small
// send buffer; opaque hides their socket from the transport.
func startSmallBufferOutput(t *testing.T, cfg config.Output, opaque bool) *Output {
	t.Helper()
	return startSmallBufferOutputPolling(t, cfg, opaque, pollWait)
}

// startSmallBufferOutputPolling is startSmallBufferOutput with the
// transport's poll set.
func startSmallBufferOutputPolling(t *testing.T, cfg config.Output, opaque bool, poll time.Duration) *Output {
	t.Helper()
	o, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	o.trip.poll = poll
	if tc := o.transport.TLSClientConfig; tc != nil {
		// A client that keeps sessions is sent tickets (crypto/tls's
		// server sends none to one that does not say it takes them).
		tc.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	}
	dial := o.transport.DialContext
	o.transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if tc, ok := c.(bodyConn).Conn.(*net.TCPConn); ok {
			if err := tc.SetWriteBuffer(8 << 10); err != nil {
				_ = c.Close()
				return nil, err
			}
		}
		if opaque {
			return bodyConn{opaqueConn{c.(bodyConn).Conn}}, nil
		}
		return c, nil
	}
	runOutput(t, o)
	return o
}

// opaqueConn is a connection that does not expose its socket (a
// dialler's wrapper).
type opaqueConn struct{ net.Conn }

// transportFailures is how many bulk requests failed without an answer.
func transportFailures(o *Output) int64 {
	var n int64
	for _, c := range []Cause{CauseConnectionRefused, CauseConnectionReset, CauseTimeout, CauseDNS, CauseTLS, CauseNetwork} {
		n += o.RequestFailures(c)
	}
	return n
}

// deliverBigBatch writes a batch of bigBatch records to o and waits until
// it is acknowledged, with no transport failure, and every record stored
// once in f.
func deliverBigBatch(t *testing.T, o *Output, f *faultyBulk) {
	t.Helper()
	src := testSource("api-1")
	acks := newAckRecorder()
	acks.check = storedAll(f, src, bigBatch, nil)
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, bigBatch, nil))
	waitAckedNoTransportFailure(t, o, acks, 0)
	requireStoredOnce(t, f, src, bigBatch, nil)
}

// waitAckedNoTransportFailure is waitAcked that fails as soon as a
// request fails without an answer: a body the server answered early
// taken for a broken connection is sent again and again.
func waitAckedNoTransportFailure(t *testing.T, o *Output, acks *ackRecorder, seqs ...uint64) {
	t.Helper()
	deadline := time.Now().Add(hangWait)
	for {
		if n := transportFailures(o); n > 0 {
			t.Fatalf("%d bulk requests failed without an answer (health: %+v)", n, o.Health())
		}
		done := true
		for _, s := range seqs {
			done = done && acks.count(s) > 0
		}
		if done {
			break
		}
		require.True(t, time.Now().Before(deadline), "batches %v not acked within %v", seqs, hangWait)
		time.Sleep(5 * time.Millisecond)
	}
	acks.waitAcked(t, seqs...)
}

// bigBatch is a batch whose request body is about 1 MB, far over the
// sockets' buffers.
const bigBatch = 4000

// A body over the server's limit is answered 413 before it is read, and
// the server closes the connection: the output splits the request as it
// does for any 413 until the halves fit, each record is stored exactly
// once, and no request fails in transport (a write cut short by the close
// is not taken for a broken connection to send the same body on again).
func TestEarly413SplitsTheRequest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tls    bool
		opaque bool // the dialler's connections hide their socket: writes block, and end when the server resets
		srv    func(t *testing.T, f *faultyBulk, limit int64) (url string, early func() int)
	}{
		{"closes writing side first", false, false, goServerEarly},
		{"closes writing side first/tls", true, false, goServerEarly},
		{"closes at once", false, false, earlyServerWith(closeAtOnce)},
		{"closes at once/opaque", false, true, earlyServerWith(closeAtOnce)},
		{"closes writing side first/opaque", false, true, goServerEarly},
		{"answers and reads no more", false, false, earlyServerWith(readNoMore)},
		{"answers late and reads no more", false, false, earlyServerWith(answerLate)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg config.Output
			f := smallBufferFaultyBulk(t, tc.tls, &cfg)
			const limit = 300 << 10
			u, earlyAnswers := tc.srv(t, f, limit)
			cfg.URLs = []string{u}
			o := startSmallBufferOutput(t, cfg, tc.opaque)
			deliverBigBatch(t, o, f)
			st := o.Stats()
			require.Positive(t, earlyAnswers())
			require.Equal(t, int64(earlyAnswers()), st.RequestSplits, "each 413 splits its request once")
			require.Zero(t, st.RequestRetries)
			require.Equal(t, int64(bigBatch), st.DocsSent)
			require.Equal(t, int64(earlyAnswers()), o.RequestFailures(CauseClientError))
		})
	}
}

// goServerEarly has f (net/http's server) answer 413 to bodies over limit
// from their headers.
func goServerEarly(_ *testing.T, f *faultyBulk, limit int64) (string, func() int) {
	f.early = func(r *http.Request) *fault {
		if r.ContentLength <= limit {
			return nil
		}
		return &fault{status: http.StatusRequestEntityTooLarge, body: `{"error":"Request Entity Too Large"}`}
	}
	return f.srv.URL, func() int {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.earlyAnswers
	}
}

// How earlyServer leaves a connection it answered early.
const (
	closeAtOnce   = iota // close, the body unread: the peer gets a reset
	readNoMore           // keep it open without reading until the test ends
	answerLate           // read some of the body, take longer than the client's poll to answer, then as readNoMore
	continueFirst        // answer every request "100 Continue" before its body is read, then as usual
)

// earlyServerWith returns an earlyServer in front of f that leaves
// connections it answered early as mode says.
func earlyServerWith(mode int) func(t *testing.T, f *faultyBulk, limit int64) (string, func() int) {
	return func(t *testing.T, f *faultyBulk, limit int64) (string, func() int) {
		s := newEarlyServer(t, f, mode, func(r *http.Request) (int, string) {
			if r.ContentLength <= limit {
				return 0, ""
			}
			return http.StatusRequestEntityTooLarge, `{"error":"Request Entity Too Large"}`
		})
		return s.url, s.answers
	}
}

// earlyServer is an HTTP/1.1 server on a bare listener (with small
// buffers) that answers a request from its headers when early says so,
// and leaves the connection as mode says; other requests go to f.
type earlyServer struct {
	url   string
	ln    net.Listener
	f     *faultyBulk
	mode  int
	early func(r *http.Request) (status int, body string)
	done  chan struct{}
	wg    sync.WaitGroup

	mu       sync.Mutex
	answered int
}

func newEarlyServer(t *testing.T, f *faultyBulk, mode int, early func(r *http.Request) (int, string)) *earlyServer {
	s := &earlyServer{ln: smallBufferListener(t), f: f, mode: mode, early: early, done: make(chan struct{})}
	s.url = "http://" + s.ln.Addr().String()
	s.wg.Go(s.accept)
	t.Cleanup(func() {
		close(s.done)
		_ = s.ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *earlyServer) answers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answered
}

func (s *earlyServer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() { s.serve(c) })
	}
}

func (s *earlyServer) serve(c net.Conn) {
	defer c.Close()
	stop := context.AfterFunc(doneContext(s.done), func() { _ = c.Close() })
	defer stop()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if s.mode == continueFirst {
			if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
				return
			}
		}
		if status, body := s.early(req); status != 0 {
			if s.mode == answerLate {
				// The client fills the buffers and waits for room
				// meanwhile; only its poll can find the answer.
				if _, err := io.CopyN(io.Discard, req.Body, 64<<10); err != nil {
					return
				}
				time.Sleep(3 * pollWait)
			}
			s.mu.Lock()
			s.answered++
			s.mu.Unlock()
			_, _ = fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
				status, http.StatusText(status), len(body), body)
			if s.mode != closeAtOnce {
				<-s.done
			}
			return
		}
		rec := httptest.NewRecorder()
		s.f.serve(rec, req)
		res := rec.Result()
		res.ContentLength = int64(rec.Body.Len())
		if err := res.Write(c); err != nil {
			return
		}
	}
}

// doneContext is a context that ends when done is closed.
func doneContext(done <-chan struct{}) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-done
		cancel()
	}()
	return ctx
}

// Credentials refused from the headers, before the body is read, are the
// auth failure they are (counted as unauthorized, retried until accepted),
// not a broken connection; each record is then stored exactly once.
func TestEarly401IsAnAuthFailure(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		t.Run("tls="+strconv.FormatBool(tlsOn), func(t *testing.T) {
			var cfg config.Output
			f := smallBufferFaultyBulk(t, tlsOn, &cfg)
			var refusals atomic.Int32
			f.early = func(r *http.Request) *fault {
				if refusals.Add(1) > 2 {
					return nil
				}
				return &fault{status: http.StatusUnauthorized, body: `{"error":{"type":"security_exception","reason":"unable to authenticate user [elastic]"},"status":401}`}
			}
			cfg.Bulk.Workers = 1
			o := startSmallBufferOutput(t, cfg, false)
			deliverBigBatch(t, o, f)
			require.Equal(t, int64(2), o.RequestFailures(CauseUnauthorized))
			st := o.Stats()
			require.Equal(t, int64(2), st.RequestRetries)
			require.Zero(t, st.RequestSplits)
			require.Equal(t, "ok", o.Health().State)
		})
	}
}

// A kept-alive connection the server closed while idle is left for a
// fresh one: the next request is answered without a failure and without
// its documents sent twice.
func TestIdleConnectionClosedByTheServer(t *testing.T) {
	f := newUnstartedFaultyBulk(t)
	var mu sync.Mutex
	var idle []net.Conn
	opened := 0
	closed := make(chan struct{}, 16)
	f.srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch st {
		case http.StateNew:
			opened++
		case http.StateIdle:
			idle = append(idle, c)
		case http.StateClosed:
			closed <- struct{}{}
		}
	}
	f.srv.Start()
	cfg := testConfig(f.srv.URL)
	cfg.Bulk.Workers = 1
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	acks.check = storedAll(f, src, 10, nil)
	w := o.NewWriter()
	write(t, w, newTestBatch(src, acks, 0, 0, 10, nil))
	acks.waitAcked(t, 0)

	var c net.Conn
	require.Eventually(t, func() bool { // the server sets it idle after the answer has left
		mu.Lock()
		defer mu.Unlock()
		if len(idle) != 1 {
			return false
		}
		c = idle[0]
		return true
	}, hangWait, time.Millisecond, "one kept-alive connection")
	require.NoError(t, c.Close())
	<-closed

	write(t, w, newTestBatch(src, acks, 1, 10, 10, nil))
	acks.waitAcked(t, 0, 1)
	requireStoredOnce(t, f, src, 20, nil)
	st := o.Stats()
	require.Equal(t, int64(2), st.Requests)
	require.Zero(t, st.RequestRetries)
	require.Zero(t, transportFailures(o))
	mu.Lock()
	n := opened
	mu.Unlock()
	require.Equal(t, 2, n)
}

// slowReader reads a body in small pieces, stopping twice for longer than
// the transport's poll: a server that is slow, not one that answered.
func slowReader(r io.Reader) ([]byte, error) {
	var out bytes.Buffer
	buf := make([]byte, 16<<10)
	for i := 0; ; i++ {
		n, err := r.Read(buf)
		out.Write(buf[:n])
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return out.Bytes(), err
		}
		if i == 5 || i == 20 {
			time.Sleep(3 * pollWait)
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// A server that reads the body slowly, with pauses longer than the
// transport's wait for room, gets it whole in one request: waiting for it
// is no failure, and (with TLS) the records TLS sends on its own are no
// answer.
//
// A poll of a microsecond has every wait end in the poll's deadline, and
// finds the writes that come after one (TLS records given to the socket
// between two waits) taking that deadline for a failure.
func TestSlowReadingServer(t *testing.T) {
	for _, tc := range []struct {
		tls  bool
		poll time.Duration
	}{{false, pollWait}, {true, pollWait}, {false, time.Microsecond}, {true, time.Microsecond}} {
		t.Run(fmt.Sprintf("tls=%v,poll=%v", tc.tls, tc.poll), func(t *testing.T) {
			var cfg config.Output
			f := smallBufferFaultyBulk(t, tc.tls, &cfg)
			f.bodyRead = slowReader
			o := startSmallBufferOutputPolling(t, cfg, false, tc.poll)
			deliverBigBatch(t, o, f)
			st := o.Stats()
			require.Equal(t, int64(1), st.Requests)
			require.Zero(t, st.RequestRetries)
		})
	}
}

// An interim answer (100 Continue, which a server may send unasked and a
// client must take, RFC 9110 §15.2) that comes while the body is written
// is not the answer: the body goes on, and the final answer is read.
func TestInterimAnswerLetsTheBodyGoOn(t *testing.T) {
	f := newFaultyBulk(t)
	s := newEarlyServer(t, f, continueFirst, func(*http.Request) (int, string) { return 0, "" })
	o := startSmallBufferOutput(t, testConfig(s.url), false)
	deliverBigBatch(t, o, f)
	st := o.Stats()
	require.Equal(t, int64(1), st.Requests)
	require.Zero(t, st.RequestRetries)
}
