// Package budget bounds the bytes held by the pipeline (memory_limit).
// Sources acquire a batch's size before handing it over; the bytes come back
// when the batch is acknowledged, so everything in the ring and everything
// waiting at the outputs counts.
package budget

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/internal/timerpool"
)

// Budget is a lock-free byte counter with a limit.
type Budget struct {
	limit  int64
	used   atomic.Int64
	wake   chan struct{}
	parked atomic.Int32
	closed atomic.Bool
}

// ErrClosed is what Acquire returns once the budget is closed.
var ErrClosed = errors.New("budget closed: the pipeline was cut at shutdown")

// New returns a budget of limit bytes.
func New(limit int64) *Budget {
	return &Budget{limit: limit, wake: make(chan struct{}, 1)}
}

// Limit is the configured number of bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Used is the number of bytes held now.
func (b *Budget) Used() int64 { return b.used.Load() }

// TryAcquire takes n bytes if they fit. A request larger than the whole
// limit is let through when nothing else is held, so one huge batch cannot
// wedge the pipeline.
func (b *Budget) TryAcquire(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.limit && u > 0 {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// Acquire takes n bytes, waiting until they fit, ctx ends or the budget
// is closed.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	if b.TryAcquire(n) {
		return nil
	}
	t := timerpool.Get(10 * time.Millisecond)
	defer timerpool.Put(t)
	for {
		if b.closed.Load() {
			return ErrClosed
		}
		b.parked.Add(1)
		if b.TryAcquire(n) {
			b.parked.Add(-1)
			return nil
		}
		t.Reset(10 * time.Millisecond)
		select {
		case <-b.wake:
		case <-t.C:
		case <-ctx.Done():
			b.parked.Add(-1)
			return ctx.Err()
		}
		b.parked.Add(-1)
		if b.TryAcquire(n) {
			return nil
		}
	}
}

// Close makes every Acquire that has to wait, now or later, return
// ErrClosed: at the shutdown deadline nothing will free room any more, and
// a source still waiting must give up at once. Bytes already held stay
// held. Close may be called more than once.
func (b *Budget) Close() {
	b.closed.Store(true)
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Release gives n bytes back.
func (b *Budget) Release(n int64) {
	b.used.Add(-n)
	if b.parked.Load() > 0 {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
}
