package elasticsearch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/sluicelog/sluice/internal/httpbody"
)

// bulkPath is where bodies are sent; the transport puts the server's
// scheme, host and path prefix in front. filter_path (honoured by every
// Elasticsearch and OpenSearch API) trims each item of the answer to its
// status and error, `{"create":{"status":201}}`, which is all
// parseBulkResponse reads: about a seventh of the bytes to receive and
// scan, and less for the server to write.
//
// items.*.failure_store is kept too: since 8.19 / 9.1 a document that
// failed ingestion into a data stream with the failure store on is
// answered 201 with "failure_store":"used"
// (https://www.elastic.co/docs/manage-data/data-store/data-streams/failure-store).
const bulkPath = "/_bulk?filter_path=errors,items.*.error,items.*.status,items.*.failure_store"

// maxResponseBytes bounds how much of a bulk response is read; a longer
// one fails to parse and the request is sent again.
const maxResponseBytes = 256 << 20

// span is the part of a request that one HTTP request carries: the item
// range [lo, hi), or the items listed in idx when they are not contiguous
// (the ones a response asked us to retry).
type span struct {
	lo, hi  int32
	idx     []int32
	attempt int // tries of this span so far that asked for a retry
}

func (p *span) len() int {
	if p.idx != nil {
		return len(p.idx)
	}
	return int(p.hi - p.lo)
}

// at returns the request item of the span's k-th document.
func (p *span) at(k int) int32 {
	if p.idx != nil {
		return p.idx[k]
	}
	return p.lo + int32(k)
}

func (p *span) halves() (first, second span) {
	if p.idx != nil {
		m := len(p.idx) / 2
		return span{idx: p.idx[:m]}, span{idx: p.idx[m:]}
	}
	m := p.lo + (p.hi-p.lo)/2
	return span{lo: p.lo, hi: m}, span{lo: m, hi: p.hi}
}

// sender delivers requests one at a time. Each of the output's
// bulk.workers sender goroutines has its own, with its own buffers.
type sender struct {
	o        *Output
	todo     []span    // stack of spans of the current request still to send
	outcomes []outcome // scratch for parseBulkResponse
	sub      []byte    // body of a span whose items are not contiguous
	zbuf     bytes.Buffer
	gz       *gzip.Writer
	resp     bytes.Buffer
	refused  []refusal // documents of the current stage refused for good
	scratch  []byte    // one rescue or dead-letter document
	shape    shapeCache
}

func newSender(o *Output) *sender {
	s := &sender{o: o}
	if o.compress {
		s.gz, _ = gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level never fails
	}
	return s
}

// run delivers requests from the queue until ctx ends.
func (s *sender) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-s.o.queue:
			s.deliver(ctx, req)
		}
	}
}

// deliver sends req until every document in it is stored, a duplicate,
// rescued, dead-lettered or failed for good, then acknowledges its
// batches. If ctx ends first the request is abandoned: its batches are
// never acknowledged, so their lines are read again after a restart (at
// least once).
func (s *sender) deliver(ctx context.Context, req *request) {
	o := s.o
	// After finish has acknowledged the batches: a worker that then sees
	// nothing handed over knows that their sources have been told.
	defer o.handed.Add(-1)
	o.stats.flights.Add(1)
	defer o.stats.flights.Add(-1)
	o.health.pendingDocs.Add(int64(len(req.items)))
	defer o.health.pendingDocs.Add(-int64(len(req.items)))
	defer s.trim()
	s.refused = s.refused[:0]
	if s.settle(ctx, req) {
		o.finish(req)
	}
}

// settle sends req's documents until each is stored, a duplicate or
// refused for good; the refused ones go on, as one request, to the next
// stage (rescue, then dead letter). It returns false when ctx ended.
func (s *sender) settle(ctx context.Context, req *request) bool {
	s.todo = append(s.todo[:0], span{lo: 0, hi: int32(len(req.items))})
	for len(s.todo) > 0 {
		p := s.todo[len(s.todo)-1]
		s.todo = s.todo[:len(s.todo)-1]
		if !s.try(ctx, req, p) {
			return false
		}
	}
	if len(s.refused) == 0 {
		return true
	}
	next := s.nextStage(req) // takes s.refused
	ok := s.settle(ctx, next)
	s.o.putRequest(next) // its batches are borrowed from req: no reference to drop
	return ok
}

