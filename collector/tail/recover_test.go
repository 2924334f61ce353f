package tail

import (
	"compress/gzip"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// padded are numbered CRI lines long enough that a few fill a batch, so a
// held sink stops the reader (maxInFlight batches) well before the end.
func padded(prefix string, from, to int) []string {
	var out []string
	for _, m := range paddedMsgs(prefix, from, to) {
		out = append(out, criLine("stdout", "F", m))
	}
	return out
}

func paddedMsgs(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s %04d %s", prefix, i, strings.Repeat("x", 90)))
	}
	return out
}

// behind holds the sink until the reader of a file is stopped by
// maxInFlight unacknowledged batches, far from the file's end.
func (e *env) behind() {
	e.t.Helper()
	require.EventuallyWithT(e.t, func(c *assert.CollectT) {
		e.sink.mu.Lock()
		defer e.sink.mu.Unlock()
		require.GreaterOrEqual(c, len(e.sink.held), maxInFlight)
	}, 10*time.Second, 5*time.Millisecond)
}

func copyTo(t *testing.T, src, dst string) {
	t.Helper()
	raw, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dst, raw, 0o644))
}

// gzipTo compresses src into dst and removes src, as logrotate's compress.
func gzipTo(t *testing.T, src, dst string) {
	t.Helper()
	raw, err := os.ReadFile(src)
	require.NoError(t, err)
	out, err := os.Create(dst)
	require.NoError(t, err)
	zw := gzip.NewWriter(out)
	_, err = zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, out.Close())
	require.NoError(t, os.Remove(src))
}

// requireOnce checks that the sink got want, each exactly once, in order
// per prefix, and that every record of prefix old came in generation 0 at
// the offset it had in the original file.
func (e *env) requireOnce(want []string, old string, offsets map[string]int64) {
	e.t.Helper()
	require.EventuallyWithT(e.t, func(c *assert.CollectT) {
		require.GreaterOrEqual(c, len(e.sink.lines()), len(want))
	}, 10*time.Second, 5*time.Millisecond)
	e.quiet()
	got := e.sink.snapshot()
	var lines []string
	for _, g := range got {
		lines = append(lines, g.Line)
		if strings.HasPrefix(g.Line, old+" ") {
			require.Equal(e.t, uint64(0), g.Gen, "%q: read in the original generation", g.Line)
			require.Equal(e.t, offsets[g.Line], g.Offset, "%q: at its original offset", g.Line)
		} else {
			require.Equal(e.t, uint64(1), g.Gen, "%q: read after the truncation", g.Line)
		}
	}
	require.ElementsMatch(e.t, want, lines)
}

// offsetsOf maps each message to the offset of its line in a file of lines.
func offsetsOf(lines []string, msgs []string) map[string]int64 {
	out := map[string]int64{}
	var off int64
	for i, l := range lines {
		out[msgs[i]] = off
		off += int64(len(l)) + 1
	}
	return out
}

func bytesOf(lines []string) int64 {
	var n int64
	for _, l := range lines {
		n += int64(len(l)) + 1
	}
	return n
}

// The lines a copytruncate took from under a reader that was behind are
// read from the copy, in the original generation with the original
// offsets (so their ids are the ones a replay would give), then the
// truncated file from its start; plain, compressed and rotated on.
func TestCopytruncateWhileBehindReadsTheCopy(t *testing.T) {
	for name, keep := range map[string]func(t *testing.T, p string){
		"plain copy": func(t *testing.T, p string) { copyTo(t, p, p+".1") },
		"compressed at once": func(t *testing.T, p string) {
			copyTo(t, p, p+".1")
			gzipTo(t, p+".1", p+".1.gz")
		},
		"rotated on and compressed": func(t *testing.T, p string) {
			copyTo(t, p, p+".1")
			require.NoError(t, os.Rename(p+".1", p+".2"))
			gzipTo(t, p+".2", p+".2.gz")
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			p := e.path("p", "ns")
			old := padded("old", 0, 400)
			e.write(p, old...)
			e.sink.hold = true
			e.start()
			e.behind()
			read := e.sink.lines()
			require.Less(t, len(read), 300, "the reader is behind")

			keep(t, p)
			require.NoError(t, os.Truncate(p, 0))
			e.write(p, padded("new", 0, 50)...)
			e.sink.release()

			want := append(paddedMsgs("old", 0, 400), paddedMsgs("new", 0, 50)...)
			e.requireOnce(want, "old", offsetsOf(old, paddedMsgs("old", 0, 400)))
			st := e.tailer.Stats()
			require.Equal(t, int64(0), st.UnreadLost.Load())
			// The reader had read a little more than it handed over.
			require.Positive(t, st.UnreadRecovered.Load())
			require.LessOrEqual(t, st.UnreadRecovered.Load(), bytesOf(old[len(read):]), "recovered: at most what was not handed over")
		})
	}
}

