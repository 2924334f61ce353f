package otlp

import (
	"context"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
)

// recordOverhead bounds what a log record adds to its document's bytes
// in protobuf (tags, lengths, timestamps, severity, the id attribute).
const recordOverhead = 64 + record.IDLen

// scopeName is the instrumentation scope of every record.
const scopeName = "sluice"

// maxResources bounds the resources a writer keeps between requests; past
// it they are made again (pods come and go on a node).
const maxResources = 4096

var emptySource record.Source

// request is one export: the ExportLogsServiceRequest body, the batches
// it holds a reference on, and its records. Requests are reused
// (Output.requests), body and all.
type request struct {
	body    []byte
	batches []*record.Batch
	records int
	size    int // bytes so far, while it is built
	born    time.Time
}

// resource is a pod's Resource message, kept by its Kubernetes object,
// and the group of the current request that holds its records.
type resource struct {
	pb    []byte
	req   uint64 // the request whose group is group
	group int
}

// group is the records of one resource in the current request: the
// ScopeLogs.log_records fields, in the order they came.
type group struct {
	res  *resource
	recs []byte
}

// writer builds requests for one pipeline worker: records are encoded as
// they come into their resource's group, and the groups are put together
// into one body when the request is handed to the senders.
type writer struct {
	o      *Output
	req    *request
	reqs   uint64 // requests started
	enc    encoder
	shaper document.Shaper

	resources map[string]*resource
	groups    []group // the current request's: [:ngroups]
	ngroups   int

	ids record.BatchIDs // a batch's ids
	ks  []byte          // their computation's scratch
}

func newWriter(o *Output) *writer {
	return &writer{o: o, shaper: document.Shaper{Schema: document.SchemaOTel}, resources: map[string]*resource{}}
}

// Write encodes every record of b into the current request, handing the
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
	observed := uint64(time.Now().UnixNano())
	w.ks = w.ids.Compute(w.ks, src, b.Records)
	var g *group
	for i := range b.Records {
		doc := b.Doc(i)
		if len(doc) < 2 || doc[0] != '{' {
			o.stats.empty.Add(1)
			continue
		}
		if w.req != nil && w.req.size+len(doc)+recordOverhead > o.maxBytes {
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
		if g == nil || w.req.records == 0 {
			g = w.group(meta)
		}
		before := len(g.recs)
		w.enc.b = g.recs
		w.enc.logRecord(b, i, w.ids.At(i), observed)
		g.recs, w.enc.b = w.enc.b, nil
		req.records++
		req.size += len(g.recs) - before
		if req.size >= o.maxBytes {
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

// start returns the current request, a new one if there is none.
func (w *writer) start() *request {
	if w.req == nil {
		w.req = w.o.newRequest()
		w.reqs++
	}
	return w.req
}

// group returns meta's group in the current request, adding it the
// first time.
func (w *writer) group(meta []byte) *group {
	res := w.resources[string(meta)]
	if res == nil {
		res = &resource{pb: w.enc.resource(&w.shaper, meta)}
		w.resources[string(meta)] = res
	}
	if res.req == w.reqs && res.group < w.ngroups {
		return &w.groups[res.group]
	}
	if w.ngroups == len(w.groups) {
		w.groups = append(w.groups, group{})
	}
	res.req, res.group = w.reqs, w.ngroups
	g := &w.groups[w.ngroups]
	w.ngroups++
	g.res, g.recs = res, g.recs[:0]
	w.req.size += fieldSize(len(res.pb)) + len(scopeField) + 16
	return g
}

// assemble appends the groups to the request body and empties them: one
// ResourceLogs per resource, in the order they came, each with one
// ScopeLogs. (Appended: a request whose hand-over was cut short by ctx
// may take more records, and ResourceLogs is a repeated field.)
func (w *writer) assemble(req *request) {
	body := req.body
	for i := range w.ngroups {
		g := &w.groups[i]
		scopeLogs := len(scopeField) + len(g.recs)
		rl := fieldSize(len(g.res.pb)) + fieldSize(scopeLogs)
		body = protowire.AppendTag(body, fieldRequestResourceLogs, protowire.BytesType)
		body = protowire.AppendVarint(body, uint64(rl))
		body = appendField(body, fieldResourceLogsResource, g.res.pb)
		body = protowire.AppendTag(body, fieldResourceLogsScopeLogs, protowire.BytesType)
		body = protowire.AppendVarint(body, uint64(scopeLogs))
		body = append(append(body, scopeField...), g.recs...)
		g.res = nil
	}
	req.body = body
	w.ngroups = 0
	if len(w.resources) > maxResources {
		clear(w.resources)
	}
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

// FlushIdle hands the current request over, however little it holds,
// if no request of the output is handed over and unfinished (see
// pipeline.IdleFlusher): at most one writer's request goes this way at a
// time, and none while the collector has one to answer.
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
	if w.ngroups > 0 {
		w.assemble(w.req)
	}
	select {
	case w.o.queue <- w.req:
		w.req = nil
		return nil
	case <-ctx.Done():
		w.o.handed.Add(-1)
		return ctx.Err()
	}
}
