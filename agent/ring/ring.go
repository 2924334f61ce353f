// Package ring is the bounded, lock-free handoff between sources and
// workers: a multi-producer, multi-consumer array queue in which each slot
// carries a sequence number (D. Vyukov's bounded MPMC design). Pushing and
// popping take one CAS on the happy path and no lock; the only channels are
// the wake-up signals used when the ring is empty or full, touched once per
// batch, not per record.
package ring

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/internal/timerpool"
)

// ErrClosed is returned by Push after Close.
var ErrClosed = errors.New("ring closed")

type slot[T any] struct {
	seq atomic.Uint64
	val T
	_   [48]byte // with a pointer-sized T a slot is one 64-byte cache line
}

// Ring is a bounded MPMC queue. The zero value is not usable; call New.
type Ring[T any] struct {
	_    [64]byte
	head atomic.Uint64 // next position to pop
	_    [56]byte
	tail atomic.Uint64 // next position to push
	_    [56]byte
	// Read on every push and pop, written never (closed: once).
	mask     uint64
	slots    []slot[T]
	closed   atomic.Bool
	notEmpty chan struct{}
	notFull  chan struct{}
	_        [64]byte
	// Written by goroutines about to park, read after every push and pop:
	// each on a line of its own, so a park does not invalidate the
	// fields above for everyone.
	waiters atomic.Int32 // consumers parked on notEmpty
	_       [60]byte
	pushers atomic.Int32 // producers parked on notFull
	_       [60]byte
}

// New returns a ring with room for size items, rounded up to a power of two.
func New[T any](size int) *Ring[T] {
	n := 2
	for n < size {
		n <<= 1
	}
	r := &Ring[T]{
		mask:     uint64(n - 1),
		slots:    make([]slot[T], n),
		notEmpty: make(chan struct{}, 1),
		notFull:  make(chan struct{}, 1),
	}
	for i := range r.slots {
		r.slots[i].seq.Store(uint64(i))
	}
	return r
}

// Cap is the number of items the ring holds when full.
func (r *Ring[T]) Cap() int { return len(r.slots) }

// Len is the number of items in the ring, approximately under concurrency.
func (r *Ring[T]) Len() int {
	n := int64(r.tail.Load()) - int64(r.head.Load())
	if n < 0 {
		return 0
	}
	return int(n)
}

// TryPush adds v unless the ring is full or closed.
func (r *Ring[T]) TryPush(v T) bool {
	if r.closed.Load() {
		return false
	}
	for {
		pos := r.tail.Load()
		s := &r.slots[pos&r.mask]
		seq := s.seq.Load()
		switch dif := int64(seq) - int64(pos); {
		case dif == 0:
			if r.tail.CompareAndSwap(pos, pos+1) {
				s.val = v
				s.seq.Store(pos + 1)
				if r.waiters.Load() > 0 {
					signal(r.notEmpty)
				}
				return true
			}
		case dif < 0:
			return false // full
		}
		// Another producer took the slot; try the next position.
	}
}

// TryPop removes the oldest item, if there is one.
func (r *Ring[T]) TryPop() (T, bool) {
	var zero T
	for {
		pos := r.head.Load()
		s := &r.slots[pos&r.mask]
		seq := s.seq.Load()
		switch dif := int64(seq) - int64(pos+1); {
		case dif == 0:
			if r.head.CompareAndSwap(pos, pos+1) {
				v := s.val
				s.val = zero
				s.seq.Store(pos + r.mask + 1)
				if r.pushers.Load() > 0 {
					signal(r.notFull)
				}
				return v, true
			}
		case dif < 0:
			return zero, false // empty
		}
	}
}

// Push adds v, waiting while the ring is full. It fails when ctx ends or
// the ring is closed.
func (r *Ring[T]) Push(ctx context.Context, v T) error {
	for spin := 0; ; spin++ {
		if r.closed.Load() {
			return ErrClosed
		}
		if r.TryPush(v) {
			return nil
		}
		if spin < 4 {
			runtime.Gosched()
			continue
		}
		r.pushers.Add(1)
		// Re-check after announcing ourselves so a pop in between is not missed.
		if r.TryPush(v) {
			r.pushers.Add(-1)
			return nil
		}
		err := park(ctx, r.notFull)
		r.pushers.Add(-1)
		if err != nil {
			return err
		}
	}
}

// Pop removes the oldest item, waiting up to wait for one. It returns false
// when the wait ends empty-handed, when ctx ends, or when the ring is closed
// and drained.
func (r *Ring[T]) Pop(ctx context.Context, wait time.Duration) (T, bool) {
	if v, ok := r.TryPop(); ok {
		return v, true
	}
	deadline := time.Now().Add(wait)
	for spin := 0; ; spin++ {
		if v, ok := r.TryPop(); ok {
			return v, true
		}
		if spin < 4 {
			// A producer is often mid-push: yielding a few times is
			// cheaper than parking and being signalled.
			runtime.Gosched()
			continue
		}
		if r.closed.Load() {
			var zero T
			return zero, false
		}
		left := time.Until(deadline)
		if left <= 0 {
			var zero T
			return zero, false
		}
		r.waiters.Add(1)
		if v, ok := r.TryPop(); ok {
			r.waiters.Add(-1)
			return v, true
		}
		err := parkFor(ctx, r.notEmpty, left)
		r.waiters.Add(-1)
		if err != nil {
			var zero T
			return zero, false
		}
	}
}

// Close stops further pushes; items already in the ring can still be popped.
func (r *Ring[T]) Close() {
	r.closed.Store(true)
	signal(r.notEmpty)
	signal(r.notFull)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// park waits for a signal. It also wakes every 10ms: a signal sent to a
// full buffer wakes only one of several parked goroutines, and the periodic
// re-check keeps the others from sleeping through their turn.
func park(ctx context.Context, c chan struct{}) error {
	return parkFor(ctx, c, 10*time.Millisecond)
}

func parkFor(ctx context.Context, c chan struct{}, d time.Duration) error {
	if d > 10*time.Millisecond {
		d = 10 * time.Millisecond
	}
	t := timerpool.Get(d)
	defer timerpool.Put(t)
	select {
	case <-c:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}
