package elasticsearch

import (
	"sync/atomic"
	"time"
)

// throttle lets through one log line per interval and counts the lines it
// held back, for the "suppressed" key of the next one it lets through.
type throttle struct {
	every      time.Duration
	next       atomic.Int64 // Unix ns before which lines are held back
	suppressed atomic.Int64
}

func (t *throttle) allow() (ok bool, suppressed int64) {
	now := time.Now().UnixNano()
	next := t.next.Load()
	if now < next || !t.next.CompareAndSwap(next, now+int64(t.every)) {
		t.suppressed.Add(1)
		return false, 0
	}
	return true, t.suppressed.Swap(0)
}
