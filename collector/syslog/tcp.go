package syslog

import (
	"context"
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
			in.serveConn(ctx, c)
		})
	}
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
	fr := newFramer(int(in.cfg.MaxMessageBytes))
	idle := in.cfg.IdleTimeout.D()
	lastData := time.Now()
	defer func() {
		if frame, incomplete := fr.rest(); frame != nil {
			// An octet-counted frame cut by the disconnect is kept raw.
			bt.add(frame, false, incomplete, time.Now().UnixNano(), sourceIP)
			if incomplete {
				in.stats.Incomplete.Add(1)
			}
		}
		bt.push(ctx)
	}()
	for {
		var deadline time.Time
		if idle > 0 {
			deadline = lastData.Add(idle)
		}
		if bt.pending() {
			if d := bt.started.Add(in.flushDelay); deadline.IsZero() || d.Before(deadline) {
				deadline = d
			}
		}
		if ctx.Err() != nil {
			return
		}
		_ = c.SetReadDeadline(deadline)
		n, full, err := fr.fill(c)
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
				if idle > 0 && time.Since(lastData) >= idle {
					in.stats.ConnsIdleClosed.Add(1)
					return
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
