package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/tap"
)

// funcOutput is an output whose writers call write for every batch.
type funcOutput struct {
	write func(ctx context.Context, b *record.Batch) error
}

func (o funcOutput) Name() string                  { return "func" }
func (o funcOutput) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (o funcOutput) NewWriter() Writer             { return funcWriter(o) }

type funcWriter funcOutput

func (w funcWriter) Write(ctx context.Context, b *record.Batch) error { return w.write(ctx, b) }
func (funcWriter) Flush(context.Context, bool) error                  { return nil }

func newTestPipeline(o Output, workers int) *Pipeline {
	return New(document.New(nil, func() int64 { return 1 }), []Output{o}, workers, 1<<20, slog.New(slog.DiscardHandler))
}

func pushLine(t *testing.T, p *Pipeline, line string) {
	t.Helper()
	b := record.NewBatch(&record.Source{Input: "in"}, nil)
	b.Add(record.Record{Time: 1}, []byte(line))
	require.NoError(t, p.Push(context.Background(), b))
}

func TestHealthWorkerDied(t *testing.T) {
	boom := errors.New("stdout closed")
	p := newTestPipeline(funcOutput{write: func(_ context.Context, b *record.Batch) error {
		if string(b.Records[0].Line) == "fail" {
			return boom
		}
		return nil
	}}, 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, context.Background()) }()
	pushLine(t, p, "ok")
	require.NoError(t, p.Health())
	pushLine(t, p, "fail")
	require.Eventually(t, func() bool { return p.Health() != nil }, 5*time.Second, time.Millisecond)
	err := p.Health()
	require.ErrorIs(t, err, boom)
	require.ErrorContains(t, err, "stopped: stdout closed")
	cancel()
	require.ErrorIs(t, <-done, boom)
	require.ErrorIs(t, p.Health(), boom, "a worker that died stays dead")
}

func TestHealthStoppedIsNotDead(t *testing.T) {
	p := newTestPipeline(funcOutput{write: func(context.Context, *record.Batch) error { return nil }}, 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, context.Background()) }()
	pushLine(t, p, "x")
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, p.Health())
}

func TestHealthBlockedOutputIsAlive(t *testing.T) {
	release := make(chan struct{})
	p := newTestPipeline(funcOutput{write: func(ctx context.Context, _ *record.Batch) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, context.Background()) }()
	for range 3 {
		pushLine(t, p, "x")
	}
	require.Eventually(t, func() bool { return p.states[0].inOutput.Load() && p.RingLen() > 0 }, 5*time.Second, time.Millisecond)
	// An hour later the worker still waits on the output: alive.
	require.NoError(t, p.health(time.Now().Add(time.Hour), StallAfter))
	close(release)
	cancel()
	require.NoError(t, <-done)
}

func TestHealthStalledWorker(t *testing.T) {
	p := newTestPipeline(funcOutput{write: func(context.Context, *record.Batch) error { return nil }}, 1)
	st := &p.states[0]
	st.state.Store(stateRunning)
	st.beat.Store(time.Now().UnixNano())
	now := time.Now().Add(StallAfter + time.Second)
	require.NoError(t, p.health(now, StallAfter), "nothing queued: an old beat is no stall")
	pushLine(t, p, "x") // no worker runs: the batch stays in the ring
	require.ErrorContains(t, p.health(now, StallAfter), "pipeline worker 0 made no progress for 31s with 1 batches queued")
	require.NoError(t, p.health(time.Now(), StallAfter), "a fresh beat is progress")
	st.inOutput.Store(true)
	require.NoError(t, p.health(now, StallAfter), "waiting on an output is not a stall")
}

func TestTapPublishedOnlyWhileSubscribed(t *testing.T) {
	got := make(chan string, 10)
	p := newTestPipeline(funcOutput{write: func(_ context.Context, b *record.Batch) error {
		got <- string(b.Records[0].Line)
		return nil
	}}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, context.Background()) }()
	pushLine(t, p, "before")
	require.Equal(t, "before", <-got)
	sub, err := p.Tap().Subscribe(tap.Filter{})
	require.NoError(t, err)
	pushLine(t, p, "during")
	require.Equal(t, "during", <-got)
	var doc strings.Builder
	_, err = sub.WriteMatching(&doc, <-sub.C())
	require.NoError(t, err)
	require.JSONEq(t, `{"@timestamp":"1970-01-01T00:00:00.000000001Z","log":"during"}`, doc.String())
	sub.Unsubscribe()
	pushLine(t, p, "after")
	require.Equal(t, "after", <-got)
	_, ok := <-sub.C()
	require.False(t, ok, "nothing published after Unsubscribe")
	cancel()
	require.NoError(t, <-done)
}
