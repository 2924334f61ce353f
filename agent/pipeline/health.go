package pipeline

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// StallAfter is how long workers may go without a turn of their loop,
// while batches wait in the ring and they are not waiting on an output,
// before Health reports the pipeline stuck.
const StallAfter = 30 * time.Second

const (
	stateIdle    int32 = iota // Run not called yet
	stateRunning              // in its loop
	stateStopped              // returned after the pipeline was stopped
	stateDied                 // returned on its own: an output write failed, or a bug
)

// workerState is what a worker tells Health. It is written once per batch
// (or per idle tick), never per record.
type workerState struct {
	beat     atomic.Int64 // Unix nanos of the worker's last loop turn
	inOutput atomic.Bool  // inside Write or Flush of an output, which may block
	state    atomic.Int32

	mu  sync.Mutex
	err error // why it died
}

// exited records how a worker ended: one that returns before ctx ends
// died (its output failed it, or a bug did).
func (st *workerState) exited(ctx context.Context, err error) {
	if ctx.Err() != nil {
		st.state.Store(stateStopped)
		return
	}
	st.mu.Lock()
	st.err = err
	st.mu.Unlock()
	st.state.Store(stateDied)
}

// Health reports an error when a worker goroutine has died, or when
// batches are waiting in the ring and a worker that is not blocked on an
// output has not turned its loop for StallAfter. A worker blocked on a
// slow or unreachable output is alive: restarting the agent would not
// make the output faster.
func (p *Pipeline) Health() error { return p.health(time.Now(), StallAfter) }

func (p *Pipeline) health(now time.Time, stallAfter time.Duration) error {
	queued := p.ring.Len() > 0
	for i := range p.states {
		st := &p.states[i]
		switch st.state.Load() {
		case stateDied:
			st.mu.Lock()
			err := st.err
			st.mu.Unlock()
			if err == nil {
				return fmt.Errorf("pipeline worker %d stopped", i)
			}
			return fmt.Errorf("pipeline worker %d stopped: %w", i, err)
		case stateRunning:
			if !queued || st.inOutput.Load() {
				continue
			}
			if idle := now.Sub(time.Unix(0, st.beat.Load())); idle > stallAfter {
				return fmt.Errorf("pipeline worker %d made no progress for %s with %d batches queued", i, idle.Round(time.Second), p.ring.Len())
			}
		}
	}
	return nil
}
