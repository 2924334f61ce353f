// Package elasticsearch is the Elasticsearch output: it encodes batches
// into bulk request bodies (NDJSON of create actions and documents), sends
// them with several senders through go-elasticsearch's low-level bulk API,
// retries what the server asks to retry, and acknowledges a batch once all
// its documents are stored, duplicates of stored ones, or refused for good.
// VictoriaLogs' Elasticsearch-compatible endpoint is served too.
package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/pipeline"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/backoff"
	"github.com/sluicelog/sluice/internal/loglimit"
)

// Output is an Elasticsearch (or VictoriaLogs) output. It is created by
// New, hands one Writer to each pipeline worker, and sends from Run.
type Output struct {
	name          string
	log           *slog.Logger
	client        esapi.Transport
	transport     *http.Transport // the settings; trip sends with them
	trip          *syncTransport
	index         *indexTemplate
	template      *indexTemplateFile // installed by Run, or nil
	ids           bool
	idKey         []byte // `"<id_field>":"`, or nil
	maxBytes      int
	flushInterval time.Duration
	timeout       time.Duration
	compress      bool
	workers       int
	backoff       backoff.Exponential

	queue chan *request
	// handed counts requests handed to the senders and not yet finished
	// (being sent, retried, or waiting for a free sender); FlushIdle sends
	// a partly filled request only while it is 0.
	handed   atomic.Int64
	requests requestPool
	senders  []*sender // set by Run; their buffers are read by tests after it
	stats    counters
	health   health
	running  atomic.Bool

	deadLetterIndex []byte

	// conv names and shapes the documents (conventions.go). When
	// conv.auto, ready is closed by Run once useStreams, server and
	// managed are set; writers wait for it.
	conv       conventions
	ready      chan struct{}
	useStreams bool
	fixedDS    bool // data_stream: a plain data stream name
	server     serverInfo
	managed    *managedTemplates

	limit *loglimit.Limiter // rate-limited warnings, each message on its own

	// requestTimes, when set, sees the duration of every bulk request in
	// seconds (SetRequestObserver).
	requestTimes Observer
}

var _ pipeline.Output = (*Output)(nil)

// New builds the output from a config that config.Parse checked and
// filled with its defaults (bounds and defaults live there only). It does
// not contact the server; Run starts the senders.
func New(cfg config.Output, logger *slog.Logger, opts ...Option) (*Output, error) {
	var opt options
	for _, f := range opts {
		f(&opt)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	conv, err := newConventions(cfg, opt)
	if err != nil {
		errs = append(errs, err)
	}
	index := cfg.Index
	if index == "" {
		index = config.DefaultIndex
	}
	if ds := cfg.DataStream; ds != "" {
		// A data stream takes create actions only (all we send), into its
		// own name: no placeholders, no date suffix.
		if strings.ContainsAny(ds, "%{}") {
			bad("data_stream: must be a plain name, got %q", ds)
		}
		index = ds
	}
	tmpl, err := compileIndex(index)
	if err != nil {
		errs = append(errs, err)
	}
	var itmpl *indexTemplateFile
	if cfg.Template.File != "" {
		name := cfg.Template.Name
		if name == "" {
			name = "sluice-logs"
		}
		if itmpl, err = loadTemplate(name, cfg.Template.File); err != nil {
			errs = append(errs, err)
		}
	}
	creds, err := loadCredentials(cfg)
	if err != nil {
		errs = append(errs, err)
	}
	tlsCfg, err := cfg.TLS.Load()
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("output %q: %w", cfg.Name, errors.Join(errs...))
	}

	idle := cfg.IdleTimeout.Duration()
	header := make(http.Header, len(cfg.Headers))
	for k, v := range cfg.Headers {
		header.Set(k, v)
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialBodyConn((&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext),
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   cfg.Bulk.Workers,
		IdleConnTimeout:       idle,
		TLSHandshakeTimeout:   10 * time.Second,
		TLSClientConfig:       tlsCfg,
		ExpectContinueTimeout: time.Second,
		WriteBufferSize:       writeBufferSize,
	}
	trip := newSyncTransport(tr)
	client, err := newClient(cfg, creds, header, trip)
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", cfg.Name, err)
	}
	o := &Output{
		name:          cfg.Name,
		log:           logger.With("component", "output", "output", cfg.Name),
		client:        client,
		transport:     tr,
		trip:          trip,
		index:         tmpl,
		template:      itmpl,
		ids:           cfg.IDs == nil || *cfg.IDs,
		maxBytes:      int(cfg.Bulk.MaxBytes),
		flushInterval: cfg.Bulk.FlushInterval.Duration(),
		timeout:       cfg.Timeout.Duration(),
		compress:      cfg.Bulk.Compress,
		workers:       cfg.Bulk.Workers,
		backoff:       backoff.Exponential{Initial: cfg.Retry.Initial.Duration(), Max: cfg.Retry.Max.Duration()},
		// Unbuffered: a full body waits in its writer for a free sender
		// rather than in a queue, so at most writers + bulk.workers bodies
		// exist, not writers + 2 × bulk.workers (5 MiB each by default).
		queue:   make(chan *request),
		conv:    conv,
		fixedDS: cfg.DataStream != "",
	}
	o.limit = loglimit.New(o.log, time.Second)
	if conv.auto {
		o.ready = make(chan struct{})
	}
	o.deadLetterIndex = appendIndexBytes(nil, cfg.DeadLetterIndex)
	if cfg.IDField != "" && o.ids {
		o.idKey = idFieldPrefix(cfg.IDField)
	}
	return o, nil
}

