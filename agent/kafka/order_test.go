package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
)

// A source's later batch waits while an earlier one is in a writer, and
// goes once it is handed over or skipped; a batch whose predecessor never
// comes goes after the gap wait; other sources never wait.
func TestSequencerOrder(t *testing.T) {
	q := newSequencer()
	src, other := &record.Source{}, &record.Source{}
	b0, b1 := &record.Batch{Source: src, Seq: 0}, &record.Batch{Source: src, Seq: 1}
	q.enter(b0)
	q.enter(b1)
	gone := make(chan error, 1)
	go func() { gone <- q.wait(context.Background(), b1) }()
	o := &record.Batch{Source: other, Seq: 0}
	q.enter(o)
	require.NoError(t, q.wait(context.Background(), o))
	q.leave(o)
	require.NoError(t, q.wait(context.Background(), b0))
	select {
	case <-gone:
		t.Fatal("batch 1 went before batch 0 was handed over")
	default:
	}
	q.leave(b0)
	require.NoError(t, <-gone)
	q.leave(b1)

	// Batch 2 is not for this output (a route, or filters left nothing):
	// skipped, batch 3 goes at once.
	q.skip(&record.Batch{Source: src, Seq: 2})
	b3 := &record.Batch{Source: src, Seq: 3}
	q.enter(b3)
	require.NoError(t, q.wait(context.Background(), b3))
	q.leave(b3)

	// A skip that comes before the batches ahead of it are handed over
	// does not let a later batch pass them: batch 6 waits for 4 and 5.
	q.skip(&record.Batch{Source: src, Seq: 5})
	b4, b6 := &record.Batch{Source: src, Seq: 4}, &record.Batch{Source: src, Seq: 6}
	q.enter(b4)
	q.enter(b6)
	gone6 := make(chan error, 1)
	go func() { gone6 <- q.wait(context.Background(), b6) }()
	require.NoError(t, q.wait(context.Background(), b4))
	select {
	case <-gone6:
		t.Fatal("batch 6 went before batch 4 was handed over")
	default:
	}
	q.leave(b4)
	require.NoError(t, <-gone6)
	q.leave(b6)

	// Batch 7 never comes and nobody says so: batch 8 goes after the gap
	// wait, and batch 9 then follows it without waiting again.
	q.gap = 50 * time.Millisecond
	b8, b9 := &record.Batch{Source: src, Seq: 8}, &record.Batch{Source: src, Seq: 9}
	q.enter(b8)
	start := time.Now()
	require.NoError(t, q.wait(context.Background(), b8))
	require.GreaterOrEqual(t, time.Since(start), q.gap)
	q.leave(b8)
	q.enter(b9)
	require.NoError(t, q.wait(context.Background(), b9))
	q.leave(b9)

	// A cancelled wait returns the context's error.
	b11 := &record.Batch{Source: src, Seq: 11}
	q.enter(&record.Batch{Source: src, Seq: 10})
	q.enter(b11)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, q.wait(ctx, b11), context.Canceled)
}
