package pipeline

import (
	"context"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
)

// Output is a destination for records. The runtime calls NewWriter once
// per worker before Run, then Run, which owns the output's background work
// (senders, retries) until ctx ends.
type Output interface {
	Name() string
	NewWriter() Writer
	// Run returns when ctx is done and every request it started has
	// finished or been abandoned. Batches it abandons are never acked, so
	// their lines are read again after a restart.
	Run(ctx context.Context) error
}

// Writer is owned by one worker goroutine and is never used concurrently.
type Writer interface {
	// Write takes a batch whose documents are encoded (b.Doc(i)). The
	// documents are valid only during the call (the worker reuses their
	// buffer for the next batch): a writer copies what it keeps. A writer
	// that keeps a reference to the batch past the call calls b.Retain(1) first and
	// b.Done() once the batch's records are delivered for good (stored,
	// duplicates, or dead-lettered). It may block to push back on the
	// pipeline when the output is behind; it returns early if ctx ends.
	Write(ctx context.Context, b *record.Batch) error
	// Flush hands over buffered data: all of it when force is set,
	// otherwise only data older than the output's flush interval.
	Flush(ctx context.Context, force bool) error
}

// A Skipper is a Writer that is told of each batch it will not be given:
// its route does not take it, or enrichment or the filters left no
// record. A writer that hands a source's batches on in order (kafka)
// then need not wait for them.
type Skipper interface {
	Skip(b *record.Batch)
}

// An IdleFlusher is a Writer that can hand its partly filled request over
// only while its output has no other request handed over and unfinished
// (FlushIdle). The workers call it when sources wait for acknowledgements
// and the ring is empty: the request may be what holds those
// acknowledgements up, and nothing would come to fill it before
// bulk.flush_interval. A request already being sent lets the sources go
// on when it is answered, so the output adds none then, and a store that
// is the bottleneck gets no more, smaller requests.
type IdleFlusher interface {
	FlushIdle(ctx context.Context) error
}

// A DirectWriter is a Writer that can encode a batch's documents itself,
// straight into what it sends, instead of copying each one from b.Docs
// (a copy of every document into memory that is cold by then). A worker
// offers it a batch not yet encoded when it is the pipeline's only writer
// and its route takes the batch, no transform runs and nobody taps the
// documents. WriteDirect either takes b as Write would, with the same
// bytes as Write of b encoded by enc (done true), or declines having
// done nothing (done false: its documents are rewritten on the way, say),
// and the worker encodes b and calls Write.
type DirectWriter interface {
	WriteDirect(ctx context.Context, b *record.Batch, enc *document.Encoder) (done bool, err error)
}
