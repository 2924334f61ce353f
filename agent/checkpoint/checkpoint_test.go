package checkpoint

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStoreSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	s.Set("in|1:2", Entry{Path: "/a.log", Dev: 1, Inode: 2, Fingerprint: "ab", Offset: 42, Generation: 3})
	s.Set("in|1:3", Entry{Path: "/b.log", Offset: 7})
	s.Delete("in|1:3")
	require.NoError(t, s.Close())

	s, err = Open(dir)
	require.NoError(t, err)
	defer s.Close()
	e, ok := s.Get("in|1:2")
	require.True(t, ok)
	require.Equal(t, int64(42), e.Offset)
	require.Equal(t, uint64(3), e.Generation)
	require.Equal(t, "ab", e.Fingerprint)
	_, ok = s.Get("in|1:3")
	require.False(t, ok)
	require.Equal(t, 1, s.Len())

	// No temporary files are left behind.
	names, err := filepath.Glob(filepath.Join(dir, "*.tmp*"))
	require.NoError(t, err)
	require.Empty(t, names)
}

func TestStoreLocksDataDir(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	_, err = Open(dir)
	require.ErrorContains(t, err, "another agent")
}

// TestSaveFailuresAreCountedAndLogged: a data_dir that cannot be written
// (here a file where the directory was: root may write anywhere, even
// through a read-only mode) fails syncs, counted and logged, keeps the
// changes for the next sync, and leaves the last success time alone;
// once writable again the next sync saves and says so.
func TestSaveFailuresAreCountedAndLogged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Sync())
	require.Zero(t, s.SaveErrors())
	saved := s.LastSaved()
	require.WithinDuration(t, time.Now(), saved, time.Minute)

	moved := dir + ".away"
	require.NoError(t, os.Rename(dir, moved))
	require.NoError(t, os.WriteFile(dir, nil, 0o600))
	s.Set("in|1:2", Entry{Path: "/a.log", Offset: 42})

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, 5*time.Millisecond, logger) }()
	require.Eventually(t, func() bool { return s.SaveErrors() >= 3 }, 10*time.Second, time.Millisecond)
	require.Equal(t, saved, s.LastSaved(), "no success while failing")

	require.NoError(t, os.Remove(dir))
	require.NoError(t, os.Rename(moved, dir))
	require.Eventually(t, func() bool { return s.LastSaved().After(saved) }, 10*time.Second, time.Millisecond)
	cancel()
	<-done

	out := logs.String()
	require.Equal(t, 1, strings.Count(out, "level=ERROR"), "one error line per %v, not one per sync:\n%s", failLogEvery, out)
	require.Contains(t, out, "cannot write data_dir")
	require.Contains(t, out, "not a directory")
	require.Contains(t, out, "data_dir writable again")
	raw, err := os.ReadFile(filepath.Join(dir, fileName))
	require.NoError(t, err)
	require.Contains(t, string(raw), `"offset":42`, "the change made while failing was saved")
}

// A data_dir removed while the agent runs is created again at the next
// save, locked, and holds the positions; with its parent gone too it is
// not (the volume is gone: no tree is made in its place), and the save
// fails, counted.
func TestRemovedDataDirIsCreatedAgain(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "data")
	var logs bytes.Buffer
	s, err := Open(dir, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	defer s.Close()
	s.Set("in|1:2", Entry{Path: "/a.log", Offset: 42})
	require.NoError(t, s.Sync())

	require.NoError(t, os.RemoveAll(dir))
	s.Set("in|1:2", Entry{Path: "/a.log", Offset: 84})
	require.NoError(t, s.Sync())
	raw, err := os.ReadFile(filepath.Join(dir, fileName))
	require.NoError(t, err)
	require.Contains(t, string(raw), `"offset":84`)
	require.Contains(t, logs.String(), "data_dir was removed")
	require.Contains(t, logs.String(), dir)
	_, err = Open(dir)
	require.ErrorContains(t, err, "another agent", "the new folder is locked too")

	require.NoError(t, os.RemoveAll(parent))
	s.Set("in|1:2", Entry{Path: "/a.log", Offset: 126})
	require.ErrorContains(t, s.Sync(), "cannot be created again")
	require.NoDirExists(t, parent)
	require.Equal(t, int64(1), s.SaveErrors())
}