// trim lets go of buffers that one huge request or answer grew, so that
// what a sender keeps stays within its share of BufferBytes.
func (s *sender) trim() {
	keep := s.o.scratchKeep()
	if s.resp.Cap() > keep {
		s.resp = bytes.Buffer{}
	}
	if s.zbuf.Cap() > keep {
		s.zbuf = bytes.Buffer{}
	}
	if cap(s.sub) > keep {
		s.sub = nil
	}
}

// try sends span p of req once and settles what the answer allows: stored,
// duplicate and refused documents are done; what must be sent again is
// pushed on s.todo, after a backoff wait. It returns false when ctx ended.
func (s *sender) try(ctx context.Context, req *request, p span) bool {
	o := s.o
	status, header, err := s.send(ctx, s.bodyOf(req, &p))
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		o.stats.requestRetries.Add(1)
		if !o.requestFailed(requestCause(0, err), 0, err, nil) {
			o.warnRetry("bulk request failed; sending it again", p, "error", err)
		}
		return s.again(ctx, p, 0)
	}
	if status < 200 || status > 299 {
		if requestVerdict(status) == retry {
			o.stats.requestRetries.Add(1)
			if !o.requestFailed(requestCause(status, nil), status, nil, s.resp.Bytes()) {
				o.warnRetry("bulk request refused; sending it again", p, "status", status, "response", snippet(s.resp.Bytes()))
			}
			return s.again(ctx, p, retryAfter(header, time.Now()))
		}
		if req.stage == stageDeadLetter && p.len() == 1 && status != http.StatusRequestEntityTooLarge {
			// A lone dead letter (strings in an index of its own) refused
			// as a whole request: the URL is at fault, not the document
			// (VictoriaLogs answers any path it does not serve with a 400).
			// Dropping it would drop every line; it waits for a fix.
			o.stats.requestRetries.Add(1)
			o.requestFailed(CauseClientError, status, nil, s.resp.Bytes())
			o.warnRetry("even a lone dead letter is refused as a whole request: check the output's URL and path; holding the documents and sending again", p,
				"status", status, "response", snippet(s.resp.Bytes()))
			return s.again(ctx, p, 0)
		}
		// Answered, but refused as a whole: counted, not a failing state
		// (the server works; the documents are at fault).
		o.health.requests[CauseClientError].Add(1)
		if p.len() == 1 {
			s.refuse(req, p.at(0), requestError(status, s.resp.Bytes()))
			return true
		}
		// One document the server cannot take can fail the whole request
		// (VictoriaLogs answers a plain-text 400): cut it in halves until
		// that document is alone. First half on top of the stack.
		o.stats.requestSplits.Add(1)
		o.warnRetry("bulk request refused as a whole; splitting it to find the documents at fault", p,
			"status", status, "response", snippet(s.resp.Bytes()))
		first, second := p.halves()
		s.todo = append(s.todo, second, first)
		return true
	}
	outs, err := parseBulkResponse(s.outcomes[:0], s.resp.Bytes(), p.len())
	s.outcomes = outs[:0]
	if err != nil {
		o.stats.requestRetries.Add(1)
		o.requestFailed(CauseBadResponse, 0, err, s.resp.Bytes())
		o.warnRetry("bulk response unusable; sending the request again", p, "error", err, "response", snippet(s.resp.Bytes()))
		return s.again(ctx, p, 0)
	}
	o.requestOK()
	var sent, dups, fs int64
	var failed []int32
	var first outcome
	for k := range outs {
		switch oc := &outs[k]; oc.verdict {
		case delivered:
			if oc.failureStore {
				fs++
				continue
			}
			sent++
		case duplicate:
			dups++
		case retry:
			o.health.docs[docRetryCause(oc.status)].Add(1)
			if failed == nil {
				failed = make([]int32, 0, len(outs)-k)
				first = *oc
			}
			failed = append(failed, p.at(k))
		default:
			s.refuse(req, p.at(k), *oc)
		}
	}
	o.countSettled(req.stage, sent, dups)
	if fs > 0 {
		o.stats.docsFailureStore.Add(fs)
		const msg = "documents kept in the data stream's failure store: stored, but not searchable as logs until redriven"
		if suppressed, ok := o.limit.Allow(msg); ok {
			o.log.Warn(msg,
				"documents", fs, "suppressed", suppressed)
		}
	}
	if len(failed) == 0 {
		return true
	}
	o.stats.itemRetries.Add(int64(len(failed)))
	retried := span{idx: failed, attempt: p.attempt}
	o.warnRetry("documents refused for now; sending them again", retried,
		"status", first.status, "error_type", first.errType, "reason", first.reason)
	return s.again(ctx, retried, retryAfter(header, time.Now()))
}

