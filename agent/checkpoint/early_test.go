package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A burst of acknowledgements is saved long before the interval: a kill
// then re-reads what came after, not an interval of catch-up.
func TestAcknowledgedMegabyteSavedEarly(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, time.Hour, slog.New(slog.DiscardHandler))
	}()
	defer func() { cancel(); <-done }()

	s.Set("in|1:2", Entry{Path: "/a.log", Offset: 0})
	s.Set("in|1:2", Entry{Path: "/a.log", Offset: earlyBytes / 2})
	s.Set("in|1:3", Entry{Path: "/b.log", Offset: 10})
	require.Never(t, func() bool { return saved(t, dir)["in|1:2"] > 0 }, 300*time.Millisecond, 20*time.Millisecond,
		"half of earlyBytes waits for the interval")

	s.Set("in|1:2", Entry{Path: "/a.log", Offset: earlyBytes + 5})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(earlyBytes+5), saved(c, dir)["in|1:2"])
	}, 5*time.Second, 10*time.Millisecond)

	// A new generation starts at 0 again: not progress, not a save.
	s.Set("in|1:2", Entry{Path: "/a.log", Offset: 0, Generation: 1})
	require.Never(t, func() bool { return saved(t, dir)["in|1:2"] == 0 }, 300*time.Millisecond, 20*time.Millisecond)
}

// saved reads the entries' offsets from the checkpoint file.
func saved(t require.TestingT, dir string) map[string]int64 {
	out := map[string]int64{}
	raw, err := os.ReadFile(filepath.Join(dir, fileName))
	if errors.Is(err, os.ErrNotExist) {
		return out
	}
	require.NoError(t, err)
	var f fileFormat
	require.NoError(t, json.Unmarshal(raw, &f))
	for k, e := range f.Entries {
		out[k] = e.Offset
	}
	return out
}

// Early saves come at most every earlyEvery.
func TestEarlySavesArePaced(t *testing.T) {
	var e earlySave
	start := time.Now()
	require.True(t, e.pace(context.Background(), start))
	require.GreaterOrEqual(t, time.Since(start), earlyEvery)
	require.True(t, e.pace(context.Background(), start.Add(-earlyEvery)), "due already: no wait")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.False(t, e.pace(ctx, time.Now()))
}
