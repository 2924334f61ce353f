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
	"strconv"
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
	// TapIdleTimeout closes a tap that has sent its client nothing for
	// that long, so clients that went quiet do not hold the hub's slots
	// for good; the logs CLI reconnects. Default 5m.
	TapIdleTimeout time.Duration

	// Public: the listen address is not loopback, so every pod of the
	// node can reach it. Without a Token, /api/v1/* (every log line of
	// the node) and /debug/pprof then answer 403, unless
	// AllowUnauthenticated says the operator wants them open.
	Public               bool
	AllowUnauthenticated bool

	// MaxConns bounds the connections open at once (limit.go); 0 =
	// DefaultMaxConns.
	MaxConns int

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

	lnMu sync.Mutex
	ln   *limitListener // set by Serve

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
	if opts.TapIdleTimeout <= 0 {
		opts.TapIdleTimeout = 5 * time.Minute
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns()
	}
	s := &Server{opts: opts, logger: opts.Logger.With("component", "http"), closing: make(chan struct{})}
	if s.refused() {
		s.logger.Warn("/api/v1 and /debug/pprof refuse every request (403): " + refusedReason)
	} else if opts.Token == "" && opts.Public {
		s.logger.Warn("/api/v1 is open to anyone who can reach the port, without a token (http.allow_unauthenticated_api: true)")
	}
	s.srv = &http.Server{
		Handler:           s.guard(s.Handler()),
		ReadHeaderTimeout: ReadHeaderTimeout,
		// The whole request, body included, and the whole response: the
		// tap's stream clears both for itself once authorised, and gives
		// each write its own deadline.
		ReadTimeout: ReadTimeout,
		// The write deadline is guard's (WriteTimeout), so that pprof can
		// move it: net/http/pprof refuses a profile longer than the
		// server's WriteTimeout.
		IdleTimeout:    IdleTimeout,
		MaxHeaderBytes: MaxHeaderBytes,
		ConnContext:    connContext,
		ErrorLog:       slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Limits of every connection: anyone who can reach the port can open
// one, so each is cheap and short unless it is an authorised tap.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 30 * time.Second
	// MaxHeaderBytes: Go's default (1 MiB) let 100 connections take 80 MB.
	// The longest legitimate header here is a bearer token.
	MaxHeaderBytes = 16 << 10
)

// guard wraps every route. The API reads no request body: a request that
// announces one is answered without reading it, and its connection is
// closed after the answer instead of waiting for a body that may never
// come (Go reads up to 256 KiB of an unread body before reusing the
// connection). While a handler runs, the connection limiter leaves its
// connection alone.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(WriteTimeout))
		if lc := connFrom(r.Context()); lc != nil {
			lc.enter()
			defer lc.leave()
		}
		if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
			w.Header().Set("Connection", "close")
			// Runs before the server closes the body, which would
			// otherwise wait for it.
			defer func() { _ = http.NewResponseController(w).SetReadDeadline(time.Unix(1, 0)) }()
		}
		next.ServeHTTP(w, r)
	})
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
		mux.Handle("/debug/pprof/", s.authorize(longWrite(dbg)))
	}
	return mux
}

// Serve serves on ln until Close; it returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	lim := newLimitListener(ln, s.opts.MaxConns, s.logger)
	s.lnMu.Lock()
	s.ln = lim
	s.lnMu.Unlock()
	err := s.srv.Serve(lim)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// OpenConns is the number of connections open now (0 before Serve).
func (s *Server) OpenConns() int {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.ln == nil {
		return 0
	}
	return s.ln.open()
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

// longWrite gives a profile or trace of ?seconds=N the time to run.
func longWrite(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sec, err := strconv.Atoi(r.URL.Query().Get("seconds"))
		if err != nil || sec <= 0 {
			sec = 30 // pprof's default
		}
		d := min(time.Duration(sec)*time.Second, 10*time.Minute) + WriteTimeout
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		next.ServeHTTP(w, r)
	})
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

// refusedReason is the one line a refused request gets.
const refusedReason = "http.listen is not a loopback address and http.token_file is not set; set a token, listen on 127.0.0.1, or set http.allow_unauthenticated_api: true"

// refused: no token, reachable by every pod, and no opt-out.
func (s *Server) refused() bool {
	return s.opts.Token == "" && s.opts.Public && !s.opts.AllowUnauthenticated
}

func (s *Server) authorize(next http.Handler) http.Handler {
	if s.refused() {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, refusedReason, http.StatusForbidden)
		})
	}
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