// Name returns the output's name from the config.
func (o *Output) Name() string { return o.name }

// NewWriter returns a writer for one pipeline worker.
func (o *Output) NewWriter() pipeline.Writer { return &writer{o: o} }

// Observer takes one measurement; a prometheus.Histogram is one, and its
// Observe takes no lock.
type Observer interface {
	Observe(v float64)
}

// SetRequestObserver makes every bulk request's duration (from sending to
// the end of the response, failed tries included) go to obs, in seconds.
// Call it before Run.
func (o *Output) SetRequestObserver(obs Observer) { o.requestTimes = obs }

// Stats returns a snapshot of the output's counters.
func (o *Output) Stats() Stats { return o.stats.snapshot() }

// Run installs the index template, if one is configured (a few tries; on
// failure it logs why and goes on), then sends the requests that writers
// hand over, with bulk.workers requests in flight at most, until ctx ends. It returns once every sender
// has stopped; requests still queued or being retried then are abandoned
// and their batches never acknowledged. Run may be called only once.
func (o *Output) Run(ctx context.Context) error {
	if !o.running.CompareAndSwap(false, true) {
		return fmt.Errorf("output %q: Run called twice", o.name)
	}
	if o.ready != nil && !o.settle(ctx) {
		return nil
	}
	if o.template != nil {
		o.installTemplate(ctx)
	}
	var wg sync.WaitGroup
	o.senders = make([]*sender, o.workers)
	for i := range o.senders {
		s := newSender(o)
		o.senders[i] = s
		wg.Go(func() { s.run(ctx) })
	}
	wg.Wait()
	o.trip.CloseIdleConnections()
	return o.closeClient()
}

// closeClient ends the client's own goroutines: with several URLs the
// transport revives a URL it set aside from a goroutine that sleeps up to
// 32 minutes, and only Close stops it (it held the whole output after a
// reload; goleak found it).
func (o *Output) closeClient() error {
	c, ok := o.client.(interface{ Close(context.Context) error })
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		return fmt.Errorf("output %q: close the client: %w", o.name, err)
	}
	return nil
}

// warnRetry logs, at a rate limit, why span p is sent again.
func (o *Output) warnRetry(msg string, p span, args ...any) {
	suppressed, ok := o.limit.Allow(msg)
	if !ok {
		return
	}
	o.log.Warn(msg, append(args, "attempt", p.attempt+1, "documents", p.len(), "suppressed", suppressed)...)
}

// skipEmpty counts a record that has no document to send.
func (o *Output) skipEmpty(src *record.Source) {
	o.stats.docsEmpty.Add(1)
	const msg = "record has no encoded document; skipped"
	if suppressed, ok := o.limit.Allow(msg); ok {
		o.log.Warn(msg, "input", src.Input, "path", src.Path, "suppressed", suppressed)
	}
}