// A writer that refills the truncated file past the reader's offset
// before it reads on: the next read would return the new content's bytes
// as if they continued the old; the head tells, and the copy is read.
func TestCopytruncateRefilledWhileBehind(t *testing.T) {
	for _, zip := range []bool{false, true} {
		t.Run(fmt.Sprintf("compressed=%v", zip), func(t *testing.T) {
			e := newEnv(t)
			p := e.path("p", "ns")
			old := padded("old", 0, 400)
			e.write(p, old...)
			e.sink.hold = true
			e.start()
			e.behind()

			copyTo(t, p, p+".1")
			if zip {
				gzipTo(t, p+".1", p+".1.gz")
			}
			require.NoError(t, os.Truncate(p, 0))
			e.write(p, padded("new", 0, 500)...) // longer than the old file
			e.sink.release()

			want := append(paddedMsgs("old", 0, 400), paddedMsgs("new", 0, 500)...)
			e.requireOnce(want, "old", offsetsOf(old, paddedMsgs("old", 0, 400)))
			require.Equal(t, int64(0), e.tailer.Stats().UnreadLost.Load())
		})
	}
}

// Without a copy the unread lines are gone; what the reader knew was
// there is counted lost, and the new content is read from its start.
func TestCopytruncateWithoutCopyCountsLost(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	old := padded("old", 0, 400)
	e.write(p, old...)
	e.sink.hold = true
	e.start()
	e.behind()

	require.NoError(t, os.Truncate(p, 0))
	e.write(p, padded("new", 0, 20)...)
	e.sink.release()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, paddedMsgs("new", 0, 20), filter(e.sink.lines(), "new "))
	}, 10*time.Second, 5*time.Millisecond)
	got := filter(e.sink.lines(), "old ")
	require.Equal(t, paddedMsgs("old", 0, len(got)), got, "what was read before the truncate, once")
	st := e.tailer.Stats()
	require.Equal(t, bytesOf(old[len(got):]), st.UnreadLost.Load(), "lost: what was not read")
	require.Equal(t, int64(0), st.UnreadRecovered.Load())
}

// A reader that had read everything before the copytruncate ignores the
// copy; and a copy read once is not read again at the next truncation.
func TestCopyNotReadTwice(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	e.write(p, padded("a", 0, 10)...)
	e.start()
	e.waitLines(10)
	copyTo(t, p, p+".1")
	require.NoError(t, os.Truncate(p, 0))
	e.write(p, padded("b", 0, 11)...) // not the old size: a refill to the same size is seen only by the next write
	e.waitLines(21)

	// Behind on b: recovered from b's copy, once.
	e.sink.hold = true
	b := padded("b", 11, 400)
	e.write(p, b...)
	e.behind()
	require.NoError(t, os.Rename(p+".1", p+".2")) // a's copy moves on
	copyTo(t, p, p+".1")
	require.NoError(t, os.Truncate(p, 0))
	e.write(p, padded("c", 0, 10)...)
	e.sink.release()
	e.waitLines(10 + 400 + 10)

	// Caught up on c: its copy holds nothing unread.
	copyTo(t, p, p+".3")
	require.NoError(t, os.Truncate(p, 0))
	e.write(p, padded("d", 0, 12)...)
	e.waitLines(432)
	got := e.sink.lines()
	for _, pre := range []string{"a", "b", "c", "d"} {
		n := map[string]int{"a": 10, "b": 400, "c": 10, "d": 12}[pre]
		require.Equal(t, paddedMsgs(pre, 0, n), filter(got, pre+" "), pre)
	}
	require.Equal(t, int64(0), e.tailer.Stats().UnreadLost.Load())
	require.Equal(t, int64(3), e.tailer.Stats().Truncations.Load())
}

