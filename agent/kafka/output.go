// Package kafka is the Kafka output: it produces each document as one
// Kafka record (franz-go), keyed so that a pod's lines stay in order in
// one partition, with the record's deterministic id in a header, and
// acknowledges a batch once the brokers have acknowledged every record of
// it under the configured acks. A record its topic refuses as too large
// is sent on its own once more, then to the dead-letter topic.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicelog/sluice/agent/budget"
	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/pipeline"
	"github.com/sluicelog/sluice/internal/loglimit"
)

// IDHeader is the record header that carries the record's deterministic
// id (DESIGN.md, Delivery): a replay after a crash carries the same id, so
// consumers can drop the duplicates an at-least-once restart sends.
const IDHeader = "sluice.id"

// Headers of a dead letter besides IDHeader.
const (
	ErrorHeader = "sluice.error" // why the record was dead-lettered
	TopicHeader = "sluice.topic" // the topic that refused it
)

// Output is a Kafka output. New checks the config; Run owns the
// producers, which writers wait for.
type Output struct {
	name       string
	log        *slog.Logger
	limit      *loglimit.Limiter
	opts       []kgo.Opt
	topic      *topicTemplate
	keyKind    string
	deadLetter string
	maxMessage int
	backoff    backoff

	mem   *budget.Budget // documents held until acknowledged (buffer_bytes)
	order *sequencer     // a source's batches to the producer in order
	ready chan struct{}  // closed by Run once client and solo exist

	client *kgo.Client // the producer
	solo   *kgo.Client // one record at a time: too-large retries and dead letters

	retries *queue // records to produce again after a backoff
	singles *queue // records to send on their own (solo)

	stats   counters
	auth    *auth // SASL refusals, logged once
	running atomic.Bool

	requestTimes Observer // produce request durations, or nil
}

var _ pipeline.Output = (*Output)(nil)

// Observer takes one measurement (a prometheus.Histogram is one).
type Observer interface{ Observe(v float64) }

// New builds the output from a config that config.Parse checked and
// filled with defaults. It reads the files the config names but contacts
// no broker; Run does.
func New(cfg config.Output, logger *slog.Logger) (*Output, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	log := logger.With("component", "output", "output", cfg.Name)
	opts, err := clientOpts(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", cfg.Name, err)
	}
	topic, err := compileTopic(cfg.Kafka.Topic)
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", cfg.Name, err)
	}
	o := &Output{
		name:       cfg.Name,
		log:        log,
		opts:       opts,
		topic:      topic,
		keyKind:    cfg.Kafka.PartitionKey,
		deadLetter: cfg.Kafka.DeadLetterTopic,
		maxMessage: int(cfg.Kafka.MaxMessageBytes),
		backoff:    backoff{initial: cfg.Retry.Initial.Duration(), max: cfg.Retry.Max.Duration()},
		mem:        budget.New(int64(cfg.Kafka.BufferBytes)),
		ready:      make(chan struct{}),
		order:      newSequencer(),
		retries:    newQueue(),
		singles:    newQueue(),
	}
	o.auth = &auth{o: o, mechanism: cfg.Kafka.SASL.Mechanism, username: cfg.Kafka.SASL.Username}
	o.limit = loglimit.New(o.log, time.Second)
	return o, nil
}

// Name returns the output's name from the config.
func (o *Output) Name() string { return o.name }

// NewWriter returns a writer for one pipeline worker.
func (o *Output) NewWriter() pipeline.Writer { return &writer{o: o} }

// SetRequestObserver makes every produce request's duration go to obs,
// in seconds. Call it before Run.
func (o *Output) SetRequestObserver(obs Observer) { o.requestTimes = obs }

// BufferBytes is what the output holds outside the batches: the copies of
// documents waiting for the brokers (buffer_bytes), and as much again for
// the producer's encoded and compressed record batches.
func (o *Output) BufferBytes(int) int64 { return 2 * o.mem.Limit() }

// InFlightBytes bounds the documents waiting for the brokers, whose
// batches the pipeline keeps until they are acknowledged.
func (o *Output) InFlightBytes(int) int64 { return o.mem.Limit() }

// Run starts the producers and, until ctx ends, the loops that retry
// records after a backoff and send too-large ones on their own. Then it
// closes the producers: records not acknowledged by then are abandoned,
// and their batches never acknowledged. Run may be called only once.
func (o *Output) Run(ctx context.Context) error {
	if !o.running.CompareAndSwap(false, true) {
		return fmt.Errorf("output %q: Run called twice", o.name)
	}
	hooks := kgo.WithHooks(hook{o})
	client, err := kgo.NewClient(append(o.opts, hooks)...)
	if err != nil {
		return fmt.Errorf("output %q: %w", o.name, err)
	}
	// The solo producer takes one record per request; its batch limit is
	// the broker's to enforce, up to what the protocol allows.
	solo, err := kgo.NewClient(append(o.opts, hooks, kgo.ProducerBatchMaxBytes(max(int32(o.maxMessage), 64<<20)), kgo.MaxBufferedRecords(1))...)
	if err != nil {
		client.Close()
		return fmt.Errorf("output %q: %w", o.name, err)
	}
	o.client, o.solo = client, solo
	close(o.ready)
	var wg sync.WaitGroup
	wg.Go(func() { o.retryLoop(ctx) })
	wg.Go(func() { o.soloLoop(ctx) })
	wg.Wait()
	// Abandon what the producers still hold: their promises see
	// ErrClientClosed and leave the records unacknowledged.
	client.Close()
	solo.Close()
	return nil
}

// abandoned says whether err means the output is stopping (the record
// stays unacknowledged), not that Kafka refused it.
func abandoned(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrClientClosed)
}

// Stats returns a snapshot of the output's counters.
func (o *Output) Stats() Stats {
	s := o.stats.snapshot()
	s.AuthRefusals, s.AuthError = o.auth.refusals.Load(), o.auth.error()
	return s
}

// warn logs msg at a rate limit.
func (o *Output) warn(msg string, args ...any) {
	if suppressed, ok := o.limit.Allow(msg); ok {
		o.log.Warn(msg, append(args, "suppressed", suppressed)...)
	}
}
