package tail

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/fairshare"
)

// writer appends CRI lines to one file through one descriptor, as a
// container runtime does, and keeps its own account of where each line
// starts and how much it wrote.
type writer struct {
	t     *testing.T
	f     *os.File
	size  int64
	start map[string]int64 // message -> offset of its line
	lines []string         // messages in order
}

func newWriter(t *testing.T, path string) *writer {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return &writer{t: t, f: f, start: map[string]int64{}}
}

func (w *writer) write(ts string, msgs ...string) {
	var b strings.Builder
	for _, m := range msgs {
		w.start[m] = w.size + int64(b.Len())
		w.lines = append(w.lines, m)
		fmt.Fprintf(&b, "%s stdout F %s\n", ts, m)
	}
	n, err := w.f.WriteString(b.String())
	require.NoError(w.t, err)
	w.size += int64(n)
}

// writeRaw appends s as it is, in one write.
func (w *writer) writeRaw(s string) {
	n, err := w.f.WriteString(s)
	require.NoError(w.t, err)
	w.size += int64(n)
}

// end is where the line of message m ends (past its newline).
func (w *writer) end(m string) int64 {
	for i, l := range w.lines {
		if l == m {
			if i+1 < len(w.lines) {
				return w.start[w.lines[i+1]]
			}
			return w.size
		}
	}
	w.t.Fatalf("no line %q written", m)
	return 0
}

func padMsgs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s %05d %0100d", prefix, i, 0)
	}
	return out
}

// splitSummaries returns the file's lines and its summary records apart.
func splitSummaries(lines []string) (real, summaries []string) {
	for _, l := range lines {
		if strings.HasPrefix(l, "sluice fair_share") {
			summaries = append(summaries, l)
		} else {
			real = append(real, l)
		}
	}
	return real, summaries
}

// The kubelet deletes a file whose reader waits for fair_share behind
// max_lag (drop_oldest): the reader lets it go, and the bytes it left
// unread, by the writer's own count, are what
// sluice_rotated_unread_bytes_total{namespace} and the file's ledger
// show; a summary record says so too.
func TestMaxLagLetsADeletedFileGoAndCountsItsUnreadBytes(t *testing.T) {
	e := newEnv(t)
	sched := fairshare.New(2048) // two 1 KiB batches in flight
	e.tune = func(t *Tailer) {
		t.ShareFairly(sched, fairshare.Policy{By: "namespace", MaxLagBytes: 64 << 10, DropOldest: true})
	}
	e.sink.hold = true
	p := e.path("spam-1", "noisy")
	w := newWriter(t, p)
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	w.write(ts, padMsgs("before", 100)...) // 12 KiB: within max_lag
	e.start()
	require.Eventually(t, func() bool { return sched.Stats().Waiting.Load() == 1 }, 10*time.Second, time.Millisecond)

	// Rotated while its reader waits; the runtime writes on through its
	// descriptor until it reopens, and the kubelet deletes the file. The
	// file goes past max_lag only with the last byte, written after the
	// deletion: one byte, so that the size the reader finds when it looks
	// (every poll_interval) is the writer's final count. With the writes
	// after the deletion it could look in the middle of one and count
	// fewer bytes than were written (failed 3 in 150 runs under load).
	handedEnd := w.end(e.sink.lines()[len(e.sink.lines())-1])
	require.NoError(t, os.Rename(p, p+".1"))
	const maxLag = 64 << 10
	n := (maxLag - 1 - int(w.size-handedEnd)) / 154 // whole lines short of max_lag
	w.write(ts, padMsgs("after", n)...)
	w.writeRaw(strings.Repeat("x", maxLag-int(w.size-handedEnd))) // exactly max_lag behind: not over it
	require.NoError(t, os.Remove(p+".1"))
	w.writeRaw("\n")
	// The reader counts the file let go of, then hands over its summary
	// record: wait for both.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(1), e.tailer.Stats().LetGo.Load())
		_, summaries := splitSummaries(e.sink.lines())
		require.NotEmpty(c, summaries)
	}, 10*time.Second, time.Millisecond)

	real, summaries := splitSummaries(e.sink.lines())
	require.NotEmpty(t, real)
	unread := w.size - w.end(real[len(real)-1])
	require.Positive(t, unread)
	require.Equal(t, map[string]int64{"noisy": unread}, e.tailer.RotatedUnread(), "exactly the bytes the writer wrote and nobody read")
	require.Equal(t, []string{"sluice fair_share let go of this file: it was deleted with " + strconv.FormatInt(unread, 10) +
		" bytes unread while more than max_lag 65536 bytes behind (on_max_lag: drop_oldest)"}, summaries)
	require.Equal(t, padMsgs("before", len(real)), real, "what was handed over, once, in order")
	require.Zero(t, e.tailer.Stats().SkippedRecords.Load(), "nothing skipped: the file was let go of")

	e.sink.release()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ls := ledger(e.tailer)
		require.Len(c, ls, 1)
		l := ls[0]
		require.Equal(c, "released", l.State)
		require.Equal(c, unread, l.RotatedUnread)
		require.Equal(c, w.size, l.Size)
		require.GreaterOrEqual(c, l.Read, w.size-unread, "read past what it handed over: the batch that waited")
		require.Equal(c, w.size-unread, l.Acked, "delivered up to the last line handed over")
		require.Zero(c, e.store.Len(), "its checkpoint goes once all of it is acknowledged")
	}, 10*time.Second, time.Millisecond)
	require.Zero(t, sched.Stats().InFlight.Load(), "every admitted byte given back")
}

