package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/bench/noisy"
	"github.com/sluicelog/sluice/internal/agenttest"
)

// TestFairShareQuietNotStuck runs the built agent with fair_share behind a
// store that is the bottleneck (a fake _bulk endpoint answering one request
// at a time after 50 ms, bench/noisy): four noisy pods with 5,000 lines
// each, more than the store takes during the window, and two quiet pods
// writing 10 lines/s. The quiet lines arrive within a bounded latency
// while the noisy backlog is still being read; then every line of every
// pod arrives exactly once. Without fair_share the quiet lines wait behind
// the whole noisy backlog (bench/RESULTS.md, noisy neighbours).
func TestFairShareQuietNotStuck(t *testing.T) {
	bin := agenttest.Binary(t)
	t.Parallel()
	o := noisy.Options{
		Agent: bin, Dir: t.TempDir(),
		NoisyPods: 4, NoisyLines: 5000, QuietPods: 2, QuietRate: 10,
		Window: 5 * time.Second, Delay: 50 * time.Millisecond, MaxBytes: "64KiB",
		FairShare: "{ by: namespace }",
		Drain:     true, DrainLimit: 90 * time.Second,
		Log: t.Logf,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := noisy.Run(ctx, o)
	require.NoError(t, err)
	t.Log(res)
	require.Less(t, res.NoisyInWindow, o.NoisyPods*o.NoisyLines, "the store was not the bottleneck: nothing to share")
	require.GreaterOrEqual(t, res.QuietInWindow, res.QuietWritten/2, "quiet lines stuck behind the noisy backlog")
	require.True(t, res.Drained, "every line delivered: %s", res)
	require.Less(t, res.QuietAllP99, 3*time.Second, "quiet lines' latency")
	require.Zero(t, res.Duplicates)
	require.Zero(t, res.Bad)
}
