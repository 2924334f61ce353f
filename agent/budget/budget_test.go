package budget

import (
	"context"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBudgetBlocksAtLimitAndWakesOnRelease(t *testing.T) {
	b := New(100)
	require.True(t, b.TryAcquire(60))
	require.False(t, b.TryAcquire(60), "over the limit")
	require.Equal(t, int64(60), b.Used())

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, b.Acquire(ctx, 60), context.DeadlineExceeded)

	done := make(chan error, 1)
	go func() { done <- b.Acquire(context.Background(), 60) }()
	select {
	case <-done:
		t.Fatal("acquired while full")
	case <-time.After(20 * time.Millisecond):
	}
	b.Release(60)
	require.NoError(t, <-done)
	require.Equal(t, int64(60), b.Used())
}

func TestBudgetLetsOneOversizedRequestThroughWhenEmpty(t *testing.T) {
	b := New(100)
	require.True(t, b.TryAcquire(500), "alone, a batch larger than the limit must not wedge the pipeline")
	require.False(t, b.TryAcquire(1))
	b.Release(500)
	require.Zero(t, b.Used())
}

func TestSplitKeepsTheProcessUnderMemoryLimit(t *testing.T) {
	const MiB = 1 << 20
	// The chaos run's config: memory_limit 256MiB, bulk.max_bytes 5MiB,
	// 2 workers and 2 senders: (2 + 3×2) × 6.25 MiB of output buffers.
	s := NewSplit(256*MiB, 50*MiB)
	require.Equal(t, Split{Limit: 256 * MiB, Soft: 232 * MiB, Outputs: 50 * MiB, Batches: 91 * MiB}, s)
	require.False(t, s.Tight())
	// Everything charged stays at most half of the soft limit, and the
	// soft limit under memory_limit.
	require.LessOrEqual(t, s.Batches+s.Outputs, s.Soft-s.Batches)
	require.Less(t, s.Soft, s.Limit)

	// 1MiB bodies at 64MiB: fits.
	s = NewSplit(64*MiB, 10*MiB)
	require.Equal(t, Split{Limit: 64 * MiB, Soft: 40 * MiB, Outputs: 10 * MiB, Batches: 16 * MiB}, s)
	require.False(t, s.Tight())

	// 5MiB bodies at 128MiB (deploy/base): batches keep the outputs' size
	// so writers never wait for them, the soft limit makes room for both,
	// and the split says it cannot hold memory_limit.
	s = NewSplit(128*MiB, 50*MiB)
	require.Equal(t, Split{Limit: 128 * MiB, Soft: 150 * MiB, Outputs: 50 * MiB, Batches: 50 * MiB}, s)
	require.True(t, s.Tight())

	// Small limits: batches get all of it, as before there was a split.
	s = NewSplit(32*MiB, 50*MiB)
	require.Equal(t, int64(32*MiB), s.Batches)
	require.True(t, s.Tight())
	s = NewSplit(2*MiB, 0)
	require.Equal(t, Split{Limit: 2 * MiB, Soft: 32 * MiB, Outputs: 0, Batches: 2 * MiB}, s)
	require.False(t, s.Tight())
}

func TestSetSoftLimitLeavesGOMEMLIMITAlone(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })

	t.Setenv("GOMEMLIMIT", "")
	require.Equal(t, int64(300<<20), SetSoftLimit(300<<20))
	require.Equal(t, int64(300<<20), debug.SetMemoryLimit(-1))

	t.Setenv("GOMEMLIMIT", "400MiB")
	require.Equal(t, int64(300<<20), SetSoftLimit(100<<20), "the environment's (here: the one in effect) wins")
	require.Equal(t, int64(300<<20), debug.SetMemoryLimit(-1))
}
