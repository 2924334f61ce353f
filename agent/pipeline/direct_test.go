package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/tap"
	"github.com/sluicelog/sluice/agent/transform"
)

// directOutput encodes documents itself when a worker lets it
// (DirectWriter), or takes them from b.Docs; it records which way each
// document came. With decline set it turns every direct batch down.
type directOutput struct {
	decline bool
	mu      sync.Mutex
	docs    []string
	via     []string
}

func (o *directOutput) Name() string                  { return "direct" }
func (o *directOutput) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (o *directOutput) NewWriter() Writer             { return directWriter{o} }

func (o *directOutput) got() (docs, via []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.docs...), append([]string(nil), o.via...)
}

type directWriter struct{ o *directOutput }

func (w directWriter) Write(_ context.Context, b *record.Batch) error {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	for i := range b.Records {
		w.o.docs = append(w.o.docs, string(b.Doc(i)))
		w.o.via = append(w.o.via, "write")
	}
	return nil
}

func (w directWriter) WriteDirect(_ context.Context, b *record.Batch, enc *document.Encoder) (bool, error) {
	if w.o.decline {
		return false, nil
	}
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	be := enc.Batch(b)
	for i := range b.Records {
		w.o.docs = append(w.o.docs, string(be.Append(nil, &b.Records[i])))
		w.o.via = append(w.o.via, "direct")
	}
	return true, nil
}

func (directWriter) Flush(context.Context, bool) error { return nil }

// TestDirectWriterOnlyWhenNothingElseNeedsDocs: a worker lets its only
// writer encode a batch itself when no transform runs, nobody taps the
// documents and the batch was not encoded already; otherwise, or when the
// writer declines, the writer gets the batch encoded. Either way the
// documents are the same, and every batch is acknowledged.
func TestDirectWriterOnlyWhenNothingElseNeedsDocs(t *testing.T) {
	const want = `{"@timestamp":"1970-01-01T00:00:00.000000001Z","log":"x"}`
	chain, err := transform.New(parseFilters(t, `  - { type: drop, field: log, pattern: "^never$" }
`, "  - { name: o, type: console }\n").Transforms, transform.Options{})
	require.NoError(t, err)
	for _, c := range []struct {
		name    string
		decline bool
		chain   *transform.Chain
		second  bool // a second output
		tap     bool
		encoded bool
		via     string
	}{
		{name: "plain", via: "direct"},
		{name: "declined", decline: true, via: "write"},
		{name: "transforms", chain: chain, via: "write"},
		{name: "two outputs", second: true, via: "write"},
		{name: "tapped", tap: true, via: "write"},
		{name: "encoded", encoded: true, via: "write"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := &directOutput{decline: c.decline}
			outputs := []Output{o}
			held := &heldOutput{}
			if c.second {
				outputs = append(outputs, held)
			}
			p := New(document.New(nil, func() int64 { return 1 }), outputs, 1, 1<<20, slog.New(slog.DiscardHandler))
			p.SetTransforms(c.chain)
			if c.tap {
				sub, err := p.Tap().Subscribe(tap.Filter{})
				require.NoError(t, err)
				defer sub.Unsubscribe()
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx, context.Background()) }()
			acked := make(chan struct{}, 1)
			bt := record.NewBatch(&record.Source{Input: "in"}, record.AckerFunc(func(*record.Batch) { acked <- struct{}{} }))
			bt.Add(record.Record{Time: 1}, []byte("x"))
			if c.encoded {
				bt.Docs = append(bt.Docs, want...)
				bt.DocEnds = append(bt.DocEnds, int32(len(bt.Docs)))
			}
			require.NoError(t, p.Push(context.Background(), bt))
			require.Eventually(t, func() bool { d, _ := o.got(); return len(d) == 1 }, 5*time.Second, time.Millisecond)
			docs, via := o.got()
			require.Equal(t, []string{want}, docs)
			require.Equal(t, []string{c.via}, via)
			if c.second {
				require.Eventually(t, func() bool { held.mu.Lock(); defer held.mu.Unlock(); return len(held.docs) == 1 }, 5*time.Second, time.Millisecond)
				held.release()
			}
			<-acked
			cancel()
			require.NoError(t, <-done)
		})
	}
}
