// Package pipeline moves batches from sources to outputs: a bounded
// lock-free ring, bounded in bytes by memory_limit, and one worker per CPU
// that encodes each batch once and hands it to every output.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/agent/budget"
	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/ring"
	"github.com/sluicelog/sluice/agent/tap"
	"github.com/sluicelog/sluice/agent/transform"
)

// Pipeline is the handoff and the worker stage.
type Pipeline struct {
	ring    *ring.Ring[*record.Batch]
	budget  *budget.Budget
	enc     *document.Encoder
	outputs []Output
	workers int
	logger  *slog.Logger

	tap    *tap.Hub
	states []workerState // one per worker, for Health
	enrich Enricher      // nil: no Kubernetes enrichment

	// chain runs the filter transforms after encoding (nil: none); routes
	// has one entry per output, nil for an output that takes every batch.
	chain    *transform.Chain
	routes   []*transform.Match
	unrouted atomic.Int64 // records no output's match took

	batches atomic.Int64 // batches handed over
	records atomic.Int64

	heldBack func() bool // nil: never (FlushWhenHeld)

	// waiting counts the sources that wait for acknowledgements before
	// they may hand more over (AckWait).
	waiting atomic.Int64
}

// New returns a pipeline for outputs with the given byte budget.
func New(enc *document.Encoder, outputs []Output, workers int, memoryLimit int64, logger *slog.Logger) *Pipeline {
	return &Pipeline{
		ring:    ring.New[*record.Batch](1024),
		budget:  budget.New(memoryLimit),
		enc:     enc,
		outputs: outputs,
		workers: max(workers, 1),
		logger:  logger.With("component", "pipeline"),
		tap:     tap.NewHub(0, 0),
		states:  make([]workerState, max(workers, 1)),
	}
}

// FlushWhenHeld makes an idle worker hand its outputs' partly filled
// requests over at once, not after flush_interval, while held reports
// that sources hold batches back until earlier ones are acknowledged
// (fair_share's budget is full): the next batch then comes only after an
// acknowledgement, which the partly filled request itself holds up, and
// waiting for flush_interval only stalls every source behind it
// (bench/RESULTS.md, noisy neighbours). Call it before Run.
func (p *Pipeline) FlushWhenHeld(held func() bool) { p.heldBack = held }

// AckWait tells the workers that a source with more to hand over waits
// until batches it handed over are acknowledged (a file with a backlog
// and its window of batches unacknowledged); AckWaitDone that it no
// longer does. While one waits, a worker that finds the ring empty hands over
// the requests its writers are filling (IdleFlusher) instead of leaving
// them to bulk.flush_interval: the acknowledgements may be held up by
// those very requests, which nothing would come to fill. Without it a
// memory_limit large enough for bodies bigger than the sources' windows
// moved one window per flush interval (bench/RESULTS.md).
func (p *Pipeline) AckWait() { p.waiting.Add(1) }

// AckWaitDone ends what AckWait began.
func (p *Pipeline) AckWaitDone() { p.waiting.Add(-1) }

// Enricher sets a batch's Kubernetes metadata before it is encoded
// (agent/kube). Enrich returns false when the batch is to be dropped
// (sluice.io/exclude); it is then acked without being written.
type Enricher interface {
	Enrich(b *record.Batch) bool
}

// SetEnricher installs the enrichment step. Call it before Run.
func (p *Pipeline) SetEnricher(e Enricher) { p.enrich = e }

// SetTransforms installs the filter transforms (drop, keep, throttle,
// fields). Call it before Run.
func (p *Pipeline) SetTransforms(c *transform.Chain) { p.chain = c }

// SetRoutes limits outputs to the batches their match takes: routes[i]
// belongs to the i-th output, nil takes everything. A batch goes to every
// output that takes it, each of which acknowledges it on its own; the
// batch (and the file position behind it) is acknowledged once all of
// them have. Call it before Run.
func (p *Pipeline) SetRoutes(routes []*transform.Match) { p.routes = routes }

// Unrouted is the number of records that no output's match took; they
// are acknowledged without being written.
func (p *Pipeline) Unrouted() int64 { return p.unrouted.Load() }

