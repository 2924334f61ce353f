package tail

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/checkpoint"
	"github.com/sluicelog/sluice/agent/config"
)

func numbered(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, criLine("stdout", "F", fmt.Sprintf("%s %d", prefix, i)))
	}
	return out
}

func msgs(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s %d", prefix, i))
	}
	return out
}

// logrotate style: the file is renamed away (out of the glob), the writer
// still finishes into it, and a new file takes the name.
func TestRenameAndCreate(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	e.write(p, numbered("old", 0, 50)...)
	e.start()
	e.waitLines(50)
	require.NoError(t, os.Rename(p, p+".1"))
	e.write(p, numbered("new", 0, 40)...)
	// The runtime goes on writing to its old descriptor for a moment after
	// the rename and the new file's creation have been seen.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Len(c, filter(e.sink.lines(), "new "), 40, "the new file is read")
	}, 5*time.Second, 5*time.Millisecond)
	e.write(p+".1", numbered("old", 50, 60)...)
	e.waitLines(100)
	got := e.sink.lines()
	require.Equal(t, msgs("old", 0, 60), filter(got, "old "))
	require.Equal(t, msgs("new", 0, 40), filter(got, "new "))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(1), e.tailer.Stats().FilesClosed.Load(), "the rotated file is released once read")
		require.Equal(c, int64(1), e.tailer.Stats().FilesOpen.Load())
		require.Equal(c, 1, e.store.Len(), "the rotated file's checkpoint is dropped")
	}, 5*time.Second, 5*time.Millisecond)
}

func filter(lines []string, prefix string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// Kubernetes layout: /var/log/containers/*.log are symlinks into
// /var/log/pods; the kubelet rotates the target (0.log -> 0.log.<ts>) and
// the symlink then leads to the new 0.log.
func TestSymlinkTargetRotation(t *testing.T) {
	e := newEnv(t)
	pods := filepath.Join(filepath.Dir(e.dir), "pods", "ns_p_uid", "app")
	// Like /var/log/pods, one of the default allowed_roots.
	e.cfg.AllowedRoots = []string{filepath.Join(filepath.Dir(e.dir), "pods")}
	require.NoError(t, os.MkdirAll(pods, 0o755))
	target := filepath.Join(pods, "0.log")
	link := e.path("p", "ns")
	e.write(target, numbered("a", 0, 20)...)
	require.NoError(t, os.Symlink(target, link))
	e.start()
	e.waitLines(20)
	require.NoError(t, os.Rename(target, target+".20261126-010203"))
	e.write(target, numbered("b", 0, 20)...)
	e.waitLines(40)
	recs := e.sink.snapshot()
	require.Equal(t, "ns", recs[39].Namespace, "names come from the symlink's kubelet name")
	require.Equal(t, msgs("b", 0, 20), filter(e.sink.lines(), "b "))
	// The rotated file is then compressed: removed. Nothing more arrives.
	require.NoError(t, os.Remove(target+".20261126-010203"))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(1), e.tailer.Stats().FilesClosed.Load())
	}, 5*time.Second, 5*time.Millisecond)
	require.Len(t, e.sink.lines(), 40)
}

// copytruncate where the writer refills the file past the old size before
// the tailer looks: the size never drops, the fingerprint tells.
func TestCopytruncateRefilledBeyondOldSize(t *testing.T) {
	e := newEnv(t)
	e.cfg.PollInterval = config.Duration(200 * time.Millisecond)
	f := false
	e.cfg.Watch = &f
	p := e.path("p", "ns")
	e.write(p, criLine("stdout", "F", "first"))
	e.start()
	e.waitLines(1)
	// Truncate and write more than before in one go, well inside a poll.
	var long []string
	for i := range 5 {
		long = append(long, criLine("stderr", "F", fmt.Sprintf("after truncate %d", i)))
	}
	require.NoError(t, os.Truncate(p, 0))
	e.write(p, long...)
	e.waitLines(6)
	require.Equal(t, msgs("after truncate", 0, 5), e.sink.lines()[1:])
	require.Equal(t, uint64(1), e.sink.snapshot()[5].Gen)
}

