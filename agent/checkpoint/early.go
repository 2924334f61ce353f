package checkpoint

import (
	"context"
	"time"
)

// A checkpoint saved every interval (1s by default) lets a SIGKILL cost up
// to an interval of re-reading at the highest rate the agent reaches, which
// is its catch-up rate after a restart or an outage: 1s of a backlog
// drained at 50 MiB/s is 50 MiB read, sent and answered 409 again. So a
// burst of acknowledgements saves early, once earlyBytes are acknowledged
// and unsaved, at most every earlyEvery: a quiet agent writes the file no
// more often than before, a busy one at most 10 times a second.
const (
	earlyBytes = 1 << 20
	earlyEvery = 100 * time.Millisecond
)

// earlySave counts the acknowledged bytes not yet saved. Its fields are
// guarded by the Store's mutex; due is how Run hears of them.
type earlySave struct {
	unsaved int64
	due     chan struct{}
}

func newEarlySave() earlySave { return earlySave{due: make(chan struct{}, 1)} }

// add counts progress of one file (in one generation); caller holds mu.
func (e *earlySave) add(n int64) {
	if n <= 0 {
		return
	}
	e.unsaved += n
	if e.unsaved >= earlyBytes {
		select {
		case e.due <- struct{}{}:
		default:
		}
	}
}

// reset: everything is being saved; caller holds mu.
func (e *earlySave) reset() { e.unsaved = 0 }

// pace waits until earlyEvery has passed since the last save; false when
// ctx ended first.
func (e *earlySave) pace(ctx context.Context, last time.Time) bool {
	wait := earlyEvery - time.Since(last)
	if wait <= 0 {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
