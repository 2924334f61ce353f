package otlp

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

// maxResponseBytes bounds what is read of an answer: an export response
// or a google.rpc.Status is small.
const maxResponseBytes = 64 << 10

// sender sends requests one at a time; its buffers are reused.
type sender struct {
	o    *Output
	gz   *gzip.Writer
	zbuf bytes.Buffer
	resp []byte
}

func newSender(o *Output) *sender {
	s := &sender{o: o}
	if o.gzip {
		s.gz, _ = gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level never fails
	}
	return s
}

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

// outcome is what became of one try.
type outcome uint8

const (
	delivered outcome = iota // answered 2xx (partial success counted)
	refused                  // a 4xx: refused for good
	again                    // send again after a backoff
)

// deliver sends req until it is answered for good, then acknowledges its
// batches. If ctx ends first the request is abandoned: its batches are
// never acknowledged, so their lines are read again after a restart.
func (s *sender) deliver(ctx context.Context, req *request) {
	o := s.o
	// Last, after the batches are acknowledged: a worker that then sees
	// nothing handed over knows that their sources have been told.
	defer o.handed.Add(-1)
	defer o.release(req)
	o.stats.flights.Add(1)
	defer o.stats.flights.Add(-1)
	o.stats.pending.Add(int64(req.records))
	defer o.stats.pending.Add(-int64(req.records))
	body, err := s.encode(req)
	if err != nil {
		// gzip into memory does not fail; this is a bug, not input.
		o.log.Error("cannot compress an export request; its records are lost", "records", req.records, "error", err)
		o.finish(req, 0, req.records)
		return
	}
	for attempt := 0; ; attempt++ {
		res, floor, rejected := s.try(ctx, req, body)
		switch res {
		case delivered:
			o.stats.lastSuccess.Store(time.Now().UnixNano())
			o.finish(req, req.records-rejected, rejected)
			return
		case refused:
			o.finish(req, 0, req.records)
			return
		}
		if ctx.Err() != nil || !o.backoff.Wait(ctx, attempt, floor) {
			return // abandoned: never acknowledged
		}
		o.stats.requestRetries.Add(1)
	}
}

// encode returns req's ExportLogsServiceRequest, gzipped when configured.
func (s *sender) encode(req *request) ([]byte, error) {
	raw := req.body
	if s.gz == nil {
		return raw, nil
	}
	s.zbuf.Reset()
	s.gz.Reset(&s.zbuf)
	if _, err := s.gz.Write(raw); err != nil {
		return nil, err
	}
	if err := s.gz.Close(); err != nil {
		return nil, err
	}
	return s.zbuf.Bytes(), nil
}

// try sends body once and says what became of it, with the server's
// Retry-After when it asks to wait.
func (s *sender) try(ctx context.Context, req *request, body []byte) (res outcome, floor time.Duration, rejected int) {
	o := s.o
	hr, held, err := httpbody.NewRequest(ctx, http.MethodPost, o.endpoint, body)
	if err != nil {
		o.log.Error("cannot build the request", "error", err)
		return refused, 0, 0
	}
	defer held.Detach() // last: body is reused once try returns
	hr.Header = o.header.Clone()
	resp, err := o.client.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return again, 0, 0
		}
		c := transportCause(err)
		o.stats.requests[c].Add(1)
		o.warn("request failed; sending again with backoff", "cause", c.String(), "records", req.records, "error", errorText(err))
		return again, 0, 0
	}
	s.resp, err = readBody(s.resp[:0], resp.Body)
	resp.Body.Close()
	o.stats.bytes.Add(int64(len(body)))
	switch {
	case resp.StatusCode/100 == 2:
		if err == nil {
			rejected = s.partial(req, resp.Header.Get("Content-Type"))
		}
		return delivered, 0, rejected
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusBadGateway,
		resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusGatewayTimeout:
		// Retryable (OTLP/HTTP, Failures): honour Retry-After.
		c := statusCause(resp.StatusCode)
		o.stats.requests[c].Add(1)
		floor = retryAfter(resp.Header, time.Now())
		o.warn("server asked to send again later", "status", resp.StatusCode, "cause", c.String(), "retry_after", floor, "records", req.records)
		return again, floor, 0
	}
	c := statusCause(resp.StatusCode)
	o.stats.requests[c].Add(1)
	if c != CauseClientError {
		// 401/403/407 (the headers' credentials), 408 and other 5xx:
		// sent again rather than lost, as the elasticsearch output does;
		// lines wait in their files until an operator fixes the cause.
		o.warn("request failed; sending again with backoff", "status", resp.StatusCode, "cause", c.String(),
			"records", req.records, "message", statusMessage(s.resp, resp.Header.Get("Content-Type")))
		return again, 0, 0
	}
	o.stats.refused.Add(int64(req.records))
	o.limit.Error("server refused a request for good; its records are lost (counted in sluice_output_otlp_rejected_records_total)",
		"status", resp.StatusCode, "records", req.records, "message", statusMessage(s.resp, resp.Header.Get("Content-Type")),
		"hint", hint(resp.StatusCode))
	return refused, 0, 0
}

// partial counts the records a successful answer rejected (OTLP/HTTP,
// Partial Success: rejected_log_records and error_message).
func (s *sender) partial(req *request, contentType string) int {
	o := s.o
	if len(s.resp) == 0 || !isProtobuf(contentType) {
		return 0
	}
	ps, ok := parsePartialSuccess(s.resp)
	if !ok {
		o.stats.requests[CauseBadResponse].Add(1)
		o.warn("success answer is not an export response; taken as delivered")
		return 0
	}
	n := min(ps.rejected, int64(req.records))
	if n <= 0 {
		if ps.message != "" {
			o.warn("server accepted the records with a warning", "message", ps.message)
		}
		return 0
	}
	o.stats.partial.Add(n)
	o.limit.Error("server rejected records of a request (partial success); they are lost (counted in sluice_output_otlp_rejected_records_total)",
		"rejected", n, "records", req.records, "message", ps.message)
	return int(n)
}

// finish counts req's records and acknowledges its batches.
func (o *Output) finish(req *request, sent, failed int) {
	o.stats.sent.Add(int64(sent))
	o.stats.failed.Add(int64(failed))
	for _, b := range req.batches {
		b.Done()
	}
	req.batches = nil
}

func (o *Output) warn(msg string, args ...any) { o.limit.Warn(msg, args...) }

func readBody(dst []byte, r io.Reader) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	_, err := buf.ReadFrom(io.LimitReader(r, maxResponseBytes))
	return buf.Bytes(), err
}

func isProtobuf(contentType string) bool {
	return len(contentType) >= len("application/x-protobuf") && contentType[:len("application/x-protobuf")] == "application/x-protobuf"
}

// hint says what to check for a refused request.
func hint(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return "the request is over the server's limit: lower bulk.max_bytes"
	case http.StatusNotFound:
		return "check endpoint: it must be the server's OTLP/HTTP logs URL (…/v1/logs)"
	case http.StatusUnsupportedMediaType:
		return "the server does not take OTLP protobuf or the compression; try bulk.compress: false"
	}
	return "the server found the records invalid"
}

// errorText is a transport error without the URL, which net/http puts in
// front of it (the endpoint is the config's, and stays out of messages).
func errorText(err error) string {
	type unwrapper interface{ Unwrap() error }
	if u, ok := err.(unwrapper); ok {
		if inner := u.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return fmt.Sprint(err)
}
