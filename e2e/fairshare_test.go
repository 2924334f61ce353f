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
// each, a backlog written before the agent starts, and two quiet pods
// writing 10 lines/s. A quiet line waits behind a bounded share of the
// noisy backlog, counted in noisy documents stored while it waited (about
// 1,800 here; without fair_share about 19,700 of the 20,000, the whole
// backlog: bench/RESULTS.md, noisy neighbours); then every line of every pod
// arrives exactly once. The bound is in documents, not seconds: on a busy
// 2-core machine a -race agent stores 100 to 2,500 documents a second, and
// a wall-clock window failed there while fair_share worked.
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
	require.True(t, res.Drained, "every line delivered: %s", res)
	backlog := o.NoisyPods * o.NoisyLines
	require.Less(t, res.QuietOvertaken, backlog/4, "quiet lines waited behind the noisy backlog (%d lines)", backlog)
	require.Zero(t, res.Duplicates)
	require.Zero(t, res.Bad)
}
