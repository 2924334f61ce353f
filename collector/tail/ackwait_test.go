package tail

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitCounter counts what the tailer tells an ackWaiter sink.
type waitCounter struct{ starts, ends atomic.Int64 }

func (w *waitCounter) AckWait()     { w.starts.Add(1) }
func (w *waitCounter) AckWaitDone() { w.ends.Add(1) }

// A file with more to read than its window of unacknowledged batches
// lets it hand over tells the sink while it waits, and again each time.
func TestFileBehindTellsTheSinkItWaits(t *testing.T) {
	e := newEnv(t)
	w := &waitCounter{}
	e.tune = func(t *Tailer) { t.waiter = w }
	e.sink.hold = true
	big := e.path("big", "ns")
	e.write(big, numbered(strings.Repeat("b", 200), 0, 500)...) // ~120 batches of 1 KiB
	e.start()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		e.sink.mu.Lock()
		defer e.sink.mu.Unlock()
		require.Len(c, e.sink.held, maxInFlight)
	}, 5*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return w.starts.Load() == 1 }, 5*time.Second, time.Millisecond,
		"the file waits for its window with a full batch")
	require.Zero(t, w.ends.Load())

	e.sink.release()
	require.Eventually(t, func() bool { return len(e.sink.lines()) == 500 }, 10*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return w.ends.Load() == w.starts.Load() }, 5*time.Second, time.Millisecond)
}

// A file being written as it is read hands over small batches, cut at
// its end; one that waits for acks of those does not tell the sink: it
// has nothing more to read that the wait holds up, and its outputs keep
// to bulk.flush_interval.
func TestFileAtItsEndDoesNotTellTheSinkItWaits(t *testing.T) {
	e := newEnv(t)
	w := &waitCounter{}
	e.tune = func(t *Tailer) { t.waiter = w }
	e.sink.hold = true
	p := e.path("live", "ns")
	e.write(p, criLine("stdout", "F", "line 0"))
	e.start()
	for i := range maxInFlight + 1 {
		if i > 0 {
			e.write(p, criLine("stdout", "F", fmt.Sprintf("line %d", i)))
		}
		if i < maxInFlight {
			require.Eventually(t, func() bool { return len(e.sink.lines()) == i+1 }, 5*time.Second, time.Millisecond)
		}
	}
	// The last line is read and its batch waits for the window.
	require.Eventually(t, func() bool { return e.tailer.Stats().Lines.Load() == maxInFlight+1 }, 5*time.Second, time.Millisecond)
	require.Len(t, e.sink.lines(), maxInFlight)
	e.sink.release()
	require.Eventually(t, func() bool { return len(e.sink.lines()) == maxInFlight+1 }, 5*time.Second, time.Millisecond)
	require.Zero(t, w.starts.Load(), "a batch cut at the file's end is not a backlog")
}
