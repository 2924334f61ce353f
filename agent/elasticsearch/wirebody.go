package elasticsearch

import (
	"context"
	"io"
	"net"
	"net/http"
)

// wireBody is a bulk request's body that the connection writes straight
// from the body's own slice, in one write, instead of net/http copying it
// into the connection's write buffer first (that copy of every body was
// ≈ 4% of the tail workload's CPU, bench/RESULTS.md).
//
// How it gets there: net/http flushes the request's headers before a body
// it does not know to be in memory (it knows *bytes.Reader, not this type),
// so the body starts at an empty write buffer, which hands it to the
// connection's ReadFrom wrapped in an io.LimitedReader of ContentLength
// bytes; bodyConn.ReadFrom finds the wireBody inside and writes its slice.
// Through TLS (the connection is then a *tls.Conn) it is read in pieces
// like any other body.
//
// The body does not own b: the sender keeps the bytes unchanged until the
// request's response has been read.
type wireBody struct {
	b   []byte
	off int
}

// newBodyRequest returns a request whose body is b, with the length and
// the GetBody that http.NewRequest sets for a *bytes.Reader (net/http
// sends the request again on a fresh connection through GetBody when a
// kept-alive one was closed under it).
func newBodyRequest(ctx context.Context, method, url string, b []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, &wireBody{b: b})
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(len(b))
	req.GetBody = func() (io.ReadCloser, error) { return &wireBody{b: b}, nil }
	if len(b) == 0 {
		req.Body, req.GetBody = http.NoBody, nil
	}
	return req, nil
}

// Read copies the next bytes of the body into p.
func (w *wireBody) Read(p []byte) (int, error) {
	if w.off >= len(w.b) {
		return 0, io.EOF
	}
	n := copy(p, w.b[w.off:])
	w.off += n
	return n, nil
}

// Close does nothing: the bytes are the sender's.
func (w *wireBody) Close() error { return nil }

// writeTo writes up to limit of the unread bytes to dst in one Write.
func (w *wireBody) writeTo(dst io.Writer, limit int64) (int64, error) {
	p := w.b[w.off:]
	if int64(len(p)) > limit {
		p = p[:limit]
	}
	n, err := dst.Write(p)
	w.off += n
	return int64(n), err
}

// bodyConn is a plain connection that writes a wireBody without copying
// it (see wireBody).
type bodyConn struct {
	net.Conn
}

// dialBodyConn wraps what dial returns in a bodyConn.
func dialBodyConn(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return bodyConn{c}, nil
	}
}

// ReadFrom writes a wireBody (within the io.LimitedReader net/http puts
// around a body of known length) in one Write; any other reader goes to
// the connection's own ReadFrom, as it would without the wrapper.
func (c bodyConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if w, ok := lr.R.(*wireBody); ok {
			n, err := w.writeTo(c.Conn, lr.N)
			lr.N -= n
			return n, err
		}
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

// writerOnly hides a writer's ReadFrom from io.Copy.
type writerOnly struct{ io.Writer }
