// Package budget bounds the bytes held by the pipeline (memory_limit).
// Sources acquire a batch's size before handing it over; the bytes come back
// when the batch is acknowledged, so everything in the ring and everything
// waiting at the outputs counts.
package budget

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Budget is a lock-free byte counter with a limit. Taking and giving back
// bytes is an atomic operation; only a source that must wait for room
// takes the mutex, to queue itself, and only a Release that finds sources
// queued takes it, to hand them the room. A waiting source sleeps until
// then: nothing polls, so a budget that stays full (an output that is
// down) costs no CPU however many sources wait.
type Budget struct {
	limit  int64
	used   atomic.Int64
	parked atomic.Int32 // sources queued or about to be
	closed atomic.Bool

	mu    sync.Mutex
	queue []*waiter     // oldest first
	done  chan struct{} // closed by Close
	pool  sync.Pool     // of *waiter
}

// A waiter is one source queued for n bytes; ready gets one token once
// the bytes are taken for it.
type waiter struct {
	n     int64
	ready chan struct{}
}

// ErrClosed is what Acquire returns once the budget is closed.
var ErrClosed = errors.New("budget closed: the pipeline was cut at shutdown")

// New returns a budget of limit bytes.
func New(limit int64) *Budget {
	return &Budget{limit: limit, done: make(chan struct{})}
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
// is closed. Waiting sources get room in the order they came.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	if b.TryAcquire(n) {
		return nil
	}
	b.mu.Lock()
	if b.closed.Load() {
		b.mu.Unlock()
		return ErrClosed
	}
	// Counted before the second try: a Release that frees the room after
	// this try sees parked > 0 and comes for the queue, which it can only
	// read after this source is in it (mu).
	b.parked.Add(1)
	if b.TryAcquire(n) {
		b.parked.Add(-1)
		b.mu.Unlock()
		return nil
	}
	w, _ := b.pool.Get().(*waiter)
	if w == nil {
		w = &waiter{ready: make(chan struct{}, 1)}
	}
	w.n = n
	b.queue = append(b.queue, w)
	b.mu.Unlock()

	select {
	case <-w.ready:
		b.pool.Put(w)
		return nil
	case <-ctx.Done():
	case <-b.done:
	}
	b.mu.Lock()
	queued := b.dequeue(w)
	b.mu.Unlock()
	if !queued {
		// The room was handed over meanwhile: it is this source's.
		<-w.ready
		b.pool.Put(w)
		return nil
	}
	b.pool.Put(w)
	// Leaving the queue may let the sources behind it through.
	b.grant()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return ErrClosed
}

// dequeue removes w from the queue and reports whether it was there;
// caller holds mu.
func (b *Budget) dequeue(w *waiter) bool {
	for i, q := range b.queue {
		if q == w {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			b.parked.Add(-1)
			return true
		}
	}
	return false
}

// grant hands the room there is to the queued sources, oldest first,
// stopping at the first that does not fit.
func (b *Budget) grant() {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := 0
	for _, w := range b.queue {
		if !b.TryAcquire(w.n) {
			break
		}
		w.ready <- struct{}{} // room for one token, and one grant per wait
		k++
	}
	if k > 0 {
		clear(b.queue[:k])
		b.queue = append(b.queue[:0], b.queue[k:]...)
		b.parked.Add(int32(-k))
	}
}

// Close makes every Acquire that has to wait, now or later, return
// ErrClosed: at the shutdown deadline nothing will free room any more, and
// a source still waiting must give up at once. Bytes already held stay
// held. Close may be called more than once.
func (b *Budget) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed.Load() {
		b.closed.Store(true)
		close(b.done)
	}
}

// Release gives n bytes back, and the room to the sources waiting for it.
func (b *Budget) Release(n int64) {
	b.used.Add(-n)
	if b.parked.Load() > 0 {
		b.grant()
	}
}
