package tail

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openFiles(tl *Tailer) []OpenFile {
	var out []OpenFile
	tl.OpenFiles(func(f OpenFile) { out = append(out, f) })
	return out
}

func TestOpenFilesOffsetsAndLag(t *testing.T) {
	e := newEnv(t)
	e.sink.hold = true // nothing is acknowledged: the reader stops at maxInFlight batches
	p := e.path("api-1", "payments")
	lines := make([]string, 400)
	for i := range lines {
		lines[i] = criLine("stdout", "F", fmt.Sprintf("line %03d %0100d", i, 0))
	}
	e.write(p, lines...)
	fi, err := os.Stat(p)
	require.NoError(t, err)
	size := fi.Size()
	e.start()

	var first OpenFile
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		fs := openFiles(e.tailer)
		require.Len(c, fs, 1)
		first = fs[0]
		require.Positive(c, first.Offset)
		require.Equal(c, int64(-1), first.Acked)
		require.False(c, first.OldestUnacked.IsZero(), "lines read and not acknowledged")
	}, 10*time.Second, 5*time.Millisecond)
	require.WithinDuration(t, time.Now(), first.OldestUnacked, time.Minute)
	e.behind() // the reader waits for acks
	fs := openFiles(e.tailer)
	require.Len(t, fs, 1)
	f := fs[0]
	require.Equal(t, p, f.Path)
	require.Equal(t, size, f.Size)
	require.Less(t, f.Offset, size, "at most %d unacked batches are read ahead", maxInFlight)
	require.Equal(t, size-f.Offset, f.Lag())
	require.Equal(t, int64(-1), f.Acked)
	require.Equal(t, first.OldestUnacked, f.OldestUnacked, "the oldest unacknowledged batch stays the same while nothing is acked")
	require.Equal(t, f.OldestUnacked, e.tailer.OldestUnacked(), "the input's is its oldest file's")

	e.sink.release()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		e.sink.release() // later batches too
		fs := openFiles(e.tailer)
		require.Len(c, fs, 1)
		require.Equal(c, OpenFile{Path: p, Offset: size, Size: size, Acked: size}, fs[0])
	}, 10*time.Second, 5*time.Millisecond)
	require.Zero(t, openFiles(e.tailer)[0].Lag())
	require.True(t, e.tailer.OldestUnacked().IsZero(), "all acknowledged")

	e.stop()
	require.Empty(t, openFiles(e.tailer), "stopped readers are gone")
}

func TestLagNeverNegative(t *testing.T) {
	require.Zero(t, OpenFile{Offset: 10, Size: 4}.Lag(), "truncated under the reader")
}