// A live file more than max_lag bytes behind skips ahead: the skipped
// records are counted and acknowledged unsent, a summary record says how
// many, and the last max_lag bytes arrive once, in order.
func TestMaxLagBytesSkipsAhead(t *testing.T) {
	e := newEnv(t)
	sched := fairshare.New(64 << 10)
	e.tune = func(t *Tailer) {
		t.ShareFairly(sched, fairshare.Policy{By: "namespace", MaxLagBytes: 8 << 10, DropOldest: true})
	}
	p := e.path("spam-1", "noisy")
	w := newWriter(t, p)
	all := padMsgs("line", 1000) // ~120 KiB
	w.write(time.Now().UTC().Format(time.RFC3339Nano), all...)
	e.start()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		real, _ := splitSummaries(e.sink.lines())
		require.NotEmpty(c, real)
		require.Equal(c, all[len(all)-1], real[len(real)-1])
	}, 10*time.Second, time.Millisecond)
	e.quiet()
	real, summaries := splitSummaries(e.sink.lines())
	st := e.tailer.Stats()
	first := len(all) - len(real)
	require.Equal(t, all[first:], real, "the newest lines, once, in order")
	require.LessOrEqual(t, w.size-w.start[real[0]], int64(8<<10)+1024, "within max_lag and a batch")
	require.Equal(t, int64(first), st.SkippedRecords.Load())
	require.Equal(t, w.start[real[0]], st.SkippedBytes.Load(), "every byte before the first line sent")
	require.NotEmpty(t, summaries)
	var sum int64
	re := regexp.MustCompile(`^sluice fair_share skipped (\d+) records \((\d+) bytes\) of this file: it was more than max_lag 8192 bytes behind \(on_max_lag: drop_oldest\)$`)
	for _, s := range summaries {
		m := re.FindStringSubmatch(s)
		require.NotNil(t, m, s)
		n, _ := strconv.ParseInt(m[1], 10, 64)
		sum += n
	}
	require.Equal(t, int64(first), sum, "the summaries account for every skipped record")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		cp, ok := e.checkpointOf(p)
		require.True(c, ok)
		require.Equal(c, w.size, cp.Offset, "skipped and sent alike are acknowledged")
	}, 10*time.Second, time.Millisecond)
	require.Empty(t, e.tailer.RotatedUnread(), "nothing left a file unread")
}

// max_lag in time skips lines older than it, by their own timestamps.
func TestMaxLagTimeSkipsOldLines(t *testing.T) {
	e := newEnv(t)
	e.tune = func(t *Tailer) {
		t.ShareFairly(fairshare.New(64<<10), fairshare.Policy{By: "namespace", MaxLagTime: time.Minute, DropOldest: true})
	}
	p := e.path("spam-1", "noisy")
	w := newWriter(t, p)
	w.write(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano), padMsgs("old", 100)...)
	e.start()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(100), e.tailer.Stats().SkippedRecords.Load())
	}, 10*time.Second, time.Millisecond)
	w.write(time.Now().UTC().Format(time.RFC3339Nano), padMsgs("new", 20)...)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		real, _ := splitSummaries(e.sink.lines())
		require.Equal(c, padMsgs("new", 20), real)
	}, 10*time.Second, time.Millisecond)
	_, summaries := splitSummaries(e.sink.lines())
	require.NotEmpty(t, summaries)
	require.Contains(t, summaries[0], "more than max_lag 1m0s behind")
}
