package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
)

// heldOutput keeps every batch until release is called, like an output
// waiting for its server.
type heldOutput struct {
	mu      sync.Mutex
	docs    []string
	held    []*record.Batch
	skipped []string // pods of the batches it was told it will not get
}

func (o *heldOutput) Name() string                  { return "held" }
func (o *heldOutput) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (o *heldOutput) NewWriter() Writer             { return heldWriter{o} }

func (o *heldOutput) release() {
	o.mu.Lock()
	held := o.held
	o.held = nil
	o.mu.Unlock()
	for _, b := range held {
		b.Done()
	}
}

type heldWriter struct{ o *heldOutput }

func (w heldWriter) Write(_ context.Context, b *record.Batch) error {
	b.Retain(1)
	w.o.mu.Lock()
	for i := range b.Records {
		w.o.docs = append(w.o.docs, string(b.Doc(i)))
	}
	w.o.held = append(w.o.held, b)
	w.o.mu.Unlock()
	return nil
}

func (heldWriter) Flush(context.Context, bool) error { return nil }

func (w heldWriter) Skip(b *record.Batch) {
	w.o.mu.Lock()
	w.o.skipped = append(w.o.skipped, b.Source.Pod)
	w.o.mu.Unlock()
}

func TestBatchesAckedOnlyWhenEveryOutputIsDone(t *testing.T) {
	a, b := &heldOutput{}, &heldOutput{}
	enc := document.New(nil, func() int64 { return 1 })
	p := New(enc, []Output{a, b}, 2, 1<<20, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, context.Background()) }()

	var acked atomic.Int64
	for i := range 10 {
		bt := record.NewBatch(&record.Source{}, record.AckerFunc(func(*record.Batch) { acked.Add(1) }))
		bt.Seq = uint64(i)
		bt.Add(record.Record{Time: 1}, []byte("line"))
		require.NoError(t, p.Push(context.Background(), bt))
	}
	require.Eventually(t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.docs) == 10
	}, 5*time.Second, time.Millisecond)
	require.Len(t, a.docs, 10)
	require.JSONEq(t, `{"@timestamp":"1970-01-01T00:00:00.000000001Z","log":"line"}`, a.docs[0])
	require.Positive(t, p.MemoryUsed(), "unacked batches hold their bytes")

	a.release()
	time.Sleep(20 * time.Millisecond)
	require.Zero(t, acked.Load(), "one output is still holding the batches")
	require.Eventually(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.docs) == 10 }, 5*time.Second, time.Millisecond)
	b.release()
	require.Equal(t, int64(10), acked.Load())
	require.Zero(t, p.MemoryUsed())

	dctx, dcancel := context.WithTimeout(context.Background(), time.Second)
	defer dcancel()
	require.NoError(t, p.Drain(dctx))
	cancel()
	require.NoError(t, <-done)
}

func TestPushBlocksAtMemoryLimit(t *testing.T) {
	o := &heldOutput{}
	p := New(document.New(nil, func() int64 { return 1 }), []Output{o}, 1, 1<<20, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = p.Run(ctx, context.Background()) }()

	big := make([]byte, 600<<10)
	push := func(pctx context.Context) error {
		bt := record.NewBatch(&record.Source{}, nil)
		bt.Add(record.Record{}, big)
		err := p.Push(pctx, bt)
		if err != nil {
			bt.Discard()
		}
		return err
	}
	require.NoError(t, push(context.Background()))
	short, scancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer scancel()
	require.ErrorIs(t, push(short), context.DeadlineExceeded, "the second batch does not fit in memory_limit")

	go func() {
		require.Eventually(t, func() bool { o.mu.Lock(); defer o.mu.Unlock(); return len(o.held) == 1 }, 5*time.Second, time.Millisecond)
		o.release()
	}()
	require.NoError(t, push(context.Background()), "fits once the first is acked")

	dctx, dcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer dcancel()
	require.Error(t, p.Drain(dctx), "drain reports what was never acked")
}

// enrichFunc adapts a function to Enricher.
type enrichFunc func(b *record.Batch) bool

func (f enrichFunc) Enrich(b *record.Batch) bool { return f(b) }

