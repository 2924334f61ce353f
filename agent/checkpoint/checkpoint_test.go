package checkpoint

import (
	"os"
	"path/filepath"
	"testing"

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

func TestStoreRejectsCorruptFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, fileName), []byte("{not json"), 0o600))
	_, err := Open(dir)
	require.ErrorContains(t, err, "checkpoints.json")
}
