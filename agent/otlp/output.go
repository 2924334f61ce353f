// Package otlp is the OTLP/HTTP logs output: it maps each document to an
// OpenTelemetry log record (logs data model; resource attributes from the
// pod's Kubernetes object per the semantic conventions), groups the
// records of a request by resource, sends ExportLogsServiceRequest
// protobuf bodies (encoded by hand straight from the documents, wire.go),
// gzipped, with several senders, retries with backoff (Retry-After
// honoured) what the OTLP specification calls retryable, and acknowledges
// a batch once every request holding part of it was answered for good.
package otlp

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/agent/budget"
	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/pipeline"
	"github.com/sluicelog/sluice/internal/backoff"
	"github.com/sluicelog/sluice/internal/loglimit"
)

// Output is an otlp output. New builds it, each pipeline worker gets a
// Writer, and Run sends.
type Output struct {
	name          string
	endpoint      string // checked by config: no userinfo
	header        http.Header
	log           *slog.Logger
	limit         *loglimit.Limiter
	client        *http.Client
	transport     *http.Transport
	gzip          bool
	maxBytes      int
	flushInterval time.Duration
	workers       int
	backoff       backoff.Exponential

	// queue is unbuffered: a full request waits in its writer for a free
	// sender, so at most writers + bulk.workers requests exist.
	queue chan *request
	// handed counts requests handed to the senders and not yet finished;
	// FlushIdle sends a partly filled request only while it is 0.
	handed   atomic.Int64
	requests sync.Pool // *request, reused with their bodies
	stats    counters
	running  atomic.Bool
	wg       sync.WaitGroup
}

var _ pipeline.Output = (*Output)(nil)

// New builds the output from a config that config.Parse checked and
// filled with defaults. It contacts nothing.
func New(cfg config.Output, logger *slog.Logger) (*Output, error) {
	tlsCfg, err := cfg.TLS.Load()
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", cfg.Name, err)
	}
	header := make(http.Header, len(cfg.Headers)+3)
	header.Set("User-Agent", "sluice")
	for k, v := range cfg.Headers {
		header.Set(k, v)
	}
	header.Set("Content-Type", "application/x-protobuf")
	if cfg.Bulk.Compress {
		header.Set("Content-Encoding", "gzip")
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   cfg.Bulk.Workers,
		IdleConnTimeout:       cfg.IdleTimeout.Duration(),
		TLSHandshakeTimeout:   10 * time.Second,
		TLSClientConfig:       tlsCfg,
		ResponseHeaderTimeout: cfg.Timeout.Duration(),
		// Line and headers: the body bypasses the buffer (budget.WriteBufferBytes).
		WriteBufferSize: int(budget.WriteBufferBytes),
	}
	o := &Output{
		name:          cfg.Name,
		endpoint:      cfg.Endpoint,
		header:        header,
		log:           logger.With("component", "output", "output", cfg.Name),
		client:        &http.Client{Transport: tr, Timeout: cfg.Timeout.Duration()},
		transport:     tr,
		gzip:          cfg.Bulk.Compress,
		maxBytes:      int(cfg.Bulk.MaxBytes),
		flushInterval: cfg.Bulk.FlushInterval.Duration(),
		workers:       cfg.Bulk.Workers,
		backoff:       backoff.Exponential{Initial: cfg.Retry.Initial.Duration(), Max: cfg.Retry.Max.Duration()},
		queue:         make(chan *request),
	}
	o.limit = loglimit.New(o.log, time.Second)
	return o, nil
}

// Name implements pipeline.Output.
func (o *Output) Name() string { return o.name }

// NewWriter implements pipeline.Output.
func (o *Output) NewWriter() pipeline.Writer { return newWriter(o) }

// Run sends the requests writers hand over, bulk.workers at a time, until
// ctx ends. Requests queued or being retried then are abandoned and their
// batches never acknowledged: their lines are read again after a restart.
func (o *Output) Run(ctx context.Context) error {
	if !o.running.CompareAndSwap(false, true) {
		return fmt.Errorf("output %q: Run called twice", o.name)
	}
	for range o.workers {
		s := newSender(o)
		o.wg.Go(func() { s.run(ctx) })
	}
	o.wg.Wait()
	o.transport.CloseIdleConnections()
	return nil
}

// BufferBytes is what the output holds besides the batches, for the
// memory_limit split: per writer the groups of the request it builds and
// that request's body, per sender a body and its compressed copy, each up
// to bulk.max_bytes.
func (o *Output) BufferBytes(writers int) int64 {
	return int64(writers+o.workers) * 2 * int64(o.maxBytes)
}

// newRequest returns an empty request, reusing one if it can.
func (o *Output) newRequest() *request {
	req, _ := o.requests.Get().(*request)
	if req == nil {
		req = &request{}
	}
	req.born = time.Now()
	return req
}

// release empties req for reuse; its batches were dealt with.
func (o *Output) release(req *request) {
	clear(req.batches)
	req.body, req.batches, req.records, req.size = req.body[:0], req.batches[:0], 0, 0
	o.requests.Put(req)
}

// InFlightBytes bounds the bytes of batches that requests refer to.
func (o *Output) InFlightBytes(writers int) int64 {
	return int64(writers+o.workers) * int64(o.maxBytes)
}
