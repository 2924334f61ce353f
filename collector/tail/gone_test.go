package tail

import (
	"os"
	"testing"
	"time"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A file deleted while the agent was down: its checkpoint kept the file's
// size, so at the next start the bytes between the checkpoint and that
// size are counted rotated away unread (a lower bound: here the writer
// wrote nothing after it, so exactly them), under the file's namespace;
// a file still there counts nothing.
func TestGoneWhileDownCountsUnreadBytes(t *testing.T) {
	e := newEnv(t)
	gone, kept := e.path("api-1", "shop"), e.path("web-1", "front")
	lines := padded("gone", 0, 200)
	e.write(gone, lines...)
	e.write(kept, criLine("stdout", "F", "kept"))
	written := int64(0)
	for _, l := range lines {
		written += int64(len(l)) + 1
	}
	e.sink.hold = true
	e.start()
	e.behind()

	// The first batch is acknowledged; the rest are read and in flight
	// when the agent stops.
	e.sink.mu.Lock()
	var first *record.Batch
	for _, b := range e.sink.held {
		if b.Source.Pod == "api-1" && b.Seq == 0 {
			first = b
		}
	}
	e.sink.mu.Unlock()
	require.NotNil(t, first)
	acked := first.End
	first.Done()
	cp, ok := e.checkpointOf(gone)
	require.True(t, ok)
	require.Equal(t, acked, cp.Offset)
	require.Equal(t, written, cp.Size, "the checkpoint keeps the file's size")
	require.Less(t, cp.Offset, cp.Size)
	e.stop()

	require.NoError(t, os.Remove(gone))
	e.sink = &sink{}
	e.tune = func(t *Tailer) { t.pruneEvery = 0 }
	e.start()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, map[string]int64{"shop": written - acked}, e.tailer.RotatedUnread())
	}, 10*time.Second, 5*time.Millisecond)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		_, ok := e.checkpointOf(kept)
		require.True(c, ok)
	}, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, map[string]int64{"shop": written - acked}, e.tailer.RotatedUnread(), "counted once")
}