// Tap is the hub that workers publish encoded batches to while somebody
// listens.
func (p *Pipeline) Tap() *tap.Hub { return p.tap }

// RingLen is the number of batches waiting for a worker.
func (p *Pipeline) RingLen() int { return p.ring.Len() }

// RingCap is the number of batches the ring holds at most.
func (p *Pipeline) RingCap() int { return p.ring.Cap() }

// MemoryLimit is memory_limit in bytes.
func (p *Pipeline) MemoryLimit() int64 { return p.budget.Limit() }

// Workers is the number of workers.
func (p *Pipeline) Workers() int { return p.workers }

// Push hands a batch over, waiting while the pipeline holds memory_limit
// bytes or the ring is full. On error the caller still owns the batch.
func (p *Pipeline) Push(ctx context.Context, b *record.Batch) error {
	n := int64(b.Size())
	records := int64(len(b.Records))
	if err := p.budget.Acquire(ctx, n); err != nil {
		return err
	}
	// Charge before the handoff: once the ring has the batch, a worker may
	// finish and recycle it at any moment.
	b.Charge(p.budget, n)
	if err := p.ring.Push(ctx, b); err != nil {
		b.Charge(nil, 0)
		p.budget.Release(n)
		return err
	}
	p.batches.Add(1)
	p.records.Add(records)
	return nil
}

// MemoryUsed is the number of bytes held by batches not yet acknowledged.
func (p *Pipeline) MemoryUsed() int64 { return p.budget.Used() }

// ErrCut says the shutdown deadline cut delivery: Run returns it when
// outCtx ended before the workers had handed everything to the outputs,
// Drain when its ctx ended before every batch was acknowledged. What was
// not acknowledged stays so: its file lines are read again after a
// restart.
var ErrCut = errors.New("delivery cut at the shutdown deadline")

// Run starts the workers and returns when ctx ends, after each worker has
// encoded everything already in the ring and flushed its writers: sources
// must stop before ctx is cancelled, and outputs after Run returns.
// outCtx bounds blocking writes to outputs: once it ends, workers stop at
// once, Run returns ErrCut, and the batches they held stay unacknowledged.
func (p *Pipeline) Run(ctx, outCtx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, p.workers)
	for i := range p.workers {
		writers := make([]Writer, len(p.outputs))
		for j, o := range p.outputs {
			writers[j] = o.NewWriter()
		}
		tw := p.chain.NewWorker()
		st := &p.states[i]
		st.beat.Store(time.Now().UnixNano())
		st.state.Store(stateRunning)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.work(ctx, outCtx, writers, tw, st)
			st.exited(ctx, errs[i])
		}()
	}
	<-ctx.Done()
	p.ring.Close()
	wg.Wait()
	return errors.Join(errs...)
}

// Cut stops the handoff for good at the shutdown deadline: Push fails at
// once, and sources waiting in it for room give up. With outCtx of Run
// ended too, nothing in the pipeline waits any more. Cut may be called
// more than once.
func (p *Pipeline) Cut() {
	p.ring.Close()
	p.budget.Close()
}

// Drain waits until every batch handed over is acknowledged or ctx ends.
func (p *Pipeline) Drain(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for p.budget.Used() > 0 {
		select {
		case <-ctx.Done():
			if held := p.budget.Used(); held > 0 {
				return fmt.Errorf("%w: %d bytes of batches not acknowledged by the outputs; their file lines are read again on restart", ErrCut, held)
			}
			return nil
		case <-t.C:
		}
	}
	return nil
}

// write hands b to every output whose route takes it.
func (p *Pipeline) write(ctx context.Context, writers []Writer, b *record.Batch) error {
	routed := false
	for j, w := range writers {
		if p.routes != nil && !p.routes[j].Match(b) {
			skip(w, b)
			continue
		}
		routed = true
		if err := w.Write(ctx, b); err != nil {
			// Shutting down mid-batch: the worker keeps its reference so
			// the batch is never acked and its lines are read again.
			return err
		}
	}
	if !routed {
		p.unrouted.Add(int64(len(b.Records)))
	}
	return nil
}

