package budget

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// Sources that wait for room get it from Release, in the order they came,
// with no clock involved: the bubble's fake time never moves.
func TestBudgetWaitersSleepUntilReleaseInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(100)
		require.True(t, b.TryAcquire(100))
		start := time.Now()
		var mu sync.Mutex
		var order []int
		for i := range 3 {
			go func() {
				require.NoError(t, b.Acquire(context.Background(), 40))
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
			}()
			synctest.Wait() // queued before the next one comes
		}
		require.Equal(t, time.Duration(0), time.Since(start), "the waiters woke on a timer, not on room")
		require.Empty(t, order)

		b.Release(50) // room for one 40
		synctest.Wait()
		require.Equal(t, []int{0}, order)
		require.Equal(t, int64(90), b.Used())

		for _, want := range [][]int{{0, 1}, {0, 1, 2}} {
			b.Release(40) // room for the next one
			synctest.Wait()
			require.Equal(t, want, order)
			require.Equal(t, int64(90), b.Used())
		}
		require.Equal(t, time.Duration(0), time.Since(start))
	})
}

// A waiter whose context ends leaves the queue, and the ones behind it
// that fit get the room it was blocking. (A source that finds room on its
// way in takes it without queueing: one that holds bytes and asks for
// more must not wait behind a source waiting for those very bytes.)
func TestBudgetCancelledWaiterLetsTheNextThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(100)
		require.True(t, b.TryAcquire(70))
		ctx, cancel := context.WithCancel(context.Background())
		big := make(chan error, 1)
		go func() { big <- b.Acquire(ctx, 60) }()
		synctest.Wait()
		small := make(chan error, 1)
		go func() { small <- b.Acquire(context.Background(), 40) }()
		synctest.Wait()
		b.Release(10) // 60 held: room for the small one, not the big one ahead of it
		synctest.Wait()
		select {
		case err := <-small:
			t.Fatalf("the second waiter went past the first: %v", err)
		default:
		}
		cancel()
		synctest.Wait()
		require.ErrorIs(t, <-big, context.Canceled)
		require.NoError(t, <-small)
		require.Equal(t, int64(100), b.Used())
	})
}

// An oversized request waits for the budget to be empty, then goes.
func TestBudgetOversizedWaiterGoesWhenEmpty(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(100)
		require.True(t, b.TryAcquire(30))
		done := make(chan error, 1)
		go func() { done <- b.Acquire(context.Background(), 500) }()
		synctest.Wait()
		b.Release(30)
		synctest.Wait()
		require.NoError(t, <-done)
		require.Equal(t, int64(500), b.Used())
	})
}

// Many sources taking and giving back bytes at once: no wait is lost (each
// ends) and the count ends at zero.
func TestBudgetConcurrentAcquireRelease(t *testing.T) {
	b := New(1000)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 2000 {
				n := int64(1 + (g*7+i)%300)
				require.NoError(t, b.Acquire(context.Background(), n))
				if u := b.Used(); u > 1000 {
					t.Errorf("used %d over the limit", u)
				}
				b.Release(n)
			}
		})
	}
	wg.Wait()
	require.Zero(t, b.Used())
}
