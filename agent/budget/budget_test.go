package budget

import (
	"context"
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