// A new file that got the inode of a deleted one is read from its head,
// in a new generation, even though a checkpoint exists for the inode.
func TestReusedInodeIsANewFile(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	e.write(p, numbered("new", 0, 30)...)
	fi, err := os.Stat(p)
	require.NoError(t, err)
	dev, ino := statIDs(fi)
	// What the previous file on this inode left behind: far along.
	store, err := checkpoint.Open(e.data)
	require.NoError(t, err)
	store.Set(fileKey(e.cfg.Name, dev, ino), checkpoint.Entry{Path: p, Dev: dev, Inode: ino, Fingerprint: "00ff", Offset: 100, Generation: 4})
	require.NoError(t, store.Close())
	e.start()
	e.waitLines(30)
	require.Equal(t, msgs("new", 0, 30), e.sink.lines())
	require.Equal(t, uint64(5), e.sink.snapshot()[0].Gen)
}

// Deleting a file and creating another at once: on most filesystems the
// inode comes back. Either way every line of both files arrives once.
func TestDeleteAndRecreate(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	e.write(p, numbered("one", 0, 25)...)
	e.start()
	e.waitLines(25)
	before, _ := os.Stat(p)
	require.NoError(t, os.Remove(p))
	e.write(p, numbered("two", 0, 25)...)
	after, _ := os.Stat(p)
	_, i1 := statIDs(before)
	_, i2 := statIDs(after)
	t.Logf("inode reused: %v", i1 == i2)
	e.waitLines(50)
	require.Equal(t, msgs("two", 0, 25), filter(e.sink.lines(), "two "))
}

func TestCloseInactiveAndReopen(t *testing.T) {
	e := newEnv(t)
	e.cfg.CloseInactive = config.Duration(50 * time.Millisecond)
	p := e.path("p", "ns")
	e.write(p, numbered("x", 0, 10)...)
	e.start()
	e.waitLines(10)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Zero(c, e.tailer.Stats().FilesOpen.Load(), "an inactive file is closed")
		require.Positive(c, e.tailer.Stats().FilesIdle.Load())
	}, 5*time.Second, 5*time.Millisecond)
	opened := e.tailer.Stats().FilesOpened.Load()
	// Two whole scans after the close: each of them saw the file.
	scans := e.tailer.Stats().Scans.Load()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.GreaterOrEqual(c, e.tailer.Stats().Scans.Load(), scans+2)
	}, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, opened, e.tailer.Stats().FilesOpened.Load(), "an unchanged idle file is not reopened")
	e.write(p, numbered("x", 10, 15)...)
	e.waitLines(15)
	require.Equal(t, msgs("x", 0, 15), e.sink.lines(), "reopened where it stopped")
}

func TestMaxOpenFilesBoundsHandles(t *testing.T) {
	e := newEnv(t)
	e.cfg.MaxOpenFiles = 2
	e.cfg.CloseInactive = config.Duration(30 * time.Millisecond)
	for i := range 6 {
		e.write(e.path(fmt.Sprintf("p%d", i), "ns"), numbered(fmt.Sprintf("f%d", i), 0, 5)...)
	}
	e.start()
	stop := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var m int64
		defer func() { peak <- m }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				if n := e.tailer.Stats().FilesOpen.Load(); n > m {
					m = n
				}
			}
		}
	}()
	e.waitLines(30)
	close(stop)
	require.LessOrEqual(t, <-peak, int64(2))
	require.Positive(t, e.tailer.Stats().OpenDeferred.Load())
}

// A file whose batches are not acknowledged stops at maxInFlight batches
// and does not keep others from being read.
func TestOneStuckFileDoesNotStarveOthers(t *testing.T) {
	e := newEnv(t)
	e.sink.hold = true
	big := e.path("big", "ns")
	e.write(big, numbered(strings.Repeat("b", 200), 0, 500)...) // ~120 batches of 1 KiB
	e.start()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.NotEmpty(c, e.sink.lines())
	}, 5*time.Second, 5*time.Millisecond)
	held := func() int {
		e.sink.mu.Lock()
		defer e.sink.mu.Unlock()
		return len(e.sink.held)
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, maxInFlight, held(), "the big file fills its acks window")
	}, 5*time.Second, 5*time.Millisecond)
	small := e.path("small", "ns")
	e.write(small, criLine("stdout", "F", "small file line"))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Contains(c, e.sink.lines(), "small file line")
	}, 5*time.Second, 5*time.Millisecond)
	// By the time the small file was read, the big one had every chance
	// to send more: it did not, it waits for acks.
	require.Equal(t, maxInFlight+1, held(), "the big file's batches and the small file's one")
	e.sink.release()
	e.sink.mu.Lock()
	e.sink.hold = false
	e.sink.mu.Unlock()
}

