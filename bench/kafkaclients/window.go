package main

import (
	"sync"
	"sync/atomic"
)

// window bounds the bytes of records produced and not yet acknowledged,
// as the agent's buffer_bytes does, and counts the answers. Records are
// taken in chunks (the agent's batches); a chunk's bytes come back when
// its last record is answered. It works the same for both clients.
type window struct {
	limit int64

	mu   sync.Mutex
	cond *sync.Cond
	used int64

	acked, failed atomic.Int64
	firstErr      atomic.Pointer[error]
}

func newWindow(limit int64) *window {
	w := &window{limit: limit}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// chunk is the records of one acquire.
type chunk struct {
	w     *window
	bytes int64
	left  atomic.Int32
}

// take waits until n more bytes fit and returns the chunk of count
// records that holds them.
func (w *window) take(n int64, count int) *chunk {
	w.mu.Lock()
	for w.used > 0 && w.used+n > w.limit {
		w.cond.Wait()
	}
	w.used += n
	w.mu.Unlock()
	c := &chunk{w: w, bytes: n}
	c.left.Store(int32(count))
	return c
}

// done answers one record of c.
func (c *chunk) done(err error) {
	w := c.w
	if err != nil {
		w.failed.Add(1)
		w.firstErr.CompareAndSwap(nil, &err)
	} else {
		w.acked.Add(1)
	}
	if c.left.Add(-1) == 0 {
		w.mu.Lock()
		w.used -= c.bytes
		w.mu.Unlock()
		w.cond.Broadcast()
	}
}

// wait blocks until every chunk is answered.
func (w *window) wait() {
	w.mu.Lock()
	for w.used > 0 {
		w.cond.Wait()
	}
	w.mu.Unlock()
}
