package kafka

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicelog/sluice/agent/record"
)

// writer turns batches into Kafka records. It belongs to one pipeline
// worker.
type writer struct {
	o      *Output
	topics topicCache
	ks     []byte // scratch of the trackers' record.BatchIDs
}

// Write copies the documents of b into Kafka records and hands them to
// the producer, which batches and sends them; b is acknowledged once the
// brokers have acknowledged every record (tracker). Write blocks while
// the output holds buffer_bytes of documents, which pushes back on the
// pipeline when Kafka is slow or down.
//
// If ctx ends first, Write returns its error and b is never acknowledged:
// its lines are read again after a restart.
func (w *writer) Write(ctx context.Context, b *record.Batch) error {
	o := w.o
	select {
	case <-o.ready:
	case <-ctx.Done():
		b.Retain(1) // never dropped: b stays unacknowledged
		return ctx.Err()
	}
	// In source order, and before taking memory: a batch that waits for
	// memory must not be waited for by one that holds it.
	o.order.enter(b)
	defer o.order.leave(b)
	if err := o.order.wait(ctx, b); err != nil {
		b.Retain(1)
		return err
	}
	t := newTracker(o, b)
	if err := o.mem.Acquire(ctx, t.held); err != nil {
		b.Retain(1)
		return err
	}
	b.Retain(1)
	src := b.Source
	if src == nil {
		src = &emptySource
	}
	// The batch's ids at once, into t.ids, which the records' headers
	// point into.
	w.ks = t.ids.Compute(w.ks, src, b.Records)
	key := partitionKey(o.keyKind, b)
	// One clock reading for the batch's Kafka timestamps (franz-go reads
	// the clock for each record that has none).
	now := time.Now()
	for i := range b.Records {
		r := &b.Records[i]
		doc := t.addDoc(b.Doc(i))
		if len(doc) == 0 {
			o.stats.docsEmpty.Add(1)
			t.done(o)
			continue
		}
		ts := r.Time
		if ts == 0 {
			ts = now.UnixNano()
		}
		m := &t.msgs[i]
		*m = msg{t: t, rec: kgo.Record{Topic: w.topics.lookup(o.topic, src, r.Stream, ts), Key: key, Value: doc, Timestamp: now}}
		m.rec.Context = m
		if id := t.ids.At(i); id != nil {
			m.rec.Headers = t.header(id)
		}
		o.stats.pending.Add(1)
		o.client.Produce(ctx, &m.rec, promise)
	}
	t.done(o) // the writer's own hold
	return nil
}

// Flush has nothing to hand over: the producer sends what it holds after
// its linger (10ms) on its own.
func (w *writer) Flush(context.Context, bool) error { return nil }

var emptySource record.Source

// Skip tells the output that b will not come (pipeline.Skipper), so the
// source's next batch need not wait for it.
func (w *writer) Skip(b *record.Batch) { w.o.order.skip(b) }
