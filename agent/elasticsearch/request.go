package elasticsearch

import (
	"sync"
	"time"

	"github.com/sluicelog/sluice/agent/budget"
	"github.com/sluicelog/sluice/agent/record"
)

// item is one document of a request: where its action line starts in the
// body (it ends where the next item starts) and which batch it came from.
type item struct {
	start int32
	batch int32 // index into request.batches
	rec   int32 // index into the batch's Records
}

// request is one bulk request being filled by a writer, then owned by the
// sender that delivers it. It holds one reference (Retain) on every batch
// it has items of, dropped by finish once every item is delivered for good.
type request struct {
	body    []byte
	items   []item
	batches []*record.Batch
	born    time.Time // when the first item went in, for the flush interval

	// stage says what the documents are: the records' own documents, their
	// rescue copies, or dead letters (rescue.go). A rescue or dead-letter
	// request shares the batches of the request it came from and holds no
	// reference of its own.
	stage stage
	// reasons[k], in a rescue or dead-letter request, is why item k's
	// original document was refused.
	reasons []string
}

// doc returns the bytes of item i: action line and document, each ending
// in a newline. They stay valid until the request goes back to the pool.
func (r *request) doc(i int32) []byte {
	end := int32(len(r.body))
	if int(i)+1 < len(r.items) {
		end = r.items[i+1].start
	}
	return r.body[r.items[i].start:end]
}

// source returns the source of item i.
func (r *request) source(i int32) *record.Source {
	return r.batches[r.items[i].batch].Source
}

// requestPool keeps finished requests, bodies and all, for the next ones.
// Unlike a sync.Pool it is not emptied by every garbage collection: a
// body is allocated once at bulk.max_bytes and reused for the life of the
// output, instead of being allocated and grown again by append after each
// GC (that churn, several times the body size per body, was what drove
// the heap, and so the RSS, up). It needs no bound of its own: at most
// one request per writer and bulk.workers being
// delivered (each with at most one rescue or dead-letter request) exist
// at once, and only those come back to it.
type requestPool struct {
	mu   sync.Mutex
	free []*request
	made int // requests ever allocated: bounded, as said above
}

func (p *requestPool) get() *request {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.free)
	if n == 0 {
		p.made++
		return &request{}
	}
	r := p.free[n-1]
	p.free[n-1] = nil
	p.free = p.free[:n-1]
	return r
}

func (p *requestPool) put(r *request) {
	p.mu.Lock()
	p.free = append(p.free, r)
	p.mu.Unlock()
}

func (o *Output) getRequest() *request { return o.requests.get() }

// maxPresized bounds the body allocated up front: a max_bytes of hundreds
// of MiB should not cost that much per request before any document comes.
// Bodies beyond it grow by append, once, and are kept.
const maxPresized = 16 << 20

// newBody gives r an empty body of capacity bulk.max_bytes (at most
// maxPresized), the most a writer puts in one unless a single document is
// larger: it does not grow by append.
func (o *Output) newBody(r *request) {
	if n := min(o.maxBytes, maxPresized); cap(r.body) < n {
		r.body = make([]byte, 0, n)
	}
}

// keepBody says whether a body of capacity c goes back to the pool: not
// one that a document far over max_bytes grew.
func (o *Output) keepBody(c int) bool {
	return c <= o.maxBytes+o.maxBytes/4
}

// scratchKeep is the capacity up to which a sender keeps a scratch buffer
// (a copy of retried items, a response, a gzipped body) for the next
// request: enough for one full body, and not 16 MiB per buffer when
// max_bytes is small.
func (o *Output) scratchKeep() int {
	return min(max(o.maxBytes+o.maxBytes/4, 1<<20), 16<<20)
}

// BufferBytes bounds the memory the output keeps outside the batches when
// writers pipeline workers write to it: one body per writer, and per
// sender the body it delivers, a rescue or dead-letter body, the copy of
// items being retried (at most a body) and its connection's write buffer
// (writeBufferSize). Bodies are kept up to 1.25 × max_bytes (keepBody).
// Not counted: the response buffer (a few bytes per item under
// filter_path) and gzip's buffer with bulk.compress. The runtime takes it
// out of memory_limit before the batches get their share.
func (o *Output) BufferBytes(writers int) int64 {
	return budget.OutputBytes(int64(o.maxBytes), writers, o.workers)
}

// writeBufferSize is each connection's write buffer: a request's line and
// headers (budget.WriteBufferBytes). Bodies never pass through it: net/http
// flushes the headers first and hands the body to bodyConn.ReadFrom, which
// writes it from its own slice in one write (a TLS connection copies it in
// pieces).
const writeBufferSize = int(budget.WriteBufferBytes)

// InFlightBytes is what the bodies being filled and sent at once hold when
// writers pipeline workers write to it: one per writer and one per sender.
// Batches need at least this much of memory_limit, or writers wait for
// records the bodies in flight keep from being acknowledged.
func (o *Output) InFlightBytes(writers int) int64 {
	return budget.InFlightBytes(int64(o.maxBytes), writers, o.workers)
}

// finish acknowledges the request's share of each batch and recycles it.
func (o *Output) finish(r *request) {
	for _, b := range r.batches {
		b.Done()
	}
	o.putRequest(r)
}

// putRequest recycles r without touching its batches.
func (o *Output) putRequest(r *request) {
	clear(r.batches)
	r.batches = r.batches[:0]
	r.items = r.items[:0]
	r.body = r.body[:0]
	r.born = time.Time{}
	r.stage = stagePrimary
	clear(r.reasons)
	r.reasons = r.reasons[:0]
	if !o.keepBody(cap(r.body)) {
		r.body = nil
	}
	o.requests.put(r)
}
