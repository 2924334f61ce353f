package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// acceptLoop accepts connections until the listener closes, each served in
// its own goroutine that wg waits for.
func (in *Input) acceptLoop(ctx context.Context, wg *sync.WaitGroup) {
	backoff := 5 * time.Millisecond
	for {
		c, err := in.tcpLn.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			// EMFILE and the like: wait and retry rather than spin.
			in.logf("syslog accept failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		if in.stats.ConnsOpen.Load() >= int64(in.cfg.MaxConnections) {
			in.stats.ConnsRefused.Add(1)
			in.logf("syslog connection refused: max_connections reached", "max_connections", in.cfg.MaxConnections, "remote", c.RemoteAddr().String())
			c.Close()
			continue
		}
		in.stats.ConnsAccepted.Add(1)
		in.stats.ConnsOpen.Add(1)
		in.mu.Lock()
		in.conns[c] = struct{}{}
		in.mu.Unlock()
		if ctx.Err() != nil {
			// Run may have woken the connections before this one joined.
			_ = c.SetReadDeadline(time.Now())
		}
		wg.Go(func() {
			defer func() {
				in.mu.Lock()
				delete(in.conns, c)
				in.mu.Unlock()
				c.Close()
				in.stats.ConnsOpen.Add(-1)
			}()
			conn := net.Conn(c)
			if in.tls != nil {
				if conn = in.handshake(ctx, c); conn == nil {
					return
				}
			}
			in.serveConn(ctx, conn)
		})
	}
}

// handshake runs the TLS handshake under handshake_timeout, apart from
// idle_timeout: a client that never sends its ClientHello holds a slot of
// max_connections only that long. It returns nil when the connection is
// to be closed.
func (in *Input) handshake(ctx context.Context, c net.Conn) net.Conn {
	tc := tls.Server(c, in.tls)
	hctx, cancel := context.WithTimeout(ctx, in.cfg.HandshakeTimeout.Duration())
	defer cancel()
	err := tc.HandshakeContext(hctx)
	switch {
	case err == nil:
		return tc
	case ctx.Err() != nil:
	case hctx.Err() != nil:
		in.stats.ConnsHandshakeTimeout.Add(1)
		in.logf("syslog TLS connection closed: no handshake within handshake_timeout", "handshake_timeout", in.cfg.HandshakeTimeout.Duration().String(), "remote", c.RemoteAddr().String())
	default:
		in.stats.ConnErrors.Add(1)
		in.logf("syslog TLS handshake failed", "remote", c.RemoteAddr().String(), "err", err)
	}
	return nil
}

// serveConn reads frames from one connection until it closes, goes idle,
// or ctx ends. Records are batched per read: a batch is handed over when
// a read has been consumed (unless the read filled the buffer, so more is
// waiting), at batch_bytes, or flushDelay after its first record. A
// blocked Push stops the reading, which pushes back on the sender.
func (in *Input) serveConn(ctx context.Context, c net.Conn) {
	var sourceIP []byte
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		sourceIP = appendSourceIP(nil, ap.Addr())
	}
	bt := in.newBatcher(in.tcpSrc)
	fr := newFramer(int(in.cfg.MaxMessageBytes), in.frames)
	fr.held = &in.stats.FrameBytes
	idle := in.cfg.IdleTimeout.Duration()
	lastData := time.Now()
	defer func() {
		if frame, incomplete := fr.rest(); frame != nil {
			// An octet-counted frame cut by the disconnect is kept raw.
			bt.add(frame, false, incomplete, time.Now().UnixNano(), sourceIP)
			if incomplete {
				in.stats.Incomplete.Add(1)
			}
		}
		fr.release()
		bt.push(ctx)
	}()
	for {
		deadline := in.readDeadline(bt, fr, lastData)
		if ctx.Err() != nil {
			return
		}
		_ = c.SetReadDeadline(deadline)
		n, full, err := fr.fill(c)
		if errors.Is(err, errNoRoom) {
			if !in.waitFrameRoom(ctx, c, bt, fr, sourceIP) {
				return
			}
			continue
		}
		now := time.Now()
		if n > 0 {
			lastData = now
			in.stats.Bytes.Add(int64(n))
		}
		recv := now.UnixNano()
		for {
			frame, truncated, ok := fr.next()
			if !ok {
				break
			}
			bt.add(frame, truncated, false, recv, sourceIP)
			if bt.full() {
				bt.push(ctx)
			}
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				if bt.pending() {
					bt.push(ctx)
				}
				quiet := time.Since(lastData)
				if idle > 0 && quiet >= idle {
					in.stats.ConnsIdleClosed.Add(1)
					return
				}
				if quiet >= shrinkAfter {
					fr.shrink()
				}
				continue
			}
			if !errors.Is(err, io.EOF) && ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				in.stats.ConnErrors.Add(1)
				in.logf("syslog connection read failed", "remote", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		if bt.pending() && (!full || time.Since(bt.started) >= in.flushDelay) {
			bt.push(ctx)
		}
	}
}

// readDeadline is when the next read gives up: at idle_timeout, when the
// pending batch is due (flushDelay), or when a grown buffer has been quiet
// for shrinkAfter; zero for none.
func (in *Input) readDeadline(bt *batcher, fr *framer, lastData time.Time) time.Time {
	var deadline time.Time
	earliest := func(d time.Time) {
		if deadline.IsZero() || d.Before(deadline) {
			deadline = d
		}
	}
	if idle := in.cfg.IdleTimeout.Duration(); idle > 0 {
		earliest(lastData.Add(idle))
	}
	if bt.pending() {
		earliest(bt.started.Add(in.flushDelay))
	}
	if fr.canShrink() {
		earliest(lastData.Add(shrinkAfter))
	}
	return deadline
}

// waitFrameRoom is for a connection whose unfinished frame fills its
// buffer while the frame memory has no room to grow it: it hands over the
// batch it holds, then waits up to frameWait without reading (the sender
// is pushed back). If no room comes, the frame's head is shipped cut
// (flagged truncated, like one over max_message_bytes), the closing is
// counted, and false says to close the connection.
func (in *Input) waitFrameRoom(ctx context.Context, c net.Conn, bt *batcher, fr *framer, sourceIP []byte) bool {
	if bt.pending() {
		bt.push(ctx)
	}
	wctx, cancel := context.WithTimeout(ctx, in.frameWait)
	err := fr.waitRoom(wctx)
	cancel()
	if err == nil {
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	in.stats.ConnsFrameMemory.Add(1)
	frame, incomplete := fr.rest()
	in.logf("syslog connection closed: its unfinished message needed more memory than memory_limit leaves for connections' frames",
		"remote", c.RemoteAddr().String(), "held_bytes", len(frame), "waited", in.frameWait.String())
	if frame != nil {
		bt.add(frame, true, incomplete, time.Now().UnixNano(), sourceIP)
	}
	return false
}
