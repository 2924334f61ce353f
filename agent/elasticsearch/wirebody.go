package elasticsearch

import (
	"context"
	"io"
	"net"

	"github.com/sluicelog/sluice/internal/httpbody"
)

// bodyConn is a plain connection that writes a bulk request's body
// (an httpbody.Body) straight from the body's own slice, in one write,
// instead of net/http copying it into the connection's write buffer first
// (that copy of every body was ≈ 4% of the tail workload's CPU,
// bench/RESULTS.md).
//
// How it gets there: net/http flushes the request's headers before a body
// it does not know to be in memory (it knows *bytes.Reader, not this type),
// so the body starts at an empty write buffer, which hands it to the
// connection's ReadFrom wrapped in an io.LimitedReader of ContentLength
// bytes; ReadFrom finds the body inside and writes its slice. Through TLS
// (the connection is then a *tls.Conn) it is read in pieces like any other
// body.
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

// ReadFrom writes an httpbody.Body (within the io.LimitedReader net/http puts
// around a body of known length) in one Write; any other reader goes to
// the connection's own ReadFrom, as it would without the wrapper.
func (c bodyConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if w, ok := lr.R.(*httpbody.Body); ok {
			n, err := w.WriteUpTo(c.Conn, lr.N)
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
