package elasticsearch

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/sluicelog/sluice/internal/httpbody"
)

// writeLog records the Writes a connection was given.
type writeLog struct {
	mu     sync.Mutex
	writes [][]byte // the slices as passed, not copies
}

type loggedConn struct {
	net.Conn
	log *writeLog
}

func (c loggedConn) Write(p []byte) (int, error) {
	c.log.mu.Lock()
	c.log.writes = append(c.log.writes, p)
	c.log.mu.Unlock()
	return c.Conn.Write(p)
}

// echoServer answers every request with the length of the body it read,
// and keeps the last body.
func echoServer(t *testing.T, tlsOn bool) (*httptest.Server, func() []byte) {
	var mu sync.Mutex
	var last []byte
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		last = b
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	var srv *httptest.Server
	if tlsOn {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, func() []byte {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

func testBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// A bulk body goes from its own slice to the connection in one Write: no
// copy into net/http's write buffer, no 32 KiB pieces.
func TestWireBodyWrittenWithoutCopy(t *testing.T) {
	srv, last := echoServer(t, false)
	log := &writeLog{}
	d := &net.Dialer{}
	tr := &http.Transport{
		DialContext: dialBodyConn(func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return loggedConn{c, log}, nil
		}),
		WriteBufferSize: 4 << 10,
	}
	defer tr.CloseIdleConnections()
	for _, n := range []int{1, 100 << 10, 600 << 10} {
		body := testBody(n)
		log.mu.Lock()
		log.writes = nil
		log.mu.Unlock()
		req, _, err := httpbody.NewRequest(context.Background(), http.MethodPost, srv.URL+"/_bulk", body)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !bytes.Equal(last(), body) {
			t.Fatalf("%d bytes: status %d, server read %d bytes, want the body", n, res.StatusCode, len(last()))
		}
		log.mu.Lock()
		found := false
		for _, w := range log.writes {
			if len(w) == n && &w[0] == &body[0] {
				found = true
			}
		}
		nw := len(log.writes)
		log.mu.Unlock()
		if !found {
			t.Errorf("%d bytes: the body was not written from its own slice in one Write (%d writes)", n, nw)
		}
		if nw != 2 {
			t.Errorf("%d bytes: %d writes, want 2 (headers, body)", n, nw)
		}
	}
}

// Through TLS the body arrives whole too (read in pieces, as before), and
// a request without a body sends none.
func TestWireBodyTLSAndEmpty(t *testing.T) {
	srv, last := echoServer(t, true)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = dialBodyConn((&net.Dialer{}).DialContext)
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // the test server's own certificate
	defer tr.CloseIdleConnections()
	for _, n := range []int{0, 700 << 10} {
		body := testBody(n)
		req, _, err := httpbody.NewRequest(context.Background(), http.MethodPost, srv.URL+"/_bulk", body)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !bytes.Equal(last(), body) {
			t.Fatalf("%d bytes: status %d, server read %d bytes", n, res.StatusCode, len(last()))
		}
	}
}

// GetBody gives the whole body again, as net/http needs to resend a
// request on a fresh connection.
func TestWireBodyGetBody(t *testing.T) {
	body := testBody(1000)
	req, _, err := httpbody.NewRequest(context.Background(), http.MethodPost, "http://127.0.0.1:1/_bulk", body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(req.Body); err != nil {
		t.Fatal(err)
	}
	again, err := req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(again)
	if !bytes.Equal(got, body) || req.ContentLength != int64(len(body)) {
		t.Fatalf("GetBody gave %d bytes, ContentLength %d; want %d", len(got), req.ContentLength, len(body))
	}
}
