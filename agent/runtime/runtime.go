// Package runtime builds the agent from its config and runs it: outputs
// start first and stop last, inputs start last and stop first, so each
// stage drains into the next on shutdown. The HTTP API (agent/httpapi)
// serves from start to the very end; readiness goes false before anything
// stops. Supervise replaces the agent when the config is reloaded.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/budget"
	"github.com/sluicelog/sluice/agent/checkpoint"
	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/console"
	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/elasticsearch"
	"github.com/sluicelog/sluice/agent/fairshare"
	"github.com/sluicelog/sluice/agent/httpapi"
	"github.com/sluicelog/sluice/agent/kafka"
	"github.com/sluicelog/sluice/agent/kube"
	"github.com/sluicelog/sluice/agent/metrics"
	"github.com/sluicelog/sluice/agent/otlp"
	"github.com/sluicelog/sluice/agent/pipeline"
	"github.com/sluicelog/sluice/agent/spool"
	"github.com/sluicelog/sluice/agent/transform"
	"github.com/sluicelog/sluice/collector/syslog"
	"github.com/sluicelog/sluice/collector/tail"
)

// input is a source of batches: Run reads until ctx ends and returns once
// it has handed over what it read.
type input interface {
	Run(ctx context.Context) error
}

// Agent is a configured, not yet running agent.
type Agent struct {
	cfg     *config.Config
	logger  *slog.Logger
	version string
	store   *checkpoint.Store
	outputs []pipeline.Output
	pipe    *pipeline.Pipeline
	inputs  []input
	spools  map[string]*spool.Spool // by input name
	enc     *document.Encoder
	kube    *kube.Enricher // nil when enrichment is off or unavailable
	memory  budget.Split
	ready   atomic.Bool
	started time.Time

	// What the status page reads: the configured inputs by name.
	sources     []source
	registry    *prometheus.Registry // this instance's collectors
	lasting     *metrics.Lasting     // the process's: outlives reloads, served on /metrics
	configHash  string
	filterStats func() []transform.StepStats    // nil without filters
	fair        map[string]*fairshare.Scheduler // by input name (fairshare.go)
	httpLn      net.Listener
	api         *httpapi.Server
	// tapWriteTimeout is httpapi's TapWriteTimeout; zero takes its
	// default. Tests set it so only the hub can drop a stalled client.
	tapWriteTimeout time.Duration

	readyMu     sync.Mutex
	readyChecks []namedCheck

	revision string // the source commit, for sluice_build_info
}

type namedCheck struct {
	name  string
	check func() error
}

// Option adjusts an Agent in New.
type Option func(*Agent)

// WithVersion sets the version shown by /api/v1/status and
// sluice_build_info.
func WithVersion(v string) Option { return func(a *Agent) { a.version = v } }

// WithRevision sets the source commit sluice_build_info shows.
func WithRevision(r string) Option { return func(a *Agent) { a.revision = r } }

// WithMetrics makes the agent's metrics part of l, the process's, which
// outlives this instance: its counters go on in the next one after a
// reload. Without it the agent has a Lasting of its own.
func WithMetrics(l *metrics.Lasting) Option { return func(a *Agent) { a.lasting = l } }

// WithConfigHash sets the running config's hash, shown in
// sluice_config_info while the agent runs.
func WithConfigHash(h string) Option { return func(a *Agent) { a.configHash = h } }

