package tail

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ledger(tl *Tailer) []FileLedger {
	var out []FileLedger
	tl.Ledger(func(l FileLedger) { out = append(out, l) })
	return out
}

// A file rotated away and deleted stays in the ledger once let go of,
// read to its end and every byte acknowledged: the proof that nothing of
// it was lost. The live file that took its name is read on.
func TestLedgerShowsARotatedFileDelivered(t *testing.T) {
	e := newEnv(t)
	p := e.path("api-1", "payments")
	e.write(p, numbered("old", 0, 300)...)
	old := bytesOf(numbered("old", 0, 300))
	e.start()
	e.waitLines(300)
	require.NoError(t, os.Rename(p, p+".1"))
	e.write(p, numbered("new", 0, 20)...)
	require.NoError(t, os.Remove(p+".1"))
	e.waitLines(320)

	var rel, live FileLedger
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ls := ledger(e.tailer)
		require.Len(c, ls, 2)
		live, rel = ls[0], ls[1]
		require.Equal(c, "released", rel.State)
		require.Equal(c, "reading", live.State)
		require.Equal(c, rel.Read, rel.Acked, "every byte read is acknowledged")
	}, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, FileLedger{
		Path: p, Namespace: "payments", Pod: "api-1", Container: "app", State: "released",
		Size: old, Read: old, Acked: old, LastAck: rel.LastAck, Released: rel.Released,
	}, rel)
	require.WithinDuration(t, time.Now(), rel.LastAck, time.Minute)
	require.False(t, rel.Released.IsZero())
	require.Equal(t, bytesOf(numbered("new", 0, 20)), live.Size)
	require.Equal(t, live.Size, live.Read)
	require.Zero(t, live.RotatedUnread)
}

// A generation truncated away unread with no copy is counted against its
// file and its namespace.
func TestLedgerCountsATruncationsUnreadBytes(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	a, b, c := padded("a", 0, 400), padded("b", 0, 120), padded("c", 0, 30)
	e.write(p, a...)
	e.sink.hold = true
	e.start()
	e.behind()
	copyTo(t, p, p+".1")
	require.NoError(t, os.Truncate(p, 0))
	e.write(p, b...)
	e.noted(1)
	require.NoError(t, os.Truncate(p, 0)) // no copy of b
	e.write(p, c...)
	e.noted(2)
	e.sink.release()
	e.delivered(p, 2, bytesOf(c))

	lost := e.tailer.Stats().UnreadLost.Load()
	require.Positive(t, lost)
	require.Equal(t, map[string]int64{"ns": lost}, e.tailer.RotatedUnread())
	ls := ledger(e.tailer)
	require.Len(t, ls, 1)
	require.Equal(t, lost, ls[0].RotatedUnread)
	require.Equal(t, uint64(2), ls[0].Generation)
	require.Equal(t, uint64(2), ls[0].AckedGeneration)
	require.Equal(t, bytesOf(c), ls[0].Acked)
}
