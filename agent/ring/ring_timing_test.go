package ring

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// The handoff against the two obvious alternatives, a buffered channel and
// a mutex-guarded slice queue, at 1, 2 and 8 producers and 2 consumers.
//
//	go test -run '^$' -bench 'BenchmarkHandoff' -count 6 -benchmem ./agent/ring/ | tee handoff.txt
func BenchmarkHandoff(b *testing.B) {
	for _, producers := range []int{1, 2, 8} {
		b.Run(fmt.Sprintf("ring/producers=%d", producers), func(b *testing.B) {
			r := New[*int](1024)
			runHandoff(b, producers,
				func(v *int) { _ = r.Push(context.Background(), v) },
				func() bool {
					// A timed-out wait is not the end; the closed, empty ring is.
					for {
						if _, ok := r.Pop(context.Background(), 10*time.Millisecond); ok {
							return true
						}
						if r.closed.Load() && r.Len() == 0 {
							return false
						}
					}
				},
				r.Close)
		})
		b.Run(fmt.Sprintf("chan/producers=%d", producers), func(b *testing.B) {
			c := make(chan *int, 1024)
			runHandoff(b, producers,
				func(v *int) { c <- v },
				func() bool { _, ok := <-c; return ok },
				func() { close(c) })
		})
		b.Run(fmt.Sprintf("mutex/producers=%d", producers), func(b *testing.B) {
			q := newMutexQueue(1024)
			runHandoff(b, producers, q.push, q.pop, q.close)
		})
	}
}

func runHandoff(b *testing.B, producers int, push func(*int), pop func() bool, closeFn func()) {
	b.ReportAllocs()
	const consumers = 2
	v := new(int)
	n := b.N
	var cw sync.WaitGroup
	for range consumers {
		cw.Add(1)
		go func() {
			defer cw.Done()
			for pop() {
			}
		}()
	}
	b.ResetTimer()
	var pw sync.WaitGroup
	for p := range producers {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for i := p; i < n; i += producers {
				push(v)
			}
		}()
	}
	pw.Wait()
	closeFn()
	cw.Wait()
}

// mutexQueue is the baseline: a slice ring under a mutex with two conds,
// like a classic bounded blocking queue.
type mutexQueue struct {
	mu       sync.Mutex
	notEmpty *sync.Cond
	notFull  *sync.Cond
	buf      []*int
	head, n  int
	closed   bool
}

func newMutexQueue(size int) *mutexQueue {
	q := &mutexQueue{buf: make([]*int, size)}
	q.notEmpty = sync.NewCond(&q.mu)
	q.notFull = sync.NewCond(&q.mu)
	return q
}

func (q *mutexQueue) push(v *int) {
	q.mu.Lock()
	for q.n == len(q.buf) {
		q.notFull.Wait()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = v
	q.n++
	q.notEmpty.Signal()
	q.mu.Unlock()
}

func (q *mutexQueue) pop() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.n == 0 {
		if q.closed {
			return false
		}
		q.notEmpty.Wait()
	}
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	q.notFull.Signal()
	return true
}

func (q *mutexQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.notEmpty.Broadcast()
	q.mu.Unlock()
}
