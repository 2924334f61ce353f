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
	ok, _ := r.tryPush(v)
	return ok
}

// tryPush is TryPush that also reports whether another producer took a
// position under it on the way (see yieldIfContended).
func (r *Ring[T]) tryPush(v T) (ok, contended bool) {
	if r.closed.Load() {
		return false, false
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
				return true, contended
			}
			contended = true
		case dif < 0:
			return false, contended // full
		}
		// Another producer took the slot; try the next position.
	}
}

// TryPop removes the oldest item, if there is one.
func (r *Ring[T]) TryPop() (T, bool) {
	v, ok, _ := r.tryPop()
	return v, ok
}

// tryPop is TryPop that also reports whether another consumer took a
// position under it on the way (see yieldIfContended).
func (r *Ring[T]) tryPop() (v T, ok, contended bool) {
	var zero T
	for {
		pos := r.head.Load()
		s := &r.slots[pos&r.mask]
		seq := s.seq.Load()
		switch dif := int64(seq) - int64(pos+1); {
		case dif == 0:
			if r.head.CompareAndSwap(pos, pos+1) {
				v = s.val
				s.val = zero
				s.seq.Store(pos + r.mask + 1)
				if r.pushers.Load() > 0 {
					signal(r.notFull)
				}
				return v, true, contended
			}
			contended = true
		case dif < 0:
			return zero, false, contended // empty
		}
	}
}

// yieldIfContended is called after a push or pop that lost a CAS to a
// goroutine on its own side: two producers (or two consumers) were running
// at the same moment. When goroutines outnumber Ps that usually means the
// other side is waiting for a P. Without a yield both producers fill the
// ring together, then both consumers drain it together, each pair bouncing
// one counter's line between cores: in traces of the slow BenchmarkHandoff
// runs at 2 producers on 2 cores (70-90 ns per item), same-side pairs held
// both Ps 58% of the time. Yielding hands the P to whoever waits; with
// nobody waiting Gosched returns at once. Only a contended operation pays,
// after its item is handed over.
func yieldIfContended(contended bool) {
	if contended {
		runtime.Gosched()
	}
}

// Waiting for the other side, a producer (ring full) or consumer (ring
// empty) backs off once, then yields a few times, then parks.
//
// The back-off is for the two sides running on different cores. A consumer
// that retries at once chases the producer slot by slot: each read pulls
// in the line the producer is about to write, each write of its own sends
// it back, and every item costs round trips between cores. Waiting a
// microsecond or two lets the producer get a few hundred items ahead, and
// the consumer then takes them from lines the producer is done with (the
// same for a producer behind the consumers of a full ring). When the other
// side is not running (it waits for a P, or the OS has its thread off the
// CPU) the wait only delays the yield that would let it run, so a short
// probe that sees the other side's counter stand still ends it.
const (
	backoffTurns = 4096 // loop turns, about 1.5 µs at 2.5 GHz
	probeTurns   = 256  // a running side moves its counter every few ns
	yields       = 4
)

// backoff spins for backoffTurns turns reading closed, which nobody writes
// while the ring is open, so it moves no line the other side is using.
// other, the other side's counter, is read at the start and after
// probeTurns; if it has not moved, backoff returns. It also returns when
// the ring is closed.
func (r *Ring[T]) backoff(other *atomic.Uint64) {
	start := other.Load()
	for i := 0; i < backoffTurns && !r.closed.Load(); i++ {
		if i == probeTurns && other.Load() == start {
			return
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
		if ok, contended := r.tryPush(v); ok {
			yieldIfContended(contended)
			return nil
		}
		switch {
		case spin == 0:
			r.backoff(&r.head)
			continue
		case spin <= yields:
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
// and drained. The wait is counted from the end of the back-off, a
// microsecond or two after the call.
func (r *Ring[T]) Pop(ctx context.Context, wait time.Duration) (T, bool) {
	var zero T
	var deadline time.Time
	for spin := 0; ; spin++ {
		if v, ok, contended := r.tryPop(); ok {
			yieldIfContended(contended)
			return v, true
		}
		if spin == 0 {
			r.backoff(&r.tail)
			continue
		}
		if r.closed.Load() {
			return zero, false
		}
		if spin == 1 {
			// The clock is read only when the back-off was not enough.
			deadline = time.Now().Add(wait)
		}
		if spin <= yields {
			runtime.Gosched()
			continue
		}
		left := time.Until(deadline)
		if left <= 0 {
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
