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
	// 2 workers and 2 senders: (2 + 3×2) × 6.25 MiB of output buffers,
	// (2 + 2) × 5 MiB in flight.
	s := NewSplit(256*MiB, 50*MiB, 20*MiB, false)
	require.Equal(t, Split{Limit: 256 * MiB, Soft: 232 * MiB, Outputs: 50 * MiB, Batches: 87 * MiB}, s)
	// Everything charged, with the working set, stays at most half of the
	// soft limit's room, and the soft limit under memory_limit.
	require.LessOrEqual(t, s.Batches+s.Outputs+working, s.Soft-s.Batches)
	require.Less(t, s.Soft, s.Limit)

	// The small profile of bench/RESULTS.md: 512KiB bodies at 40MiB.
	s = NewSplit(40*MiB, 5*MiB, 2*MiB, false)
	require.Equal(t, Split{Limit: 40 * MiB, Soft: 22*MiB + 3*MiB/4, Outputs: 5 * MiB, Batches: 4*MiB + 7*MiB/8}, s)
	// 1MiB bodies there do not fit: batches keep the bodies in flight, so
	// writers never wait for them, the soft limit makes room for both, and
	// the split says it cannot hold memory_limit.
	s = NewSplit(40*MiB, 10*MiB, 4*MiB, false)
	require.Equal(t, Split{Limit: 40 * MiB, Soft: 26 * MiB, Outputs: 10 * MiB, Batches: 4 * MiB, Tight: true}, s)

	// 5MiB bodies at 128MiB fit now that batches need only what is in flight.
	s = NewSplit(128*MiB, 50*MiB, 20*MiB, false)
	require.Equal(t, Split{Limit: 128 * MiB, Soft: 108 * MiB, Outputs: 50 * MiB, Batches: 25 * MiB}, s)

	// Far too small: batches keep what is in flight, never more than
	// memory_limit.
	s = NewSplit(32*MiB, 50*MiB, 20*MiB, false)
	require.Equal(t, Split{Limit: 32 * MiB, Soft: 98 * MiB, Outputs: 50 * MiB, Batches: 20 * MiB, Tight: true}, s)
	// Too small for the binary and the working set alone: Tight even
	// without outputs.
	s = NewSplit(2*MiB, 0, 0, false)
	require.Equal(t, Split{Limit: 2 * MiB, Soft: 12 * MiB, Outputs: 0, Batches: 2 * MiB, Tight: true}, s)
}

// A TCP syslog listener gets an eighth of the room for its connections'
// frame buffers, out of what batches would have had; never less than a
// few long frames.
func TestSplitSetsFramesAsideForSyslog(t *testing.T) {
	const MiB, KiB = 1 << 20, 1 << 10
	s := NewSplit(40*MiB, 5*MiB, 2*MiB, true)
	require.Equal(t, Split{Limit: 40 * MiB, Soft: 22*MiB + 3*MiB/4, Outputs: 5 * MiB, Frames: 1248 * KiB, Batches: 4368 * KiB}, s)
	require.LessOrEqual(t, s.Batches+s.Frames+s.Outputs+working, s.Soft-s.Batches)

	s = NewSplit(256*MiB, 50*MiB, 20*MiB, true)
	require.Equal(t, Split{Limit: 256 * MiB, Soft: 232 * MiB, Outputs: 50 * MiB, Frames: 21*MiB + 3*MiB/4, Batches: 76*MiB + MiB/8}, s)

	// Too small: frames keep their floor and the soft limit makes room
	// for them too.
	s = NewSplit(32*MiB, 50*MiB, 20*MiB, true)
	require.Equal(t, Split{Limit: 32 * MiB, Soft: 98*MiB + 512*KiB, Outputs: 50 * MiB, Frames: 512 * KiB, Batches: 20 * MiB, Tight: true}, s)
}

func TestSetSoftLimitLeavesGOMEMLIMITAlone(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })

	t.Setenv("GOMEMLIMIT", "")
	got := SetSoftLimit(300 << 20) // and what the runtime counts untouched
	require.GreaterOrEqual(t, got, int64(300<<20))
	require.LessOrEqual(t, got, int64(300<<20+300<<20/8))
	require.Equal(t, got, debug.SetMemoryLimit(-1))

	t.Setenv("GOMEMLIMIT", "400MiB")
	require.Equal(t, got, SetSoftLimit(100<<20), "the environment's (here: the one in effect) wins")
	require.Equal(t, got, debug.SetMemoryLimit(-1))
}

func TestTapShare(t *testing.T) {
	const MiB = 1 << 20
	require.Equal(t, int64(2*MiB), TapShare(8*MiB))
	require.Equal(t, int64(4*MiB), TapShare(64*MiB))
	require.Equal(t, int64(16*MiB), TapShare(256*MiB))
	require.Equal(t, int64(32*MiB), TapShare(4096*MiB))
}

func TestBudgetCloseReleasesEveryWaiter(t *testing.T) {
	b := New(100)
	require.True(t, b.TryAcquire(100))
	const waiters = 3
	done := make(chan error, waiters)
	for range waiters {
		go func() { done <- b.Acquire(context.Background(), 10) }()
	}
	select {
	case err := <-done:
		t.Fatalf("Acquire returned %v while the budget was full and open", err)
	case <-time.After(20 * time.Millisecond):
	}
	b.Close()
	for range waiters {
		require.ErrorIs(t, <-done, ErrClosed)
	}
	require.ErrorIs(t, b.Acquire(context.Background(), 10), ErrClosed, "a later wait gives up at once")
	require.True(t, b.TryAcquire(0), "what fits is still taken: Close only ends waits")
	require.Equal(t, int64(100), b.Used(), "held bytes stay held")
}
