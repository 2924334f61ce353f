// Package runtime builds the agent from its config and runs it: outputs
// start first and stop last, inputs start last and stop first, so each
// stage drains into the next on shutdown.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/agent/checkpoint"
	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/console"
	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/elasticsearch"
	"github.com/sluicelog/sluice/agent/pipeline"
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
	store   *checkpoint.Store
	outputs []pipeline.Output
	pipe    *pipeline.Pipeline
	inputs  []input
	ready   atomic.Bool
}

// New builds every part of the agent. stdout is where console outputs
// write.
func New(cfg *config.Config, stdout io.Writer, logger *slog.Logger) (*Agent, error) {
	a := &Agent{cfg: cfg, logger: logger}
	for _, oc := range cfg.Outputs {
		switch oc.Type {
		case "elasticsearch":
			o, err := elasticsearch.New(oc, logger)
			if err != nil {
				return nil, fmt.Errorf("output %s: %w", oc.Name, err)
			}
			a.outputs = append(a.outputs, o)
		case "console":
			a.outputs = append(a.outputs, console.New(oc.Name, stdout))
		default:
			return nil, fmt.Errorf("output %s: unknown type %q", oc.Name, oc.Type)
		}
	}
	store, err := checkpoint.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a.store = store
	enc := document.New(cfg.Transforms, func() int64 { return time.Now().UnixNano() })
	a.pipe = pipeline.New(enc, a.outputs, cfg.Workers, int64(cfg.MemoryLimit), logger)
	for _, in := range cfg.Inputs {
		switch in.Type {
		case "container_logs":
			a.inputs = append(a.inputs, tail.New(in, cfg.NodeName, a.pipe, store, logger))
		case "syslog":
			// Listen now, so a taken port fails the start, not just the input.
			s, err := syslog.New(in, a.pipe, logger)
			if err == nil {
				err = s.Listen()
			}
			if err != nil {
				a.closeListeners()
				store.Close()
				return nil, fmt.Errorf("input %s: %w", in.Name, err)
			}
			a.inputs = append(a.inputs, s)
		default:
			a.closeListeners()
			store.Close()
			return nil, fmt.Errorf("input %s: type %q is not available", in.Name, in.Type)
		}
	}
	return a, nil
}

// closeListeners releases the sockets of syslog inputs built so far, when
// New fails after them.
func (a *Agent) closeListeners() {
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
	var ln net.Listener
	if a.cfg.HTTP.Listen != "" {
		l, err := net.Listen("tcp", a.cfg.HTTP.Listen)
		if err != nil {
			a.store.Close()
			return fmt.Errorf("http listen %s: %w", a.cfg.HTTP.Listen, err)
		}
		ln = l
		srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		a.logger.Info("http api listening", "addr", ln.Addr().String())
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
		a.store.Run(syncCtx, a.cfg.CheckpointInterval.D(), a.logger.With("component", "checkpoint"))
	}()

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
	a.logger.Info("agent started", "node", a.cfg.NodeName, "inputs", len(a.inputs), "outputs", len(a.outputs), "workers", a.cfg.Workers)

	select {
	case <-ctx.Done():
	case err := <-pipeDone:
		// A worker failed: stop everything.
		errs = append(errs, fmt.Errorf("pipeline: %w", err))
		pipeDone <- nil
	}
	a.ready.Store(false)
	a.logger.Info("shutting down")
	cancelIn()
	inWG.Wait()
	cancelPipe()
	if err := <-pipeDone; err != nil {
		errs = append(errs, fmt.Errorf("pipeline: %w", err))
	}
	dctx, cancelDrain := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout.D())
	if err := a.pipe.Drain(dctx); err != nil {
		errs = append(errs, err)
	}
	cancelDrain()
	cancelOut()
	outWG.Wait()
	for _, err := range outErrs {
		if err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	}
	cancelSync()
	<-syncDone
	errs = append(errs, a.store.Close())
	err := errors.Join(errs...)
	if err == nil {
		a.logger.Info("stopped cleanly")
	}
	return err
}

func (a *Agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	return mux
}