// An enricher sets a batch's metadata and parser before encoding; a batch
// it drops (sluice.io/exclude) is acked without reaching any output, so
// the file's checkpoint moves past it.
func TestEnricherSetsMetaAndDrops(t *testing.T) {
	o := &heldOutput{}
	enc := document.New(nil, func() int64 { return 1 })
	p := New(enc, []Output{o}, 1, 1<<20, slog.New(slog.DiscardHandler))
	p.SetEnricher(enrichFunc(func(b *record.Batch) bool {
		if b.Source.Pod == "quiet" {
			return false
		}
		b.Meta, b.Parser = []byte(`{"pod_name":"`+b.Source.Pod+`","labels":{"app":"x"}}`), "logfmt"
		return true
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, context.Background()) }()

	var acked atomic.Int64
	for _, pod := range []string{"quiet", "loud", "quiet"} {
		bt := record.NewBatch(&record.Source{Pod: pod}, record.AckerFunc(func(*record.Batch) { acked.Add(1) }))
		bt.Add(record.Record{Time: 1}, []byte("a=1"))
		require.NoError(t, p.Push(context.Background(), bt))
	}
	require.Eventually(t, func() bool { return acked.Load() == 2 }, 5*time.Second, time.Millisecond, "dropped batches are acked")
	require.Eventually(t, func() bool { o.mu.Lock(); defer o.mu.Unlock(); return len(o.docs) == 1 }, 5*time.Second, time.Millisecond)
	require.JSONEq(t, `{"@timestamp":"1970-01-01T00:00:00.000000001Z","a":"1","kubernetes":{"pod_name":"loud","labels":{"app":"x"}}}`, o.docs[0])
	o.mu.Lock()
	require.Equal(t, []string{"quiet", "quiet"}, o.skipped, "the output is told of the batches it will not get")
	o.mu.Unlock()
	o.release()
	require.Equal(t, int64(3), acked.Load())
	cancel()
	require.NoError(t, <-done)
}

// flushOutput counts the forced flushes its writers get.
type flushOutput struct {
	heldOutput
	forced atomic.Int64
}

func (o *flushOutput) NewWriter() Writer { return flushWriter{heldWriter{&o.heldOutput}, o} }

type flushWriter struct {
	heldWriter
	o *flushOutput
}

func (w flushWriter) Flush(_ context.Context, force bool) error {
	if force {
		w.o.forced.Add(1)
	}
	return nil
}

// While sources are held back (FlushWhenHeld), an idle worker forces its
// writers' flush, so a partly filled request does not wait for
// flush_interval; otherwise an idle worker's flush is not forced.
func TestFlushWhenHeld(t *testing.T) {
	for _, held := range []bool{true, false} {
		o := &flushOutput{}
		p := New(document.New(nil, func() int64 { return 1 }), []Output{o}, 1, 1<<20, slog.New(slog.DiscardHandler))
		var asked atomic.Int64
		p.FlushWhenHeld(func() bool { asked.Add(1); return held })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx, context.Background()) }()
		bt := record.NewBatch(&record.Source{}, nil)
		bt.Add(record.Record{Time: 1}, []byte("line"))
		require.NoError(t, p.Push(context.Background(), bt))
		require.Eventually(t, func() bool { return asked.Load() >= 3 }, 5*time.Second, time.Millisecond, "idle workers ask")
		if held {
			require.Positive(t, o.forced.Load(), "held back: an idle worker forces the flush")
		} else {
			require.Zero(t, o.forced.Load(), "not held back: flush_interval decides")
		}
		cancel()
		require.NoError(t, <-done)
		o.release()
	}
}

// idleOutput is a heldOutput whose writers count their flushes: FlushIdle
// calls, and idle turns (Flush without force).
type idleOutput struct {
	heldOutput
	idle, turns atomic.Int64
}

func (o *idleOutput) NewWriter() Writer { return idleWriter{heldWriter{&o.heldOutput}, o} }

type idleWriter struct {
	heldWriter
	o *idleOutput
}

func (w idleWriter) Flush(context.Context, bool) error { w.o.turns.Add(1); return nil }

func (w idleWriter) FlushIdle(context.Context) error { w.o.idle.Add(1); return nil }

// While a source waits for acknowledgements (AckWait), a worker that
// finds the ring empty offers its writers' requests (FlushIdle); before
// and after (AckWaitDone) it leaves them to flush_interval.
func TestAckWaitOffersIdleFlush(t *testing.T) {
	o := &idleOutput{}
	p := New(document.New(nil, func() int64 { return 1 }), []Output{o}, 1, 1<<20, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, context.Background()) }()
	push := func() {
		bt := record.NewBatch(&record.Source{}, nil)
		bt.Add(record.Record{Time: 1}, []byte("line"))
		require.NoError(t, p.Push(context.Background(), bt))
	}
	turns := func(n int64) {
		at := o.turns.Load()
		require.Eventually(t, func() bool { return o.turns.Load() >= at+n }, 5*time.Second, time.Millisecond)
	}

	push()
	turns(4)
	require.Zero(t, o.idle.Load(), "no source waits: flush_interval decides")

	p.AckWait()
	require.Eventually(t, func() bool { return o.idle.Load() > 0 }, 5*time.Second, time.Millisecond)
	push()
	turns(4)

	p.AckWaitDone()
	turns(2) // the turn that loaded the count before it fell may still offer
	offered := o.idle.Load()
	push()
	turns(4)
	require.Equal(t, offered, o.idle.Load(), "no source waits any more")
	cancel()
	require.NoError(t, <-done)
	o.release()
}