// New builds every part of the agent and binds its listeners (syslog, the
// HTTP API), so a taken port fails here. stdout is where console outputs
// write.
func New(cfg *config.Config, stdout io.Writer, logger *slog.Logger, opts ...Option) (*Agent, error) {
	a := &Agent{cfg: cfg, logger: logger, version: "dev", registry: prometheus.NewRegistry()}
	for _, o := range opts {
		o(a)
	}
	if a.lasting == nil {
		a.lasting = metrics.NewLasting()
		a.lasting.Loaded()
	}
	for _, oc := range cfg.Outputs {
		switch oc.Type {
		case "elasticsearch":
			o, err := elasticsearch.New(oc, logger, elasticsearch.WithInputs(cfg.Inputs))
			if err != nil {
				return nil, fmt.Errorf("output %s: %w", oc.Name, err)
			}
			a.outputs = append(a.outputs, o)
		case "console":
			a.outputs = append(a.outputs, console.New(oc.Name, stdout))
		case "kafka":
			o, err := kafka.New(oc, logger)
			if err != nil {
				return nil, fmt.Errorf("output %s: %w", oc.Name, err)
			}
			a.outputs = append(a.outputs, o)
		case "otlp":
			o, err := otlp.New(oc, logger)
			if err != nil {
				return nil, fmt.Errorf("output %s: %w", oc.Name, err)
			}
			a.outputs = append(a.outputs, o)
		default:
			return nil, fmt.Errorf("output %s: unknown type %q", oc.Name, oc.Type)
		}
	}
	store, err := checkpoint.Open(cfg.DataDir, checkpoint.WithLogger(logger.With("component", "checkpoint")))
	if err != nil {
		return nil, err
	}
	a.store = store
	enc := document.New(cfg.Transforms, func() int64 { return time.Now().UnixNano() })
	a.enc = enc
	a.memory = a.memorySplit()
	a.pipe = pipeline.New(enc, a.outputs, cfg.Workers, a.memory.Batches, logger)
	a.pipe.Tap().SetMemory(budget.New(budget.TapShare(int64(cfg.MemoryLimit))))
	if err := a.newKube(enc); err != nil {
		store.Close()
		return nil, err
	}
	if err := a.newFilters(); err != nil {
		store.Close()
		return nil, err
	}
	frames := budget.New(a.memory.Frames) // shared by every syslog input
	for _, in := range cfg.Inputs {
		switch in.Type {
		case "container_logs":
			t := tail.New(in, cfg.NodeName, a.pipe, store, logger)
			if err := a.shareFairly(t, in); err != nil {
				a.closeListeners()
				store.Close()
				return nil, err
			}
			a.inputs = append(a.inputs, t)
			a.sources = append(a.sources, source{in.Name, in.Type, t})
		case "syslog":
			var sink syslog.Sink = a.pipe
			var sp *spool.Spool
			var err error
			if in.Spool != nil {
				sp, err = a.openSpool(in)
				sink = sp
			}
			// Listen now, so a taken port fails the start, not just the input.
			var s *syslog.Input
			if err == nil {
				s, err = syslog.New(in, sink, logger, syslog.WithFrameMemory(frames))
			}
			if err == nil {
				err = s.Listen()
			}
			if err != nil {
				a.closeListeners()
				store.Close()
				return nil, fmt.Errorf("input %s: %w", in.Name, err)
			}
			a.inputs = append(a.inputs, s)
			a.sources = append(a.sources, source{in.Name, in.Type, s})
		default:
			a.closeListeners()
			store.Close()
			return nil, fmt.Errorf("input %s: type %q is not available", in.Name, in.Type)
		}
	}
	if err := a.newAPI(); err != nil {
		a.closeListeners()
		store.Close()
		return nil, err
	}
	return a, nil
}