// again waits out the backoff of p's next attempt (at least floor) and
// queues p to be sent again. It returns false when ctx ends first.
func (s *sender) again(ctx context.Context, p span, floor time.Duration) bool {
	s.o.health.backoffs.Add(1)
	waited := s.o.backoff.Wait(ctx, p.attempt, floor)
	s.o.health.backoffs.Add(-1)
	if !waited {
		return false
	}
	p.attempt++
	s.todo = append(s.todo, p)
	return true
}

// bodyOf returns the NDJSON body for span p: a slice of the request's body
// when the span's items are contiguous, otherwise a copy in s.sub.
func (s *sender) bodyOf(req *request, p *span) []byte {
	if p.idx == nil {
		start := req.items[p.lo].start
		end := int32(len(req.body))
		if int(p.hi) < len(req.items) {
			end = req.items[p.hi].start
		}
		return req.body[start:end]
	}
	s.sub = s.sub[:0]
	for _, i := range p.idx {
		s.sub = append(s.sub, req.doc(i)...)
	}
	return s.sub
}

// gzip compresses body into s.zbuf, which it returns until the next call.
func (s *sender) gzip(body []byte) []byte {
	s.zbuf.Reset()
	s.gz.Reset(&s.zbuf)
	_, _ = s.gz.Write(body) // writes to a bytes.Buffer do not fail
	_ = s.gz.Close()
	return s.zbuf.Bytes()
}

// send POSTs body to <url>/_bulk and reads the response into s.resp. An
// error means no usable answer arrived (transport failure, timeout).
func (s *sender) send(ctx context.Context, body []byte) (status int, header http.Header, err error) {
	o := s.o
	wire := body
	h := http.Header{"Content-Type": {"application/x-ndjson"}}
	if s.gz != nil {
		wire = s.gzip(body)
		h["Content-Encoding"] = []string{"gzip"}
	}
	rctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	o.stats.requests.Add(1)
	start := time.Now()
	req, held, err := httpbody.NewRequest(rctx, http.MethodPost, bulkPath, wire)
	if err != nil {
		return 0, nil, fmt.Errorf("post _bulk: %w", err)
	}
	defer held.Detach() // last: wire is reused once send returns
	req.Header = h
	res, err := o.client.Perform(req)
	if err != nil {
		return 0, nil, fmt.Errorf("post _bulk: %w", err)
	}
	defer res.Body.Close()
	s.resp.Reset()
	if _, err := s.resp.ReadFrom(io.LimitReader(res.Body, maxResponseBytes)); err != nil {
		return 0, nil, fmt.Errorf("read _bulk response (status %d): %w", res.StatusCode, err)
	}
	// Bytes and durations of answered requests only: a failed dial
	// delivered nothing and says nothing about the server's speed.
	o.stats.bytes.Add(int64(len(wire)))
	if o.requestTimes != nil {
		o.requestTimes.Observe(time.Since(start).Seconds())
	}
	return res.StatusCode, res.Header, nil
}

// actionIndex returns the _index of an item's action line.
func actionIndex(doc []byte) []byte {
	const key = `"_index":"`
	i := bytes.Index(doc, []byte(key))
	if i < 0 {
		return nil
	}
	rest := doc[i+len(key):]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return nil
}
