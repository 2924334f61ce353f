package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluicelog/sluice/internal/loglimit"
)

// MaxConnsCap bounds the connections the API keeps open at once; a file
// descriptor limit under 4×MaxConnsCap lowers it (DefaultMaxConns).
const MaxConnsCap = 128

// minConns keeps the probes and a few clients served under a tiny
// descriptor limit.
const minConns = 8

// DefaultMaxConns is MaxConnsCap or a quarter of the process's file
// descriptor limit, whichever is smaller: the rest is for log files,
// syslog connections and outputs, which a flood of HTTP connections must
// not starve (accept4: too many open files).
func DefaultMaxConns() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return MaxConnsCap
	}
	return int(max(min(rl.Cur/4, MaxConnsCap), minConns))
}

// limitListener keeps at most max connections open. When a new one
// arrives and all slots are taken, it closes the oldest connection that is
// not in the middle of a handler (still sending its request, or idle
// between requests) to make room, so a flood of half-open or slow
// connections cannot keep the kubelet's probes out. With every slot inside
// a handler (taps are bounded by their own limit, so this is rare), the
// new connection is closed at once.
type limitListener struct {
	net.Listener
	max  int
	logs *loglimit.Limiter // "limit reached" at most once a minute

	mu    sync.Mutex
	conns map[*limitConn]struct{}

	evicted, refused atomic.Int64
}

func newLimitListener(ln net.Listener, maxConns int, logger *slog.Logger) *limitListener {
	return &limitListener{Listener: ln, max: maxConns, logs: loglimit.New(logger, time.Minute), conns: make(map[*limitConn]struct{}, maxConns)}
}

// Accept returns the next connection, making room for it if need be.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitConn{Conn: c, l: l, since: time.Now()}
		l.mu.Lock()
		var victim *limitConn
		if len(l.conns) >= l.max {
			victim = l.oldestIdleLocked()
			if victim != nil {
				delete(l.conns, victim)
			}
		}
		full := len(l.conns) >= l.max
		if !full {
			l.conns[lc] = struct{}{}
		}
		l.mu.Unlock()
		if victim != nil {
			l.evicted.Add(1)
			_ = victim.Conn.Close()
			l.logFull()
		}
		if full {
			l.refused.Add(1)
			_ = c.Close()
			l.logFull()
			continue
		}
		return lc, nil
	}
}

// oldestIdleLocked is the connection outside a handler that has been so
// the longest; l.mu is held.
func (l *limitListener) oldestIdleLocked() *limitConn {
	var old *limitConn
	for c := range l.conns {
		if c.busy == 0 && (old == nil || c.since.Before(old.since)) {
			old = c
		}
	}
	return old
}

// logFull says at most once a minute that the limit was reached.
func (l *limitListener) logFull() {
	l.logs.Warn("http connection limit reached: closing the oldest idle or unfinished connections",
		"max_connections", l.max, "evicted_total", l.evicted.Load(), "refused_total", l.refused.Load())
}

// open is the number of connections held now.
func (l *limitListener) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// limitConn is a connection counted by its limitListener.
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once

	busy  int       // requests in a handler; guarded by l.mu
	since time.Time // accepted, or last left a handler; guarded by l.mu
}

// Close closes the connection and frees its slot.
func (c *limitConn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
		err = c.Conn.Close()
	})
	if errors.Is(err, net.ErrClosed) {
		return nil // evicted: the listener closed it
	}
	return err
}

// enter and leave bracket a handler: a connection inside one is not
// evicted.
func (c *limitConn) enter() {
	c.l.mu.Lock()
	c.busy++
	c.l.mu.Unlock()
}

func (c *limitConn) leave() {
	c.l.mu.Lock()
	c.busy--
	c.since = time.Now()
	c.l.mu.Unlock()
}

type connKey struct{}

// connContext puts the connection into its requests' context
// (http.Server.ConnContext), for enter and leave.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitConn); ok {
		return context.WithValue(ctx, connKey{}, lc)
	}
	return ctx
}

func connFrom(ctx context.Context) *limitConn {
	lc, _ := ctx.Value(connKey{}).(*limitConn)
	return lc
}
