// Package loglimit keeps a flood of one warning from flooding the agent's
// own log or hiding other warnings: a Limiter lets through at most one
// line per message per interval, and the next line it lets through says
// how many of that message it held back ("suppressed"). Each message has
// its own allowance, so a storm of "line cut" leaves "read failed; file
// released" visible. The counters beside each call keep the full counts.
package loglimit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// MaxKeys bounds the messages a Limiter tracks on their own. Messages are
// constant strings at their call sites, so a few dozen at most; past the
// bound (a message built from data, by mistake) the rest share one
// allowance rather than growing the table.
const MaxKeys = 64

// overflow is the key the messages past MaxKeys share.
const overflow = "\x00overflow"

// Limiter rate-limits log lines per message. Safe for concurrent use; a
// check costs two atomic loads and no allocation.
type Limiter struct {
	logger *slog.Logger
	every  int64 // nanoseconds between lines of one message
	now    func() int64

	keys atomic.Pointer[map[string]*slot] // copied on write, read without a lock
	mu   sync.Mutex                       // serialises adding a key
}

// slot is one message's allowance.
type slot struct {
	next       atomic.Int64 // Unix ns before which lines are held back
	suppressed atomic.Int64 // lines held back since the last one let through
}

// New returns a limiter that logs to logger at most one line per message
// every interval.
func New(logger *slog.Logger, every time.Duration) *Limiter {
	l := &Limiter{logger: logger, every: int64(every), now: func() int64 { return time.Now().UnixNano() }}
	l.keys.Store(&map[string]*slot{})
	return l
}

// Allow reports whether a line of msg may be logged now and, if so, how
// many lines of msg were held back since the last one let through. A
// caller that builds costly arguments checks first, then logs with
// "suppressed".
func (l *Limiter) Allow(msg string) (suppressed int64, ok bool) {
	s := l.slot(msg)
	now := l.now()
	next := s.next.Load()
	if now < next || !s.next.CompareAndSwap(next, now+l.every) {
		s.suppressed.Add(1)
		return 0, false
	}
	return s.suppressed.Swap(0), true
}

// Warn logs msg at WARN if Allow lets it through.
func (l *Limiter) Warn(msg string, args ...any) { l.Log(slog.LevelWarn, msg, args...) }

// Error logs msg at ERROR if Allow lets it through.
func (l *Limiter) Error(msg string, args ...any) { l.Log(slog.LevelError, msg, args...) }

// Log logs msg at level if Allow lets it through, with "suppressed" (the
// lines of msg held back before it) when there were any.
func (l *Limiter) Log(level slog.Level, msg string, args ...any) {
	n, ok := l.Allow(msg)
	if !ok {
		return
	}
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	l.logger.Log(context.Background(), level, msg, args...)
}

// slot is msg's allowance, added on first use.
func (l *Limiter) slot(msg string) *slot {
	if s, ok := (*l.keys.Load())[msg]; ok {
		return s
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := *l.keys.Load()
	if s, ok := old[msg]; ok {
		return s
	}
	key := msg
	if len(old) >= MaxKeys {
		if s, ok := old[overflow]; ok {
			return s
		}
		key = overflow
	}
	keys := make(map[string]*slot, len(old)+1)
	for k, v := range old {
		keys[k] = v
	}
	s := &slot{}
	keys[key] = s
	l.keys.Store(&keys)
	return s
}
