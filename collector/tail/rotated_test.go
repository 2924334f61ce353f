package tail

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ackedThrough waits until the checkpoint of path's file covers n
// numbered lines of prefix written from 0.
func (e *env) ackedThrough(path, prefix string, n int) {
	e.t.Helper()
	var want int64
	for _, l := range numbered(prefix, 0, n) {
		want += int64(len(l)) + 1
	}
	require.EventuallyWithT(e.t, func(c *assert.CollectT) {
		cp, ok := e.checkpointOf(path)
		require.True(c, ok)
		require.Equal(c, want, cp.Offset)
	}, 10*time.Second, 5*time.Millisecond)
}

// The agent is down (or was killed) while a file it had not finished is
// renamed away and a new one takes its name: the rest of the renamed file
// is read after the restart, exactly once, and the file is then let go.
func TestRotatedWhileDownIsReadAfterRestart(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	e.write(p, numbered("old", 0, 50)...)
	e.start()
	e.waitLines(50)
	e.ackedThrough(p, "old", 50)
	e.stop()

	e.write(p, numbered("old", 50, 80)...) // written while the agent is down
	require.NoError(t, os.Rename(p, p+".1"))
	e.write(p, numbered("new", 0, 20)...)
	e.sink = &sink{}
	e.start()
	e.waitLines(50)
	got := e.sink.lines()
	require.Equal(t, msgs("old", 50, 80), filter(got, "old "), "the rotated file's unread lines, once")
	require.Equal(t, msgs("new", 0, 20), filter(got, "new "))
	recs := e.sink.snapshot()
	for _, r := range recs {
		require.Equal(t, "ns", r.Namespace, "names come from the file's own name, not the rotated one")
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(1), e.tailer.Stats().FilesClosed.Load(), "the rotated file is let go once read")
		require.Equal(c, 1, e.store.Len(), "its checkpoint goes")
	}, 10*time.Second, 5*time.Millisecond)
}

// The kubelet's layout: the link in /var/log/containers leads to
// /var/log/pods/.../0.log, which is renamed to 0.log.<time>. The file is
// found beside the link's target.
func TestRotatedTargetWhileDownIsReadAfterRestart(t *testing.T) {
	e := newEnv(t)
	pods := filepath.Join(filepath.Dir(e.dir), "pods", "ns_p_uid", "app")
	e.cfg.AllowedRoots = []string{filepath.Join(filepath.Dir(e.dir), "pods")}
	require.NoError(t, os.MkdirAll(pods, 0o755))
	target := filepath.Join(pods, "0.log")
	link := e.path("p", "ns")
	e.write(target, numbered("a", 0, 20)...)
	require.NoError(t, os.Symlink(target, link))
	e.start()
	e.waitLines(20)
	e.ackedThrough(link, "a", 20)
	e.stop()

	e.write(target, numbered("a", 20, 35)...)
	require.NoError(t, os.Rename(target, target+".20261207-043000"))
	e.write(target, numbered("b", 0, 10)...)
	e.sink = &sink{}
	e.start()
	e.waitLines(25)
	got := e.sink.lines()
	require.Equal(t, msgs("a", 20, 35), filter(got, "a "))
	require.Equal(t, msgs("b", 0, 10), filter(got, "b "))
}

// A renamed file read to its checkpoint is not opened again.
func TestRotatedAndDeliveredIsNotReopened(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	e.write(p, numbered("old", 0, 10)...)
	e.start()
	e.waitLines(10)
	e.ackedThrough(p, "old", 10)
	e.stop()

	require.NoError(t, os.Rename(p, p+".1"))
	e.write(p, numbered("new", 0, 5)...)
	e.sink = &sink{}
	e.start()
	e.waitLines(5)
	require.Equal(t, msgs("new", 0, 5), e.sink.lines())
	require.Equal(t, int64(1), e.tailer.Stats().FilesOpened.Load())
}
