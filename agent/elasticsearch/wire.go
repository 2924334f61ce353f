package elasticsearch

// The writing side of syncTransport's connections (roundtrip.go): the
// request goes to the socket in non-blocking writes, and whenever the
// socket has no room a peek looks for an answer the server sent early.

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/sluicelog/sluice/internal/httpbody"
)

// begin readies c to write a request whose context is ctx.
func (c *syncConn) begin(ctx context.Context, poll time.Duration) {
	c.ctx, c.poll = ctx, poll
	c.sent, c.writeErr, c.spoke, c.armed, c.body, c.bodyEnd = 0, nil, false, false, nil, false
	c.queue = c.tc != nil && c.rc != nil
	c.out = c.out[:0]
	c.bw.Reset((*connWriter)(c))
}

// end takes away what begin and the writes set on the connection: the
// poll's write deadline, and TLS records left unsent (the connection then
// does not carry another request).
func (c *syncConn) end() error {
	c.queue = false
	if !c.armed {
		return nil
	}
	c.armed = false
	_ = c.raw.SetWriteDeadline(time.Time{})
	return c.ctx.Err() // its end may have set the deadline that was just cleared
}

// resume writes the rest of a body an interim answer stopped.
func (c *syncConn) resume() error {
	lr, ok := c.body.(*io.LimitedReader)
	if !ok {
		return errors.New("an interim answer stopped a body of unknown length")
	}
	c.spoke = false
	c.queue = c.tc != nil && c.rc != nil
	_, err := c.writeBody(lr)
	if c.spoke {
		err = nil // stopped again, for the next answer
	}
	if eerr := c.end(); err == nil {
		err = eerr
	}
	if err == nil {
		err = c.ctx.Err()
	}
	return err
}

// readDeadline sets the deadline of reads and tells whether the request's
// context ended meanwhile: its end sets a deadline in the past, which this
// may have replaced.
func (c *syncConn) readDeadline(t time.Time) error {
	_ = c.conn.SetReadDeadline(t)
	return c.ctx.Err()
}

// connWriter is what c.bw writes to: the request's line and headers
// through Write, its body through ReadFrom (bufio.Writer hands a body to
// ReadFrom once it has flushed what it held, which net/http's
// Request.Write has it do for a body not known to be in memory).
type connWriter syncConn

func (w *connWriter) Write(p []byte) (int, error) { return (*syncConn)(w).write(p) }

func (w *connWriter) ReadFrom(r io.Reader) (int64, error) {
	c := (*syncConn)(w)
	c.body = r
	return c.writeBody(r)
}

// writeBody writes a body: an httpbody.Body (within the io.LimitedReader
// net/http puts around a body of known length) straight from its own
// slice, any other reader copied in pieces.
func (c *syncConn) writeBody(r io.Reader) (int64, error) {
	var n int64
	var err error
	if lr, ok := r.(*io.LimitedReader); ok {
		if b, ok := lr.R.(*httpbody.Body); ok {
			n, err = b.WriteUpTo((*bodyWriter)(c), lr.N)
			lr.N -= n
			c.bodyEnd = err == nil && lr.N == 0
			return n, err
		}
	}
	n, err = io.Copy((*bodyWriter)(c), r)
	c.bodyEnd = err == nil
	return n, err
}

// bodyWriter writes to c without the ReadFrom that would bring io.Copy
// back to writeBody.
type bodyWriter syncConn

func (w *bodyWriter) Write(p []byte) (int, error) { return (*syncConn)(w).write(p) }

