// Package httpbody holds request bodies whose bytes the caller takes back
// once the request is over. net/http may go on writing a body in its
// connection's goroutine after the request returned (an error, or an
// answer that came before the body was written; http.Client.Do: "the
// Body may be closed asynchronously after Do returns"), so bytes reused
// at once are bytes it may still be sending: Detach waits for that write
// and makes every later read fail.
package httpbody

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
)

// ErrDetached is what a body read after its request was given up reads.
var ErrDetached = errors.New("request body read after its request was given up")

// Bytes are the bytes of a request's bodies: the first one and those
// GetBody makes for a resend on a fresh connection.
type Bytes struct {
	mu sync.Mutex
	b  []byte // nil once detached
}

// Detach takes the bytes away from the request's bodies: it returns once
// no body is writing them, and no body reads them after.
func (s *Bytes) Detach() {
	s.mu.Lock()
	s.b = nil
	s.mu.Unlock()
}

// NewRequest returns a request whose body is b, with the length and the
// GetBody that http.NewRequest sets for a *bytes.Reader (net/http sends
// the request again on a fresh connection through GetBody when a
// kept-alive one was closed under it). The caller calls Detach on the
// returned Bytes before it changes b.
func NewRequest(ctx context.Context, method, url string, b []byte) (*http.Request, *Bytes, error) {
	src := &Bytes{b: b}
	req, err := http.NewRequestWithContext(ctx, method, url, &Body{src: src})
	if err != nil {
		return nil, nil, err
	}
	req.ContentLength = int64(len(b))
	req.GetBody = func() (io.ReadCloser, error) { return &Body{src: src}, nil }
	if len(b) == 0 {
		req.Body, req.GetBody = http.NoBody, nil
	}
	return req, src, nil
}

// Body is one reading of a request's Bytes.
type Body struct {
	src *Bytes
	off int
}

// Read copies the next bytes of the body into p.
func (w *Body) Read(p []byte) (int, error) {
	w.src.mu.Lock()
	defer w.src.mu.Unlock()
	if w.src.b == nil {
		return 0, ErrDetached
	}
	if w.off >= len(w.src.b) {
		return 0, io.EOF
	}
	n := copy(p, w.src.b[w.off:])
	w.off += n
	return n, nil
}

// Close does nothing: the bytes are the caller's.
func (w *Body) Close() error { return nil }

// WriteUpTo writes up to limit of the unread bytes to dst in one Write,
// so that a connection can send the body from its own slice.
func (w *Body) WriteUpTo(dst io.Writer, limit int64) (int64, error) {
	w.src.mu.Lock()
	defer w.src.mu.Unlock()
	if w.src.b == nil {
		return 0, ErrDetached
	}
	p := w.src.b[w.off:]
	if int64(len(p)) > limit {
		p = p[:limit]
	}
	n, err := dst.Write(p)
	w.off += n
	return int64(n), err
}
