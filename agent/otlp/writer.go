package otlp

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
)

// recordOverhead bounds what a log record adds to its document's bytes
// in protobuf (tags, lengths, timestamps, severity, the id attribute).
const recordOverhead = 64 + record.IDLen

// scopeName is the instrumentation scope of every record.
const scopeName = "sluice"

var emptySource record.Source

// request is one export: records grouped by resource (one ResourceLogs
// per pod, keyed by its Kubernetes object), the batches it holds a
// reference on, and the estimated protobuf size.
type request struct {
	logs    plog.Logs
	groups  map[string]plog.LogRecordSlice
	batches []*record.Batch
	records int
	size    int
	born    time.Time
}

// writer builds requests for one pipeline worker.
type writer struct {
	o      *Output
	req    *request
	mp     mapper
	shaper document.Shaper
}

func newWriter(o *Output) *writer {
	return &writer{o: o, shaper: document.Shaper{Schema: document.SchemaOTel}}
}

// Write maps every record of b into the current request, handing the
// request to the senders whenever it reaches bulk.max_bytes (which blocks
// while they are all busy). Each request holding part of b holds one
// reference on it. If ctx ends part way, Write returns ctx.Err() and
// keeps a reference on b that is never dropped: b is never acknowledged,
// so its lines are read again after a restart.
func (w *writer) Write(ctx context.Context, b *record.Batch) error {
	o := w.o
	src := b.Source
	if src == nil {
		src = &emptySource
	}
	meta := b.Kubernetes()
	observed := pcommon.NewTimestampFromTime(time.Now())
	for i := range b.Records {
		doc := b.Doc(i)
		if len(doc) < 2 || doc[0] != '{' {
			o.stats.empty.Add(1)
			continue
		}
		size := len(doc) + recordOverhead
		if w.req != nil && w.req.size+size > o.maxBytes {
			if err := w.handOver(ctx); err != nil {
				b.Retain(1) // never dropped: b stays unacknowledged
				return err
			}
		}
		req := w.start()
		if n := len(req.batches); n == 0 || req.batches[n-1] != b {
			b.Retain(1)
			req.batches = append(req.batches, b)
		}
		w.mp.mapRecord(w.group(meta).AppendEmpty(), b, src, i, observed)
		req.records++
		req.size += size
		if req.size >= o.maxBytes {
			if err := w.handOver(ctx); err != nil {
				if i+1 < len(b.Records) {
					b.Retain(1) // the rest of b is not mapped: never ack it
				}
				return err
			}
		}
	}
	return nil
}

// start returns the current request, a new one if there is none.
func (w *writer) start() *request {
	if w.req == nil {
		w.req = &request{logs: plog.NewLogs(), groups: map[string]plog.LogRecordSlice{}, born: time.Now()}
	}
	return w.req
}

// group returns the log records of meta's resource in the current
// request, adding the resource the first time.
func (w *writer) group(meta []byte) plog.LogRecordSlice {
	req := w.req
	if recs, ok := req.groups[string(meta)]; ok {
		return recs
	}
	rl := req.logs.ResourceLogs().AppendEmpty()
	w.mp.resourceAttrs(rl.Resource().Attributes(), &w.shaper, meta)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(scopeName)
	recs := sl.LogRecords()
	req.groups[string(meta)] = recs
	req.size += len(meta) + 16
	return recs
}

// Flush hands the current request over if force is set or its oldest
// record waited bulk.flush_interval. It blocks while all senders are
// busy; if ctx ends first the request stays for a later Flush.
func (w *writer) Flush(ctx context.Context, force bool) error {
	if w.req == nil {
		return nil
	}
	if !force && time.Since(w.req.born) < w.o.flushInterval {
		return nil
	}
	return w.handOver(ctx)
}

func (w *writer) handOver(ctx context.Context) error {
	if w.req == nil {
		return nil
	}
	select {
	case w.o.queue <- w.req:
		w.req = nil
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
