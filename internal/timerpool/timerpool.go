// Package timerpool recycles the timers of short waits on the hot path
// (a source waiting for memory_limit, a worker for a batch, a file for its
// acks). time.NewTimer allocates each time; on the tail workload at a small
// memory_limit these waits were an eighth of the objects the agent
// allocated (bench/RESULTS.md).
package timerpool

import (
	"sync"
	"time"
)

var pool = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

// Get returns a timer that fires after d.
func Get(d time.Duration) *time.Timer {
	t := pool.Get().(*time.Timer)
	t.Reset(d)
	return t
}

// Put stops t and recycles it. Since Go 1.23 a stopped timer's channel
// holds no stale tick, so the next Get's wait starts clean.
func Put(t *time.Timer) {
	t.Stop()
	pool.Put(t)
}
