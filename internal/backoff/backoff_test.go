package backoff

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBackoffDelay(t *testing.T) {
	b := Exponential{Initial: 100 * time.Millisecond, Max: 30 * time.Second}
	f := func(attempt int, lo, hi time.Duration) {
		t.Helper()
		seen := map[time.Duration]bool{}
		for range 200 {
			d := b.Delay(attempt)
			require.GreaterOrEqual(t, d, lo, "attempt %d", attempt)
			require.LessOrEqual(t, d, hi, "attempt %d", attempt)
			seen[d] = true
		}
		require.Greater(t, len(seen), 100, "attempt %d: waits are jittered", attempt)
	}
	f(0, 50*time.Millisecond, 100*time.Millisecond)
	f(1, 100*time.Millisecond, 200*time.Millisecond)
	f(5, 1600*time.Millisecond, 3200*time.Millisecond)
	f(9, 15*time.Second, 30*time.Second) // 51.2s capped at 30s
	f(70, 15*time.Second, 30*time.Second)
	f(1000, 15*time.Second, 30*time.Second)
}

func TestBackoffWait(t *testing.T) {
	b := Exponential{Initial: time.Hour, Max: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	start := time.Now()
	require.False(t, b.Wait(ctx, 0, 0), "shutdown interrupts the wait")
	require.Less(t, time.Since(start), 5*time.Second)

	// A deadline that would pass before the retry gives up at once.
	dctx, dcancel := context.WithTimeout(context.Background(), time.Minute)
	defer dcancel()
	start = time.Now()
	require.False(t, b.Wait(dctx, 0, 0))
	require.Less(t, time.Since(start), time.Second)

	short := Exponential{Initial: time.Millisecond, Max: time.Millisecond}
	start = time.Now()
	require.True(t, short.Wait(context.Background(), 0, 50*time.Millisecond))
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond, "Retry-After is a floor")
}
