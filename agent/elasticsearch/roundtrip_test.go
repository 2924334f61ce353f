package elasticsearch

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
// with TLS, and each answer is the one to its request.
func TestSyncTransportReusesItsConnection(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		s := newConnServer(t, tlsOn, nil)
		d := syncFor(t, s.srv)
		for i := 1; i <= 20; i++ {
			status, answer, err := post(context.Background(), d, s.srv.URL+"/_bulk", bytes.Repeat([]byte("x"), i*1000))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, `{"read":`+strconv.Itoa(i*1000)+`}`, answer)
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
	s.mu.Lock()
	require.Len(t, s.idle, 1)
	c := s.idle[0]
	s.mu.Unlock()
	require.NoError(t, c.Close())
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