func TestInotifyPicksUpFilesBeforeThePoll(t *testing.T) {
	e := newEnv(t)
	e.cfg.PollInterval = config.Duration(time.Minute)
	e.start()
	waitWatched(t, e.dir)
	p := e.path("p", "ns")
	e.write(p, criLine("stdout", "F", "seen via inotify"))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, []string{"seen via inotify"}, e.sink.lines())
	}, 3*time.Second, 5*time.Millisecond)
	e.write(p, criLine("stdout", "F", "and its growth too"))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Len(c, e.sink.lines(), 2)
	}, 3*time.Second, 5*time.Millisecond)
}

func TestPollingWithoutInotify(t *testing.T) {
	e := newEnv(t)
	off := false
	e.cfg.Watch = &off
	e.start()
	p := e.path("p", "ns")
	e.write(p, numbered("poll", 0, 3)...)
	e.waitLines(3)
	require.Equal(t, msgs("poll", 0, 3), e.sink.lines())
}

func TestPruneDropsCheckpointsOfVanishedFiles(t *testing.T) {
	e := newEnv(t)
	store, err := checkpoint.Open(e.data)
	require.NoError(t, err)
	store.Set("containers|1:999999", checkpoint.Entry{Path: filepath.Join(e.dir, "gone.log"), Dev: 1, Inode: 999999, Offset: 10})
	store.Set("other|1:999999", checkpoint.Entry{Path: filepath.Join(e.dir, "gone.log"), Dev: 1, Inode: 999999, Offset: 10})
	require.NoError(t, store.Close())
	p := e.path("p", "ns")
	e.write(p, criLine("stdout", "F", "kept"))
	e.tune = func(t *Tailer) { t.pruneEvery = 0 }
	e.start()
	e.waitLines(1)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		_, ok := e.store.Get("containers|1:999999")
		require.False(c, ok)
	}, 5*time.Second, 5*time.Millisecond)
	_, ok := e.store.Get("other|1:999999")
	require.True(t, ok, "another input's checkpoints are not ours to prune")
	_, ok = e.checkpointOf(p)
	require.True(t, ok)
}

// A file renamed away and then rewritten by a later rotation (copytruncate
// copying the live file over it) holds the live file's lines: they are not
// read again from the old file.
func TestRotatedFileRewrittenIsNotReadAgain(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	e.write(p, numbered("old", 0, 20)...)
	e.start()
	e.waitLines(20)
	require.NoError(t, os.Rename(p, p+".1"))
	e.write(p, numbered("new", 0, 10)...)
	e.waitLines(30)
	// copytruncate of the live file onto p.1, while the old reader still
	// waits out its grace period on p.1.
	live, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p+".1", live, 0o644))
	require.NoError(t, os.Truncate(p, 0))
	e.write(p, numbered("after", 0, 5)...)
	e.waitLines(35)
	require.Equal(t, msgs("new", 0, 10), filter(e.sink.lines(), "new "), "the copy in the rotated file is not shipped again")
	require.Equal(t, msgs("after", 0, 5), filter(e.sink.lines(), "after "))
}

// The same, with the copy written as cp writes onto an existing name: the
// rotated file is truncated in place first, and its reader may look while
// it is empty, when nothing tells whose content comes. It waits for the
// first line: the live file's, so it is not read again (torture test: a
// generation stored twice under different ids).
func TestRotatedFileTruncatedThenRewrittenIsNotReadAgain(t *testing.T) {
	e := newEnv(t)
	e.tune = func(t *Tailer) { t.goneGraceMin = time.Minute } // p.1 stays followed
	p := e.path("p", "ns")
	e.write(p, numbered("old", 0, 20)...)
	e.start()
	e.waitLines(20)
	require.NoError(t, os.Rename(p, p+".1"))
	e.write(p, numbered("new", 0, 10)...)
	e.waitLines(30)

	require.NoError(t, os.Truncate(p+".1", 0))
	// Its reader saw it empty: waits for a first line (or, before,
	// started a new generation at once).
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.True(c, e.awaiting() || e.tailer.Stats().Truncations.Load() > 0)
	}, 10*time.Second, 5*time.Millisecond)
	live, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p+".1", live, 0o644))

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		closed := e.tailer.Stats().FilesClosed.Load() == 1
		require.True(c, closed || len(e.sink.lines()) > 30, "p.1 let go, or read again")
	}, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, msgs("new", 0, 10), filter(e.sink.lines(), "new "), "the copy in the rotated file is not shipped again")
	e.quiet()
	require.Len(t, e.sink.lines(), 30)
}

