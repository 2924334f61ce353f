// Package console is the output that writes each document as one line of
// NDJSON to a writer (stdout): the embedded default of `make run`, and a
// way to see what would be shipped.
package console

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/sluicelog/sluice/agent/pipeline"
	"github.com/sluicelog/sluice/agent/record"
)

// Output writes documents to w. Each batch goes out in one write, so the
// lines of concurrent workers never interleave.
type Output struct {
	name string
	mu   sync.Mutex
	w    io.Writer

	docs, bytes, failed atomic.Int64 // see Stats
}

// Stats counts what the output wrote.
type Stats struct {
	Documents int64 // documents written
	Bytes     int64 // bytes written, newlines included
	Failed    int64 // documents whose write failed
}

// Stats returns a snapshot of the counters.
func (o *Output) Stats() Stats {
	return Stats{Documents: o.docs.Load(), Bytes: o.bytes.Load(), Failed: o.failed.Load()}
}

// New returns a console output writing to w.
func New(name string, w io.Writer) *Output { return &Output{name: name, w: w} }

// Name implements pipeline.Output.
func (o *Output) Name() string { return o.name }

// Run implements pipeline.Output; the console has no background work.
func (o *Output) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// NewWriter implements pipeline.Output.
func (o *Output) NewWriter() pipeline.Writer { return &writer{o: o} }

type writer struct {
	o   *Output
	buf []byte
}

// Write writes the batch at once; once written it is delivered, so the
// batch is not retained.
func (w *writer) Write(_ context.Context, b *record.Batch) error {
	w.buf = w.buf[:0]
	for i := range b.Records {
		w.buf = append(w.buf, b.Doc(i)...)
		w.buf = append(w.buf, '\n')
	}
	w.o.mu.Lock()
	_, err := w.o.w.Write(w.buf)
	w.o.mu.Unlock()
	if err != nil {
		w.o.failed.Add(int64(len(b.Records)))
		return fmt.Errorf("console output %s: %w", w.o.name, err)
	}
	w.o.docs.Add(int64(len(b.Records)))
	w.o.bytes.Add(int64(len(w.buf)))
	return nil
}

func (w *writer) Flush(context.Context, bool) error { return nil }
