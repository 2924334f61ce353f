package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
)

// A source's later batch waits while an earlier one is in a writer, and
// goes once it is handed over; a batch whose predecessor no writer has
// goes after gapWait; other sources never wait.
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

	// Batch 2 was dropped whole by a filter: batch 3 goes after gapWait.
	b3 := &record.Batch{Source: src, Seq: 3}
	q.enter(b3)
	start := time.Now()
	require.NoError(t, q.wait(context.Background(), b3))
	require.GreaterOrEqual(t, time.Since(start), gapWait)
	q.leave(b3)

	// A cancelled wait returns the context's error.
	b5 := &record.Batch{Source: src, Seq: 5}
	q.enter(&record.Batch{Source: src, Seq: 4})
	q.enter(b5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, q.wait(ctx, b5), context.Canceled)
}