// memorySplit shares memory_limit between the outputs' buffers and the
// batches (agent/budget.Split), and says how.
func (a *Agent) memorySplit() budget.Split {
	var outputs, inFlight int64
	writers := max(a.cfg.Workers, 1)
	for _, o := range a.outputs {
		if b, ok := o.(interface {
			BufferBytes(writers int) int64
			InFlightBytes(writers int) int64
		}); ok {
			outputs += b.BufferBytes(writers)
			inFlight += b.InFlightBytes(writers)
		}
	}
	// The tap's share is held outside the batches, as the outputs' is.
	outputs += budget.TapShare(int64(a.cfg.MemoryLimit))
	s := budget.NewSplit(int64(a.cfg.MemoryLimit), outputs, inFlight, a.cfg.HasSyslogTCP())
	args := []any{"memory_limit", s.Limit, "batches", s.Batches, "output_buffers", s.Outputs, "syslog_frames", s.Frames, "soft_limit", s.Soft}
	for _, oc := range a.cfg.Outputs {
		if oc.Type == "elasticsearch" && oc.Bulk.Sized {
			args = append(args, "bulk_max_bytes_"+oc.Name, int64(oc.Bulk.MaxBytes))
		}
	}
	if s.Tight {
		// A config file that asks for this is refused (agent/config); a
		// config built in code gets a warning.
		a.logger.Warn("memory_limit is small for the outputs' bulk bodies (bulk.max_bytes × (workers + 3 × bulk.workers) × 1.25, plus a write buffer per bulk worker) and the batches they refer to: the agent will use more; lower bulk.max_bytes or raise memory_limit", args...)
	} else {
		a.logger.Info("memory_limit shared out", args...)
	}
	return s
}

// MemorySplit is how memory_limit is shared out; its Soft is for the Go
// runtime's soft memory limit, which the program sets (budget.SetSoftLimit):
// it is the whole process's, not one agent's.
func (a *Agent) MemorySplit() budget.Split { return a.memory }

