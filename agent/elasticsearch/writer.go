package elasticsearch

import (
	"context"
	"math"
	"time"

	"github.com/sluicelog/sluice/agent/record"
)

// actionOverhead bounds the bytes an action line and the id field add to a
// document, besides the index name.
const actionOverhead = 64 + 2*record.IDLen

var emptySource record.Source

// writer encodes batches into bulk requests. It belongs to one pipeline
// worker and is never shared; the request it fills is its own until
// handOver passes it to the senders.
type writer struct {
	o     *Output
	req   *request
	index indexCache
	ds    dsCache
	shape shapeCache
	id    []byte // the current document's id, nil for none
	// ids holds the ids of the whole batch being written, computed at
	// once (record.BatchIDs: a numbered run for syslog, sixteen or two
	// hashes at a time for files); ks is that computation's scratch.
	ids record.BatchIDs
	ks  []byte
}

// Write appends an action line and the document of every record of b to
// the current request, handing the request to the senders whenever it
// reaches bulk.max_bytes; that blocks while all senders are busy. Each
// request that holds part of b holds one reference on it, dropped once
// that part is delivered for good.
//
// If ctx ends part way through b, Write returns ctx.Err() and keeps a
// reference on b that is never dropped: b is then never acknowledged, so
// its lines are read again after a restart.
func (w *writer) Write(ctx context.Context, b *record.Batch) error {
	o := w.o
	src := b.Source
	if src == nil {
		src = &emptySource
	}
	if o.ready != nil {
		select {
		case <-o.ready:
		case <-ctx.Done():
			b.Retain(1) // never dropped: b stays unacknowledged
			return ctx.Err()
		}
	}
	if o.ids {
		w.ks = w.ids.Compute(w.ks, src, b.Records)
	}
	var now int64
	for i := range b.Records {
		index, doc, ok := w.place(b, src, i, &now)
		if !ok {
			continue
		}
		if w.req != nil && len(w.req.body)+len(doc)+len(index)+actionOverhead > o.maxBytes {
			if err := w.handOver(ctx); err != nil {
				b.Retain(1) // never dropped: b stays unacknowledged
				return err
			}
		}
		if w.req == nil {
			w.req = o.getRequest()
			o.newBody(w.req)
			w.req.born = time.Now()
		}
		req := w.req
		if len(req.body) > math.MaxInt32-len(doc)-len(index)-actionOverhead {
			panic("BUG: elasticsearch: bulk body over 2GiB despite max_bytes")
		}
		if n := len(req.batches); n == 0 || req.batches[n-1] != b {
			b.Retain(1)
			req.batches = append(req.batches, b)
		}
		req.items = append(req.items, item{start: int32(len(req.body)), batch: int32(len(req.batches) - 1), rec: int32(i)})
		req.body = appendAction(req.body, index, w.id)
		req.body = appendDoc(req.body, doc, o.idKey, w.id)
		if len(req.body) >= o.maxBytes {
			if err := w.handOver(ctx); err != nil {
				if i+1 < len(b.Records) {
					b.Retain(1) // the rest of b is not encoded: never ack it
				}
				return err
			}
		}
	}
	return nil
}

// place returns the index or data stream of record i of b, its document
// in the output's schema, and sets w.id to its id; ok is false for an
// empty document, which is skipped. now is the clock read for records
// without a time, once per batch.
func (w *writer) place(b *record.Batch, src *record.Source, i int, now *int64) (index, doc []byte, ok bool) {
	o := w.o
	r := &b.Records[i]
	doc = trimDoc(b.Doc(i))
	if len(doc) == 0 {
		o.skipEmpty(src)
		return nil, nil, false
	}
	ts := r.Time
	if ts == 0 {
		if *now == 0 {
			*now = time.Now().UnixNano()
		}
		ts = *now
	}
	meta := b.Kubernetes()
	if o.useStreams {
		index = w.ds.lookup(o.conv.streams, src, meta)
	} else {
		index = w.index.lookup(o.index, src, r.Stream, ts)
	}
	if o.conv.shaping() {
		doc = o.shape(&w.shape, meta, doc, index, o.useStreams || o.fixedDS)
	}
	w.id = nil
	if o.ids {
		w.id = w.ids.At(i)
	}
	return index, doc, true
}

// Flush hands the current request to the senders if force is set or its
// oldest document waited bulk.flush_interval. It blocks while all senders
// are busy and returns ctx.Err() if ctx ends first; the request then stays
// with the writer for a later Flush.
func (w *writer) Flush(ctx context.Context, force bool) error {
	if w.req == nil {
		return nil
	}
	if !force && time.Since(w.req.born) < w.o.flushInterval {
		return nil
	}
	return w.handOver(ctx)
}

// FlushIdle hands the current request over, however little it holds,
// if no request of the output is handed over and unfinished: the
// pipeline calls it when its sources wait for acknowledgements that this
// request may be holding up, and nothing else would fill it. While a
// request is being sent its answer lets the sources go on, and the one
// being filled grows meanwhile, so nothing is added to a busy store; at
// most one writer's request goes this way at a time.
func (w *writer) FlushIdle(ctx context.Context) error {
	if w.req == nil || !w.o.handed.CompareAndSwap(0, 1) {
		return nil
	}
	return w.send(ctx)
}

func (w *writer) handOver(ctx context.Context) error {
	if w.req == nil {
		return nil
	}
	w.o.handed.Add(1)
	return w.send(ctx)
}

// send passes the current request, counted in o.handed already, to a
// sender; if ctx ends first it stays with the writer, uncounted.
func (w *writer) send(ctx context.Context) error {
	select {
	case w.o.queue <- w.req:
		w.req = nil
		return nil
	case <-ctx.Done():
		w.o.handed.Add(-1)
		return ctx.Err()
	}
}
