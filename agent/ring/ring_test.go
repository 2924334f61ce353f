package ring

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFIFOAndBounds(t *testing.T) {
	r := New[int](3) // rounds up to 4
	require.Equal(t, 4, r.Cap())
	for i := range 4 {
		require.True(t, r.TryPush(i))
	}
	require.False(t, r.TryPush(99), "a full ring refuses")
	require.Equal(t, 4, r.Len())
	for i := range 4 {
		v, ok := r.TryPop()
		require.True(t, ok)
		require.Equal(t, i, v)
	}
	_, ok := r.TryPop()
	require.False(t, ok)
}

func TestPushBlocksUntilPopAndHonoursContext(t *testing.T) {
	r := New[int](2)
	require.True(t, r.TryPush(1))
	require.True(t, r.TryPush(2))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, r.Push(ctx, 3), context.DeadlineExceeded)

	done := make(chan error, 1)
	go func() { done <- r.Push(context.Background(), 3) }()
	v, ok := r.Pop(context.Background(), time.Second)
	require.True(t, ok)
	require.Equal(t, 1, v)
	require.NoError(t, <-done)
}

func TestCloseDrainsThenStops(t *testing.T) {
	r := New[int](4)
	require.NoError(t, r.Push(context.Background(), 7))
	r.Close()
	require.ErrorIs(t, r.Push(context.Background(), 8), ErrClosed)
	v, ok := r.Pop(context.Background(), time.Second)
	require.True(t, ok)
	require.Equal(t, 7, v)
	start := time.Now()
	_, ok = r.Pop(context.Background(), time.Second)
	require.False(t, ok)
	require.Less(t, time.Since(start), 500*time.Millisecond, "a closed, empty ring returns at once")
}

// TestConcurrentExactlyOnce pushes from several producers into several
// consumers through a small ring and checks every item comes out once.
// Run with -race.
func TestConcurrentExactlyOnce(t *testing.T) {
	const producers, consumers, per = 4, 3, 20000
	r := New[int](8)
	seen := make([]int32, producers*per)
	var mu sync.Mutex
	var pw, cw sync.WaitGroup
	for p := range producers {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for i := range per {
				require.NoError(t, r.Push(context.Background(), p*per+i))
			}
		}()
	}
	for range consumers {
		cw.Add(1)
		go func() {
			defer cw.Done()
			local := map[int]int{}
			for {
				v, ok := r.Pop(context.Background(), 20*time.Millisecond)
				if !ok {
					if r.closed.Load() && r.Len() == 0 {
						break
					}
					continue
				}
				local[v]++
			}
			mu.Lock()
			for k, n := range local {
				seen[k] += int32(n)
			}
			mu.Unlock()
		}()
	}
	pw.Wait()
	r.Close()
	cw.Wait()
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("item %d seen %d times", i, n)
		}
	}
}

// TestPopWaitBounds: an empty ring's Pop returns false after about wait
// (the back-off and yields before the clock starts are microseconds), and
// at once when ctx ends first.
func TestPopWaitBounds(t *testing.T) {
	r := New[int](4)
	start := time.Now()
	_, ok := r.Pop(context.Background(), 30*time.Millisecond)
	require.False(t, ok)
	require.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	require.Less(t, time.Since(start), time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, ok = r.Pop(ctx, time.Minute)
	require.False(t, ok)
	require.Less(t, time.Since(start), time.Second, "Pop honours ctx")
}
