package httpapi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// serveServer is serve, returning the server too.
func serveServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := New(opts)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		require.NoError(t, s.Close())
		require.NoError(t, <-done)
	})
	return s, ln.Addr().String()
}

// rawRequest sends head (a request without its body) on a new connection.
func rawRequest(t *testing.T, addr, head string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = io.WriteString(conn, head)
	require.NoError(t, err)
	return conn
}

// TestAnnouncedBodyIsNotAwaited: a request that announces a body which
// never comes is answered at once and its connection closed, well before
// ReadTimeout, on every route and for refused requests too. Go would
// otherwise read the body before answering.
func TestAnnouncedBodyIsNotAwaited(t *testing.T) {
	_, addr := serveServer(t, Options{Token: "s3cret", Status: func() any { return 1 }})
	for _, c := range []struct {
		path string
		want int
	}{{"/healthz", 200}, {"/api/v1/status", 401}, {"/nothing", 404}} {
		for _, framing := range []string{"Content-Length: 1000", "Transfer-Encoding: chunked"} {
			conn := rawRequest(t, addr, "GET "+c.path+" HTTP/1.1\r\nHost: x\r\n"+framing+"\r\n\r\n")
			// Less than ReadTimeout: a server that waits for the body
			// until its read deadline fails here.
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(ReadTimeout/2)))
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err, "%s with %s: answered", c.path, framing)
			require.Equal(t, c.want, resp.StatusCode)
			require.True(t, resp.Close, "Connection: close")
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			_, err = br.ReadByte()
			require.ErrorIs(t, err, io.EOF, "%s with %s: the server closed the connection", c.path, framing)
		}
	}
}

func TestBigHeadersRefused(t *testing.T) {
	_, addr := serveServer(t, Options{})
	conn := rawRequest(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 2*MaxHeaderBytes)+"\r\n\r\n")
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(ReadHeaderTimeout)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
}

// TestConnectionLimitKeepsProbesAnswering: connections that never finish
// their request fill every slot; a new one still gets its answer, the
// oldest unfinished ones are closed to make room, and no more than the
// limit stay open. The evictions are logged once, not once each.
func TestConnectionLimitKeepsProbesAnswering(t *testing.T) {
	const maxConns = 4
	var logs agenttest.Buffer
	s, addr := serveServer(t, Options{MaxConns: maxConns, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	var stuck []net.Conn
	for range 3 * maxConns {
		stuck = append(stuck, rawRequest(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n"))
	}
	require.Eventually(t, func() bool { return s.OpenConns() == maxConns }, 10*time.Second, time.Millisecond)
	for i := range 3 {
		code, body, _ := get(t, "http://"+addr+"/healthz", "")
		require.Equal(t, http.StatusOK, code, "probe %d", i)
		require.Equal(t, "ok\n", body)
		require.LessOrEqual(t, s.OpenConns(), maxConns)
	}
	// The first ones were evicted: the server closed them (EOF, or a reset
	// since the server had their unread bytes).
	require.NoError(t, stuck[0].SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err := stuck[0].Read(make([]byte, 1))
	require.Error(t, err)
	require.NotErrorIs(t, err, os.ErrDeadlineExceeded)
	const msg = "http connection limit reached"
	require.Eventually(t, func() bool { return logs.Count(msg) > 0 }, 10*time.Second, time.Millisecond)
	require.Equal(t, 1, logs.Count(msg), "one line a minute, whatever the evictions:\n%s", logs.String())
}

// TestConnectionLimitSparesHandlers: a connection inside a handler (a tap)
// is never evicted; when every slot is one, a new connection is refused.
func TestConnectionLimitSparesHandlers(t *testing.T) {
	block := make(chan struct{})
	entered := make(chan struct{}, 2)
	s := New(Options{MaxConns: 2})
	h := s.guard(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		entered <- struct{}{}
		<-block
	}))
	s.srv.Handler = h
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		close(block)
		require.NoError(t, s.Close())
		require.NoError(t, <-done)
	})
	addr := ln.Addr().String()
	busy := []net.Conn{rawRequest(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), rawRequest(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")}
	<-entered
	<-entered
	refused := rawRequest(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, refused.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = refused.Read(make([]byte, 1))
	require.Error(t, err, "closed without an answer")
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "closed, not left waiting: %v", err)
	for i, c := range busy {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
		_, err := c.Read(make([]byte, 1))
		require.ErrorIs(t, err, os.ErrDeadlineExceeded, fmt.Sprintf("busy connection %d still open", i))
	}
	require.Equal(t, 2, s.OpenConns())
}

func TestDefaultMaxConns(t *testing.T) {
	n := DefaultMaxConns()
	require.GreaterOrEqual(t, n, minConns)
	require.LessOrEqual(t, n, MaxConnsCap)
}
