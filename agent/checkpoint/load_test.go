package checkpoint

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// openWith writes raw as the checkpoint file of a new data_dir and opens
// it, returning the store and what it logged.
func openWith(t *testing.T, raw string) (*Store, string, string) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, fileName), []byte(raw), 0o600))
	var logs bytes.Buffer
	s, err := Open(dir, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err, "a bad checkpoint file never stops the start")
	t.Cleanup(func() { s.Close() })
	return s, dir, logs.String()
}

func TestLoadDropsBadEntries(t *testing.T) {
	s, _, logs := openWith(t, `{"version":1,"entries":{
		"in|1:1": {"path":"/good.log","offset":10,"fingerprint":"ab12"},
		"in|1:2": {"path":"/neg.log","offset":-500},
		"in|1:3": {"path":"/str.log","offset":"ten"},
		"in|1:4": {"path":"/big.log","offset":1e30},
		"in|1:5": {"path":"/fp.log","fingerprint":"not hex!"},
		"in|1:6": null,
		"": {"path":"/nokey.log"},
		"in|1:7": {"path":"/long.log","fingerprint":"`+strings.Repeat("a", 66)+`"}}}`)
	require.Equal(t, 1, s.Len())
	e, ok := s.Get("in|1:1")
	require.True(t, ok)
	require.Equal(t, int64(10), e.Offset)
	require.Equal(t, map[string]int64{ReasonBadEntry: 7, ReasonEmptyFile: 0, ReasonCorruptFile: 0}, s.LoadErrors())
	require.Contains(t, logs, "level=ERROR")
	require.Contains(t, logs, "negative offset -500")
	require.Contains(t, logs, "/neg.log")
}

func TestLoadLogsBoundedLines(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"version":1,"entries":{`)
	for i := range 100 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strings.Repeat("x", i) + `":{"offset":-1}`)
	}
	b.WriteString(`}}`)
	s, _, logs := openWith(t, b.String())
	require.Equal(t, int64(100), s.LoadErrors()[ReasonBadEntry])
	require.Equal(t, maxLoggedEntries+1, strings.Count(logs, "\n"))
}

func TestLoadKeepsCorruptFileAside(t *testing.T) {
	f := func(raw, reason string) {
		t.Helper()
		before := time.Now().UTC().Add(-time.Second).Format("20060102T150405Z")
		s, dir, logs := openWith(t, raw)
		require.Zero(t, s.Len())
		require.Equal(t, int64(1), s.LoadErrors()[reason])
		require.Contains(t, logs, "level=ERROR")
		require.Contains(t, logs, "reason="+reason)
		aside, err := filepath.Glob(filepath.Join(dir, fileName+".corrupt-*"))
		require.NoError(t, err)
		require.Len(t, aside, 1)
		require.GreaterOrEqual(t, strings.TrimPrefix(filepath.Base(aside[0]), fileName+".corrupt-"), before, "a UTC timestamp")
		kept, err := os.ReadFile(aside[0])
		require.NoError(t, err)
		require.Equal(t, raw, string(kept), "kept as it was")
		require.NoFileExists(t, filepath.Join(dir, fileName))
		// The store works and writes a good file again.
		s.Set("in|1:1", Entry{Offset: 5})
		require.NoError(t, s.Sync())
		_, err = os.Stat(filepath.Join(dir, fileName))
		require.NoError(t, err)
	}
	f("", ReasonEmptyFile)
	f(" \n", ReasonEmptyFile)
	f("{not json", ReasonCorruptFile)
	f(`{"version":1,"entries":{"a":{"offset":1}}`, ReasonCorruptFile) // torn
	f("null", ReasonCorruptFile)
	f(`{"version":2,"entries":{}}`, ReasonCorruptFile)
	f(`{"entries":{}}`, ReasonCorruptFile)
	f(`[1,2]`, ReasonCorruptFile)
	f(`{"version":1,"entries":[]}`, ReasonCorruptFile)
}

func TestLoadAsideNamesDoNotCollide(t *testing.T) {
	dir := t.TempDir()
	for range 3 {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fileName), []byte("{"), 0o600))
		s, err := Open(dir)
		require.NoError(t, err)
		require.NoError(t, s.Close())
	}
	aside, err := filepath.Glob(filepath.Join(dir, fileName+".corrupt-*"))
	require.NoError(t, err)
	require.Len(t, aside, 3)
}

func TestLoadUnreadableFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, fileName), 0o700)) // EISDIR on read
	_, err := Open(dir)
	require.ErrorContains(t, err, "read checkpoints")
}

func FuzzLoad(f *testing.F) {
	for _, s := range []string{"", "{", `{"version":1,"entries":{"a":{"offset":-1}}}`, `{"version":1,"entries":{"a":{"offset":3,"fingerprint":"ab"}}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		entries, _, err := decodeFile([]byte(raw))
		if err != nil {
			return
		}
		for k, e := range entries {
			require.NoError(t, e.check(k), "every entry kept is usable")
			require.GreaterOrEqual(t, e.Offset, int64(0))
		}
	})
}