// newKube builds the Kubernetes enrichment when it is on. Outside a
// cluster without a kubeconfig (a laptop, a VM shipping syslog) the agent
// runs without it, and says so.
func (a *Agent) newKube(enc *document.Encoder) error {
	k := a.cfg.Kubernetes
	if !k.Enabled {
		return nil
	}
	e, err := kube.New(kube.Options{
		Config:      k,
		NodeName:    a.cfg.NodeName,
		KnownParser: enc.HasParser,
		UserAgent:   "sluice/" + a.version,
		Logger:      a.logger,
	})
	if errors.Is(err, kube.ErrUnavailable) {
		a.logger.Warn("kubernetes enrichment off: records carry the names from their file paths only", "reason", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("kubernetes: %w", err)
	}
	if err := a.registry.Register(e.Collector()); err != nil {
		return fmt.Errorf("kubernetes metrics: %w", err)
	}
	a.kube = e
	a.pipe.SetEnricher(e)
	a.AddReadyCheck("kubernetes", e.Ready)
	a.logger.Info("kubernetes enrichment on", "pods_from", e.Describe())
	return nil
}

// newFilters installs the drop, keep, throttle and fields transforms and
// the outputs' matches, registers their metrics, and runs the throttle
// summaries like an input (they stop with the inputs, before the
// pipeline).
func (a *Agent) newFilters() error {
	chain, err := transform.New(a.cfg.Transforms, transform.Options{})
	if err != nil {
		return err
	}
	a.pipe.SetTransforms(chain)
	routes := make([]*transform.Match, len(a.cfg.Outputs))
	routed := false
	for i, oc := range a.cfg.Outputs {
		if routes[i], err = transform.NewMatch(oc.Match); err != nil {
			return fmt.Errorf("output %s: %w", oc.Name, err)
		}
		routed = routed || routes[i] != nil
	}
	if routed {
		a.pipe.SetRoutes(routes)
	}
	if r := chain.Reporter(a.pipe); r != nil {
		a.inputs = append(a.inputs, r)
	}
	if chain == nil {
		return nil
	}
	a.filterStats = chain.Stats
	if err := a.registry.Register(chain.Collector()); err != nil {
		return fmt.Errorf("filter metrics: %w", err)
	}
	return nil
}

// newAPI registers the metrics and binds the HTTP API, unless http.listen
// is empty.
func (a *Agent) newAPI() error {
	if err := a.registerMetrics(); err != nil {
		return err
	}
	if a.cfg.HTTP.Listen == "" {
		return nil
	}
	var token string
	var err error
	if a.cfg.HTTP.TokenFile != "" {
		if token, err = config.ReadToken(a.cfg.HTTP.TokenFile); err != nil {
			return fmt.Errorf("http.token_file: %w", err)
		}
	}
	ln, err := net.Listen("tcp", a.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", a.cfg.HTTP.Listen, err)
	}
	a.httpLn = ln
	a.api = httpapi.New(httpapi.Options{
		Gatherer: a.lasting,
		Token:    token,
		Health:   httpapi.CheckFunc(a.pipe.Health),
		Ready:    httpapi.CheckFunc(a.readiness),
		Status:   func() any { return a.Status() },
		Tap:      a.pipe.Tap(),
		Logger:   a.logger,
		Pprof:    os.Getenv("SLUICE_PPROF") == "1",
		// Decided on the bound address: 0.0.0.0 and a node IP are public.
		Public:               !isLoopback(ln.Addr()),
		AllowUnauthenticated: a.cfg.HTTP.AllowUnauthenticatedAPI,
		TapWriteTimeout:      a.tapWriteTimeout, // zero: httpapi's default
	})
	return nil
}

// isLoopback reports whether addr is only reachable from this host.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// Addr is the address the HTTP API listens on; nil when it is off.
func (a *Agent) Addr() net.Addr {
	if a.httpLn == nil {
		return nil
	}
	return a.httpLn.Addr()
}

// Registry holds the agent's metrics.
func (a *Agent) Registry() *prometheus.Registry { return a.registry }

// Metrics is the process's metrics that this agent is part of.
func (a *Agent) Metrics() *metrics.Lasting { return a.lasting }

// AddReadyCheck adds a condition of /readyz, such as the Kubernetes
// metadata cache having synced. Call it before Run.
func (a *Agent) AddReadyCheck(name string, check func() error) {
	a.readyMu.Lock()
	defer a.readyMu.Unlock()
	a.readyChecks = append(a.readyChecks, namedCheck{name, check})
}

// readiness is /readyz: the config is loaded and every listener bound
// (both done by New), the agent is running and not shutting down, and
// every added check passes.
func (a *Agent) readiness() error {
	if !a.ready.Load() {
		return errors.New("not running: starting or shutting down")
	}
	a.readyMu.Lock()
	defer a.readyMu.Unlock()
	for _, c := range a.readyChecks {
		if err := c.check(); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return nil
}

// closeListeners releases the sockets of syslog inputs and the spools
// built so far, when New fails after them.
func (a *Agent) closeListeners() {
	_ = a.closeSpools() // New's own error is the one to report
	if a.httpLn != nil {
		a.httpLn.Close()
	}
	for _, in := range a.inputs {
		if s, ok := in.(*syslog.Input); ok {
			s.Close()
		}
	}
}

// Run runs the agent until ctx ends, then shuts it down in order: inputs
// stop reading, workers encode what is queued, outputs get up to
// shutdown_timeout to deliver it, and the checkpoints are saved.
func (a *Agent) Run(ctx context.Context) error {
	var errs []error
	a.started = time.Now()
	a.lasting.SetConfigHash(a.configHash)
	a.lasting.Attach(a.registry)
	// Runs after the API below has closed: the counters are final.
	defer a.lasting.Detach(a.registry)
	if a.api != nil {
		served := make(chan struct{})
		go func() {
			defer close(served)
			if err := a.api.Serve(a.httpLn); err != nil {
				a.logger.Error("http api stopped", "err", err)
			}
		}()
		// The API goes last: /metrics can be read until the very end.
		defer func() { a.api.Close(); <-served }()
		a.logger.Info("http api listening", "addr", a.httpLn.Addr().String())
	}

	outCtx, cancelOut := context.WithCancel(context.Background())
	defer cancelOut()
	var outWG sync.WaitGroup
	outErrs := make([]error, len(a.outputs))
	for i, o := range a.outputs {
		outWG.Add(1)
		go func() {
			defer outWG.Done()
			outErrs[i] = o.Run(outCtx)
		}()
	}

	pipeCtx, cancelPipe := context.WithCancel(context.Background())
	defer cancelPipe()
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- a.pipe.Run(pipeCtx, outCtx) }()

	syncCtx, cancelSync := context.WithCancel(context.Background())
	syncDone := make(chan struct{})
	go func() {
		defer close(syncDone)
		a.store.Run(syncCtx, a.cfg.CheckpointInterval.Duration(), a.logger.With("component", "checkpoint"))
	}()

	// The pod cache lives until the workers are done: a worker may be
	// waiting for a pod when the inputs stop.
	kubeCtx, cancelKube := context.WithCancel(context.Background())
	kubeDone := make(chan struct{})
	if a.kube != nil {
		go func() {
			defer close(kubeDone)
			if err := a.kube.Run(kubeCtx); err != nil {
				a.logger.Error("kubernetes metadata stopped", "err", err)
			}
		}()
		// Inputs start at once, whatever the API server: records read
		// before the cache holds this node's pods wait in Enrich for it,
		// up to sync_timeout.
	} else {
		close(kubeDone)
	}
	defer func() { cancelKube(); <-kubeDone }()

	inCtx, cancelIn := context.WithCancel(ctx)
	defer cancelIn()
	var inWG sync.WaitGroup
	for _, in := range a.inputs {
		inWG.Add(1)
		go func() {
			defer inWG.Done()
			if err := in.Run(inCtx); err != nil {
				a.logger.Error("input stopped", "err", err)
			}
		}()
	}
	a.ready.Store(true)
	a.logger.Info("agent started", "node", a.cfg.NodeName, "inputs", len(a.cfg.Inputs), "outputs", len(a.outputs), "workers", a.cfg.Workers)

	select {
	case <-ctx.Done():
	case err := <-pipeDone:
		// A worker failed: stop everything.
		errs = append(errs, fmt.Errorf("pipeline: %w", err))
		pipeDone <- nil
	}
	a.ready.Store(false)
	if a.kube != nil {
		a.kube.Release() // records waiting for the first sync go now
	}
	// One deadline, from the signal, for the whole shutdown: until it the
	// inputs stop and what they read is delivered; at it, delivery is cut
	// wherever it waits (an input's last hand-over, a worker handing a
	// body over, a sender, its backoff), so the agent exits even when an
	// output is down with a backlog. Only acknowledged lines are
	// checkpointed, so what is cut is read again after a restart.
	timeout := a.cfg.ShutdownTimeout.Duration()
	a.logger.Info("shutting down", "shutdown_timeout", timeout.String())
	sctx, cancelS := context.WithTimeout(context.Background(), timeout)
	defer cancelS()
	stopCut := context.AfterFunc(sctx, func() { a.pipe.Cut(); cancelOut() })
	cancelIn()
	inWG.Wait()
	cancelPipe()
	pipeErr := <-pipeDone
	drainErr := a.pipe.Drain(sctx)
	if drainErr == nil {
		stopCut()
		if err := pipeErr; err != nil && !errors.Is(err, pipeline.ErrCut) {
			errs = append(errs, fmt.Errorf("pipeline: %w", err))
		}
	} else {
		a.cut(pipeErr, drainErr, timeout)
		errs = append(errs, drainErr)
		if err := pipeErr; err != nil && !onlyIs(err, pipeline.ErrCut) {
			errs = append(errs, fmt.Errorf("pipeline: %w", err))
		}
	}
	cancelOut()
	outWG.Wait()
	for _, err := range outErrs {
		if err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, a.closeSpools())
	cancelSync()
	<-syncDone
	errs = append(errs, a.store.Close())
	err := errors.Join(errs...)
	if err == nil {
		a.logger.Info("stopped cleanly")
	}
	return err
}