// A copytruncate while the agent was down, before it had delivered the
// file: the restart reads the rest of the checkpoint's generation from
// the copy, then the new content.
func TestCopytruncateWhileDownReadsTheCopy(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	first := padded("old", 0, 50)
	e.write(p, first...)
	e.start()
	e.waitLines(50)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		cp, ok := e.checkpointOf(p)
		require.True(c, ok)
		require.Equal(c, bytesOf(first), cp.Offset)
	}, 5*time.Second, 5*time.Millisecond)
	e.stop()

	rest := padded("old", 50, 120)
	e.write(p, rest...)
	copyTo(t, p, p+".1")
	gzipTo(t, p+".1", p+".1.gz")
	require.NoError(t, os.Truncate(p, 0))
	e.write(p, padded("new", 0, 300)...) // past the checkpoint: refilled
	e.sink = &sink{}
	e.start()

	all := append(append([]string(nil), first...), rest...)
	want := append(paddedMsgs("old", 50, 120), paddedMsgs("new", 0, 300)...)
	e.requireOnce(want, "old", offsetsOf(all, paddedMsgs("old", 0, 120)))
	require.Equal(t, bytesOf(rest), e.tailer.Stats().UnreadRecovered.Load())
}

// Ids stay those of the original file: the recovered records carry the
// original file's id seed, not the copy's.
func TestRecoveredRecordsKeepTheOriginalSource(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	e.write(p, padded("old", 0, 400)...)
	e.sink.hold = true
	e.start()
	e.behind()
	seed := e.sink.snapshot()[0].Seed
	copyTo(t, p, p+".1")
	require.NoError(t, os.Truncate(p, 0))
	e.sink.release()
	e.waitLines(400)
	for _, g := range e.sink.snapshot() {
		require.Equal(t, seed, g.Seed, "%q", g.Line)
	}
}

// Truncated (copytruncate) and refilled, then renamed away by another
// rotation before the reader, behind, got there: the copy holds the
// unread old lines, the moved file the refill, the new file the rest.
func TestCopytruncateThenRenameWhileBehind(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	old := padded("old", 0, 400)
	e.write(p, old...)
	e.sink.hold = true
	e.start()
	e.behind()

	copyTo(t, p, p+".1")
	require.NoError(t, os.Truncate(p, 0))
	e.write(p, padded("mid", 0, 30)...)
	require.NoError(t, os.Rename(p, p+".2"))
	e.write(p, padded("new", 0, 20)...)
	e.sink.release()

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := e.sink.lines()
		require.Equal(c, paddedMsgs("old", 0, 400), filter(got, "old "))
		require.Equal(c, paddedMsgs("mid", 0, 30), filter(got, "mid "))
		require.Equal(c, paddedMsgs("new", 0, 20), filter(got, "new "))
	}, 10*time.Second, 10*time.Millisecond)
	require.Len(t, e.sink.lines(), 450)
	require.Equal(t, int64(0), e.tailer.Stats().UnreadLost.Load())
}

// The copy is compressed between the reader's listing of the folder and
// its open of the plain copy (gzip removes the plain file once the .gz is
// whole): the folder is listed again and the .gz read (torture test: a
// whole generation lost this way now and then).
func TestCopyCompressedWhileLooked(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	old := padded("old", 0, 400)
	e.write(p, old...)
	e.sink.hold = true
	e.start()
	e.behind()

	copyTo(t, p, p+".1")
	var once sync.Once
	beforeOpenCopy = func(path string) {
		if path == p+".1" {
			once.Do(func() { gzipTo(t, p+".1", p+".1.gz") })
		}
	}
	require.NoError(t, os.Truncate(p, 0))
	e.write(p, padded("new", 0, 50)...)
	e.sink.release()

	want := append(paddedMsgs("old", 0, 400), paddedMsgs("new", 0, 50)...)
	e.requireOnce(want, "old", offsetsOf(old, paddedMsgs("old", 0, 400)))
	require.Equal(t, int64(0), e.tailer.Stats().UnreadLost.Load())
	e.stop()
	beforeOpenCopy = nil
}