// skip tells w, if it asks, that it will not be given b.
func skip(w Writer, b *record.Batch) {
	if s, ok := w.(Skipper); ok {
		s.Skip(b)
	}
}

// work is one worker. It stamps st.beat on every turn of its loop (at
// least every tick while idle) and marks the time it spends in outputs,
// which may block for as long as an output is behind: that is waiting,
// not being stuck (see Health).
//
// A batch pushed with its documents already encoded (one DocEnds entry per
// record, as throttle summaries come) is neither enriched nor encoded
// again; it still goes through the transforms and the routes.
func (p *Pipeline) work(ctx, outCtx context.Context, writers []Writer, tw *transform.Worker, st *workerState) error {
	const tick = 50 * time.Millisecond
	lastFlush := time.Now()
	// Documents are needed only until every writer has copied them, so a
	// worker encodes into its own buffers, reused batch after batch: a
	// batch waiting for its acknowledgement holds its lines, not also a
	// copy of them as documents. (A fields transform may swap in its own
	// buffer; whichever b.Docs holds at the end comes back here.)
	var docs []byte
	var ends []int32
	// direct is the only writer when it encodes documents itself
	// (DirectWriter) and no transform edits them.
	var direct DirectWriter
	if len(writers) == 1 && p.chain == nil {
		direct, _ = writers[0].(DirectWriter)
	}
	var idle []IdleFlusher
	for _, w := range writers {
		if f, ok := w.(IdleFlusher); ok {
			idle = append(idle, f)
		}
	}
	for {
		st.beat.Store(time.Now().UnixNano())
		b, ok := p.ring.Pop(context.Background(), tick)
		encoded := ok && len(b.Records) > 0 && len(b.DocEnds) == len(b.Records)
		written := false
		if ok && (encoded || p.enrich == nil || p.enrich.Enrich(b)) {
			done := false
			if !encoded && direct != nil && len(b.Records) > 0 && !p.tap.Active() &&
				(p.routes == nil || p.routes[0].Match(b)) {
				st.inOutput.Store(true)
				var err error
				if done, err = direct.WriteDirect(outCtx, b, p.enc); err != nil {
					return cutOr(outCtx, err)
				}
				st.inOutput.Store(false)
				written = done
			}
			if !done {
				if !encoded {
					b.Docs, b.DocEnds = docs[:0], ends[:0]
					p.enc.EncodeBatch(b)
				}
				tw.Transform(b)
				if len(b.Records) > 0 {
					if p.tap.Active() {
						p.tap.Publish(b)
					}
					st.inOutput.Store(true)
					if err := p.write(outCtx, writers, b); err != nil {
						return cutOr(outCtx, err)
					}
					st.inOutput.Store(false)
					written = true
				}
				if !encoded {
					docs, ends = b.Docs[:0], b.DocEnds[:0]
					b.Docs, b.DocEnds = nil, nil
				}
			}
		}
		if ok {
			if !written {
				for _, w := range writers {
					skip(w, b)
				}
			}
			b.Done()
		}
		closed := ctx.Err() != nil
		if !ok && closed && p.ring.Len() == 0 {
			st.inOutput.Store(true)
			for _, w := range writers {
				if err := w.Flush(outCtx, true); err != nil {
					return cutOr(outCtx, err)
				}
			}
			return nil
		}
		if len(idle) > 0 && p.waiting.Load() > 0 && p.ring.Len() == 0 {
			st.inOutput.Store(true)
			for _, f := range idle {
				if err := f.FlushIdle(outCtx); err != nil {
					return cutOr(outCtx, err)
				}
			}
			st.inOutput.Store(false)
		}
		if !ok || time.Since(lastFlush) >= tick {
			lastFlush = time.Now()
			force := !ok && p.heldBack != nil && p.heldBack()
			st.inOutput.Store(true)
			for _, w := range writers {
				if err := w.Flush(outCtx, force); err != nil {
					return cutOr(outCtx, err)
				}
			}
			st.inOutput.Store(false)
		}
	}
}

// cutOr is ErrCut when a write failed because outCtx ended, else err.
func cutOr(outCtx context.Context, err error) error {
	if outCtx.Err() != nil {
		return ErrCut
	}
	return err
}
