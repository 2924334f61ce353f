package elasticsearch

import (
	"context"
	"math"
	"time"

	"github.com/sluicelog/sluice/agent/document"
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
	doc   []byte // scratch for one document (WriteDirect)
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
		index, doc, id, ok := w.place(b, src, i, &now)
		if !ok {
			continue
		}
		if err := w.add(ctx, b, i, index, doc, id); err != nil {
			return err
		}
	}
	return nil
}

// add appends the action line and document doc of record i of b to the
// current request, handing it over first if doc would take it past
// bulk.max_bytes and after if it reached it. On error (ctx ended) b keeps
// a reference that is never dropped, unless i is its last record and is
// in the request.
func (w *writer) add(ctx context.Context, b *record.Batch, i int, index, doc, id []byte) error {
	o := w.o
	if w.req != nil && len(w.req.body)+len(doc)+len(index)+actionOverhead > o.maxBytes {
		if err := w.handOver(ctx); err != nil {
			b.Retain(1) // never dropped: b stays unacknowledged
			return err
		}
	}
	w.open()
	req := w.req
	if len(req.body) > math.MaxInt32-len(doc)-len(index)-actionOverhead {
		panic("BUG: elasticsearch: bulk body over 2GiB despite max_bytes")
	}
	start := len(req.body)
	req.body = appendAction(req.body, index, id)
	req.body = appendDoc(req.body, doc, o.idKey, id)
	return w.placed(ctx, b, i, start)
}

// open gives the writer a request if it has none.
func (w *writer) open() {
	if w.req == nil {
		w.req = w.o.getRequest()
		w.o.newBody(w.req)
		w.req.born = time.Now()
	}
}

// placed records that record i of b went into the current request's body
// from start on, and hands the request over if it reached
// bulk.max_bytes.
func (w *writer) placed(ctx context.Context, b *record.Batch, i, start int) error {
	req := w.req
	if n := len(req.batches); n == 0 || req.batches[n-1] != b {
		b.Retain(1)
		req.batches = append(req.batches, b)
	}
	req.items = append(req.items, item{start: int32(start), batch: int32(len(req.batches) - 1), rec: int32(i)})
	if len(req.body) >= w.o.maxBytes {
		if err := w.handOver(ctx); err != nil {
			if i+1 < len(b.Records) {
				b.Retain(1) // the rest of b is not encoded: never ack it
			}
			return err
		}
	}
	return nil
}

// WriteDirect is Write of b with its documents encoded by enc straight
// into the request body, after their action lines, instead of copied from
// b.Docs (pipeline.DirectWriter): the body's bytes are Write's. It
// declines when the conventions rewrite b's documents (shape).
//
// A document is encoded before its size is known, so one that takes the
// body past bulk.max_bytes is moved into the next body, where Write would
// have put it. One that might not fit the body's capacity (a long line
// whose escaping may grow it several times) is encoded into the writer's
// scratch and copied instead, so that the body is never grown by append.
func (w *writer) WriteDirect(ctx context.Context, b *record.Batch, enc *document.Encoder) (bool, error) {
	o := w.o
	if o.ready != nil {
		select {
		case <-o.ready:
		case <-ctx.Done():
			b.Retain(1) // never dropped: b stays unacknowledged
			return true, ctx.Err()
		}
	}
	if !o.keepsDocs(&w.shape, b.Kubernetes()) {
		return false, nil
	}
	src := b.Source
	if src == nil {
		src = &emptySource
	}
	if o.ids {
		w.ks = w.ids.Compute(w.ks, src, b.Records)
	}
	be := enc.Batch(b)
	meta := len(b.Kubernetes())
	var now int64
	for i := range b.Records {
		r := &b.Records[i]
		index := w.target(b, src, i, &now)
		id := w.recordID(i)
		need := len(index) + actionOverhead + len(o.idKey) + meta + len(r.Extra) + 12*len(r.Line) + 512
		if w.req == nil || cap(w.req.body)-len(w.req.body) < need {
			w.doc = be.Append(w.doc[:0], r)
			if err := w.add(ctx, b, i, index, w.doc, id); err != nil {
				return true, err
			}
			continue
		}
		req := w.req
		start := len(req.body)
		req.body = appendAction(req.body, index, id)
		splice := len(o.idKey) > 0 && len(id) > 0
		if splice {
			// appendDoc's splice: the id member first, then the
			// document's own members after a comma where its '{' was.
			req.body = appendIDMember(req.body, o.idKey, id)
		}
		docAt := len(req.body)
		req.body = be.Append(req.body, r)
		docLen := len(req.body) - docAt
		if splice {
			req.body[docAt] = ','
		}
		req.body = append(req.body, '\n')
		if len(req.body) > math.MaxInt32 {
			panic("BUG: elasticsearch: bulk body over 2GiB despite max_bytes")
		}
		if start+docLen+len(index)+actionOverhead > o.maxBytes {
			// Write would have handed the body over before this document.
			w.doc = append(w.doc[:0], req.body[start:]...)
			req.body = req.body[:start]
			if err := w.handOver(ctx); err != nil {
				b.Retain(1) // never dropped: b stays unacknowledged
				return true, err
			}
			w.open()
			req = w.req
			start = len(req.body)
			req.body = append(req.body, w.doc...)
		}
		if err := w.placed(ctx, b, i, start); err != nil {
			return true, err
		}
	}
	return true, nil
}

// place returns the index or data stream of record i of b, its document
// in the output's schema, and its id; ok is false for an
// empty document, which is skipped. now is the clock read for records
// without a time, once per batch.
func (w *writer) place(b *record.Batch, src *record.Source, i int, now *int64) (index, doc, id []byte, ok bool) {
	o := w.o
	doc = trimDoc(b.Doc(i))
	if len(doc) == 0 {
		o.skipEmpty(src)
		return nil, nil, nil, false
	}
	index = w.target(b, src, i, now)
	if o.conv.shaping() {
		doc = o.shape(&w.shape, b.Kubernetes(), doc, index, o.useStreams || o.fixedDS)
	}
	return index, doc, w.recordID(i), true
}

// target returns the index or data stream of record i of b.
func (w *writer) target(b *record.Batch, src *record.Source, i int, now *int64) []byte {
	o := w.o
	r := &b.Records[i]
	ts := r.Time
	if ts == 0 {
		if *now == 0 {
			*now = time.Now().UnixNano()
		}
		ts = *now
	}
	if o.useStreams {
		return w.ds.lookup(o.conv.streams, src, b.Kubernetes())
	}
	return w.index.lookup(o.index, src, r.Stream, ts)
}

// recordID returns the id of record i of the batch being written, nil
// without ids or for a record without one.
func (w *writer) recordID(i int) []byte {
	if !w.o.ids {
		return nil
	}
	return w.ids.At(i)
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
