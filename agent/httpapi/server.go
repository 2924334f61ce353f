// Package httpapi is the agent's HTTP API: /metrics (Prometheus),
// /healthz and /readyz for the kubelet, and under /api/v1 the status page
// and the live tap. /api/v1 shows every log of the node, so it can require
// a bearer token; /metrics and the probes stay open.
package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicelog/sluice/agent/tap"
)

// Checker answers a probe: nil is healthy (or ready).
type Checker interface {
	Check() error
}

// CheckFunc adapts a function to Checker.
type CheckFunc func() error

// Check calls f.
func (f CheckFunc) Check() error { return f() }

// Options configure a Server. Every field but Logger may be left zero, and
// the endpoint then answers as if all is well (probes) or 404 (tap,
// status, metrics).
type Options struct {
	Gatherer prometheus.Gatherer // /metrics
	Token    string              // bearer token for /api/v1/*; "" = none
	Health   Checker             // /healthz
	Ready    Checker             // /readyz
	Status   func() any          // /api/v1/status, encoded as JSON
	Tap      *tap.Hub            // /api/v1/tap
	Logger   *slog.Logger

	// TapWriteTimeout bounds each write to a tap client; a client that
	// takes longer is disconnected. Default 10s.
	TapWriteTimeout time.Duration

	// Pprof mounts net/http/pprof under /debug/pprof/, behind the same
	// token as /api/v1/: profiles show memory contents (log lines), and a
	// CPU profile costs CPU, so it is opt-in (SLUICE_PPROF=1).
	Pprof bool
}

// Server serves the API. Create it with New, run it with Serve, stop it
// with Close.
type Server struct {
	opts   Options
	logger *slog.Logger
	srv    *http.Server

	closeOnce sync.Once
	closing   chan struct{} // closed by Close: tap streams end
}

// New returns a server for opts.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.TapWriteTimeout <= 0 {
		opts.TapWriteTimeout = 10 * time.Second
	}
	s := &Server{opts: opts, logger: opts.Logger.With("component", "http"), closing: make(chan struct{})}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		// No WriteTimeout: the tap streams for as long as its client
		// reads; each of its writes has its own deadline.
		IdleTimeout: time.Minute,
		ErrorLog:    slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Handler returns the routes, with the token check on /api/v1/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.probe(s.opts.Health))
	mux.HandleFunc("GET /readyz", s.probe(s.opts.Ready))
	if s.opts.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{
			ErrorLog:      slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
			ErrorHandling: promhttp.ContinueOnError,
		}))
	}
	api := http.NewServeMux()
	if s.opts.Status != nil {
		api.HandleFunc("GET /api/v1/status", s.status)
	}
	if s.opts.Tap != nil {
		api.HandleFunc("GET /api/v1/tap", s.tap)
	}
	mux.Handle("/api/v1/", s.authorize(api))
	if s.opts.Pprof {
		dbg := http.NewServeMux()
		dbg.HandleFunc("/debug/pprof/", pprof.Index) // also serves heap, allocs, goroutine, …
		dbg.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		dbg.HandleFunc("/debug/pprof/profile", pprof.Profile)
		dbg.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		dbg.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.Handle("/debug/pprof/", s.authorize(dbg))
	}
	return mux
}

// Serve serves on ln until Close; it returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close ends the tap streams and closes every connection.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	return s.srv.Close()
}

// Shutdown ends the tap streams, then waits for other requests to finish
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.closing) })
	return s.srv.Shutdown(ctx)
}

func (s *Server) probe(c Checker) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if c != nil {
			if err := c.Check(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, err.Error()+"\n")
				return
			}
		}
		_, _ = io.WriteString(w, "ok\n")
	}
}

// authorize requires "Authorization: Bearer <token>" when a token is set.
// TokenHeader carries the token as an alternative to "Authorization:
// Bearer": the API server's pod proxy (how the logs CLI reaches agents)
// authenticates the user with the Authorization header and strips it
// before proxying, but passes other headers through.
const TokenHeader = "X-Sluice-Token"

func (s *Server) authorize(next http.Handler) http.Handler {
	if s.opts.Token == "" {
		return next
	}
	want := []byte(s.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := r.Header.Get(TokenHeader), true
		if got == "" {
			var scheme string
			scheme, got, ok = strings.Cut(r.Header.Get("Authorization"), " ")
			ok = ok && strings.EqualFold(scheme, "Bearer")
		}
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
			http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s.opts.Status()); err != nil {
		s.logger.Warn("write status", "err", err)
	}
}