// write writes p on the connection, through TLS with https. It stops with
// errAnswered when the server has spoken.
func (c *syncConn) write(p []byte) (int, error) {
	if c.tc == nil {
		return c.send(p)
	}
	total := 0
	for len(p) > 0 {
		k := min(len(p), tlsPiece)
		n, err := c.tc.Write(p[:k])
		total += n
		if err != nil {
			return total, err
		}
		p = p[k:]
		for len(c.out) > 0 {
			n, err := c.send(c.out)
			c.out = c.out[:copy(c.out, c.out[n:])]
			if err == errReadable {
				// Asked with nothing of send's in flight: the read may
				// answer a key update, which goes to c.out after what
				// waits there.
				if c.tlsAnswered() {
					c.spoke = true
					return total, errAnswered
				}
				err = c.ctx.Err() // tlsAnswered set and cleared a read deadline
			}
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// send writes p to the socket, waiting for room as long as the server
// has not spoken; when it has, it stops with c.spoke set and errAnswered.
func (c *syncConn) send(p []byte) (int, error) {
	if c.rc == nil {
		n, err := c.raw.Write(p)
		c.sent += int64(n)
		return n, c.failed(err)
	}
	c.wp, c.wn, c.werr, c.wait = p, 0, nil, true
	var err error
	for len(c.wp) > 0 && err == nil {
		c.readable, c.needArm = false, false
		if rerr := c.rc.Write(c.writeFn); rerr != nil {
			// A deadline: the request's end, or the poll's, after which
			// the peek is done again.
			if err = c.ctx.Err(); err == nil {
				if !errors.Is(rerr, os.ErrDeadlineExceeded) {
					err = rerr
				} else {
					c.needArm = true
				}
			}
		}
		switch {
		case err != nil:
		case c.werr != nil:
			err = os.NewSyscallError("write", c.werr)
		case c.readable && c.tc != nil:
			err = errReadable // write asks the TLS connection
		case c.readable:
			c.spoke = true
			err = errAnswered
		case c.needArm:
			c.armed = true
			_ = c.raw.SetWriteDeadline(time.Now().Add(c.poll))
			err = c.ctx.Err() // its end may have set the deadline just replaced
		}
	}
	n := c.wn
	c.sent += int64(n)
	c.wp = nil
	if err != errAnswered && err != errReadable {
		err = c.failed(err)
	}
	return n, err
}

// failed keeps the first error of a request's writes, which net/http's
// Request.Write may hand back wrapped where errors.Is does not see it
// (the output tells a reset from other failures by it).
func (c *syncConn) failed(err error) error {
	if err != nil && c.writeErr == nil {
		c.writeErr = err
	}
	return err
}

// tryWrite writes what of p the socket has room for now.
func (c *syncConn) tryWrite(p []byte) (int, error) {
	c.wp, c.wn, c.werr, c.wait = p, 0, nil, false
	err := c.rc.Write(c.writeFn)
	if err != nil && c.ctx.Err() == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// The poll's deadline, passed since send set it: no room now, as
		// far as this write knows; send waits for it.
		err = nil
	}
	n := c.wn
	c.sent += int64(n)
	c.wp = nil
	if err == nil && c.werr != nil {
		err = os.NewSyscallError("write", c.werr)
	}
	return n, c.failed(err)
}

// writeSome is the socket's side of send and tryWrite: it writes c.wp,
// and on a full socket peeks, then waits for room (returns false) if the
// server has not spoken and the poll's deadline is set.
func (c *syncConn) writeSome(fd uintptr) bool {
	for len(c.wp) > 0 {
		n, err := syscall.Write(int(fd), c.wp)
		if n > 0 {
			c.wn += n
			c.wp = c.wp[n:]
		}
		switch err {
		case nil:
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if !c.wait {
				return true
			}
			if c.readable = c.peek(fd); c.readable {
				return true
			}
			if !c.armed {
				c.needArm = true
				return true
			}
			return false
		default:
			c.werr = err
			return true
		}
	}
	return true
}

// peek says whether the server has sent anything: bytes, the end of its
// stream, or an error such as a reset.
func (c *syncConn) peek(fd uintptr) bool {
	n, _, err := syscall.Recvfrom(int(fd), c.one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return n >= 0 || err != syscall.EAGAIN
}

// peekOnce is peek for RawConn.Read: c.readable says what it found.
func (c *syncConn) peekOnce(fd uintptr) bool {
	c.readable = c.peek(fd)
	return true
}

// tlsAnswered says whether the TLS connection has an answer to read, or
// has ended: a readable socket may hold only TLS's own records, which the
// read takes.
func (c *syncConn) tlsAnswered() bool {
	_ = c.conn.SetReadDeadline(time.Now().Add(tlsPeek))
	_, err := c.br.Peek(1)
	_ = c.conn.SetReadDeadline(time.Time{})
	return err == nil || !errors.Is(err, os.ErrDeadlineExceeded)
}

// tlsWire is the connection under a *tls.Conn: while a request is
// written, the records the socket has no room for wait in c.out (send
// writes them), so that crypto/tls never waits in a write.
type tlsWire struct {
	net.Conn
	c *syncConn
}

func (w tlsWire) Write(p []byte) (int, error) {
	c := w.c
	if !c.queue {
		return w.Conn.Write(p)
	}
	if len(c.out) == 0 {
		n, err := c.tryWrite(p)
		if err != nil {
			return n, err
		}
		p = p[n:]
	}
	c.out = append(c.out, p...)
	return len(p), nil
}