// awaiting reports whether a reader waits for the first line of a moved
// file it found truncated.
func (e *env) awaiting() bool {
	e.tailer.mu.Lock()
	defer e.tailer.mu.Unlock()
	for _, r := range e.tailer.readers {
		if r.awaiting.Load() {
			return true
		}
	}
	return false
}

// An ack of a batch from before a truncation saves that generation's
// fingerprint with its offset, never the new content's: otherwise a crash
// right then would resume at the old offset inside the new content.
func TestOldGenerationAckKeepsItsFingerprint(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	e.sink.hold = true
	e.write(p, criLine("stdout", "F", "a first line of the old content"))
	e.start()
	e.waitLines(1)
	require.NoError(t, os.Truncate(p, 0))
	e.write(p, criLine("stdout", "F", "new"))
	e.waitLines(2)
	e.sink.mu.Lock()
	old := e.sink.held[0]
	e.sink.held = e.sink.held[1:]
	e.sink.mu.Unlock()
	old.Done()
	f, err := os.Open(p)
	require.NoError(t, err)
	head, ok, err := readHead(f, p)
	require.NoError(t, f.Close())
	require.NoError(t, err)
	require.True(t, ok)
	newFP := headFingerprint(head)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		cp, ok := e.checkpointOf(p)
		require.True(c, ok)
		require.Equal(c, uint64(0), cp.Generation)
		require.NotEqual(c, newFP, cp.Fingerprint, "the old generation's offset must not carry the new content's fingerprint")
		require.NotEmpty(c, cp.Fingerprint)
	}, 5*time.Second, 5*time.Millisecond)
	e.sink.release()
}

// A reader at the end of its file hands its last batch over and the
// pipeline makes it wait longer than close_inactive; meanwhile the file
// changes. It must read the change before it closes the file as idle:
// closed with the changed size, it was never opened again while the file
// stayed as it was (torture test, seed 310076635745489223: the agent,
// SIGSTOPped while handing over, lost the lines written meanwhile and
// the whole refill after a copytruncate, without a word).
func TestChangedWhileHandingOverIsReadBeforeIdleClose(t *testing.T) {
	for name, change := range map[string]func(t *testing.T, p string, e *env){
		"appended": func(t *testing.T, p string, e *env) {
			e.write(p, padded("b", 0, 40)...)
		},
		"copytruncated and refilled past the offset": func(t *testing.T, p string, e *env) {
			e.write(p, padded("b", 0, 40)...)
			copyTo(t, p, p+".1")
			gzipTo(t, p+".1", p+".1.gz")
			require.NoError(t, os.Truncate(p, 0))
			e.write(p, padded("c", 0, 60)...)
		},
		"copytruncated and refilled to the same size": func(t *testing.T, p string, e *env) {
			e.write(p, padded("b", 0, 40)...)
			copyTo(t, p, p+".1")
			require.NoError(t, os.Truncate(p, 0))
			e.write(p, padded("c", 0, 45)...) // "a" and "b" lines: 45 of the same length
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			// Any quiet is long enough: what counts is that the last
			// hand-over outlasted it.
			e.cfg.CloseInactive = config.Duration(time.Millisecond)
			p := e.path("p", "ns")
			e.write(p, padded("a", 0, 5)...) // less than a batch: handed over at the end
			e.sink.shut()
			e.start()
			e.waiting()
			change(t, p, e)
			e.sink.open()

			want := append(paddedMsgs("a", 0, 5), paddedMsgs("b", 0, 40)...)
			if strings.Contains(name, "copytruncated") {
				n := map[bool]int{true: 60, false: 45}[strings.Contains(name, "past")]
				want = append(want, paddedMsgs("c", 0, n)...)
			}
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				require.ElementsMatch(c, want, e.sink.lines())
			}, 10*time.Second, 5*time.Millisecond)
			require.Equal(t, int64(0), e.tailer.Stats().UnreadLost.Load())
		})
	}
}
