package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sluicelog/sluice/agent/tap"
)

// droppedLine is the last line a tap client gets when it was dropped for
// not keeping up; it is not a document.
const droppedLine = `{"sluice_tap":{"dropped":"the client did not read fast enough; reconnect"}}` + "\n"

// MaxTapQueryBytes bounds the tap's whole query string; each value has its
// own, smaller limit (tap.MaxValueBytes).
const MaxTapQueryBytes = 4096

// tap streams the documents that match the query's filter as NDJSON, each
// run flushed as it comes, until the client goes away, is dropped for
// being slow, stays idle for TapIdleTimeout, or the server closes. The
// filter runs here, on the request's goroutine, never on a pipeline
// worker.
func (s *Server) tap(w http.ResponseWriter, r *http.Request) {
	if n := len(r.URL.RawQuery); n > MaxTapQueryBytes {
		http.Error(w, fmt.Sprintf("the query is %d bytes, over the limit of %d", n, MaxTapQueryBytes), http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	f, err := tap.ParseFilter(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sub, err := s.opts.Tap.Subscribe(f)
	if errors.Is(err, tap.ErrTooMany) {
		http.Error(w, err.Error(), http.StatusTooManyRequests)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer sub.Unsubscribe()
	// The names of the filters only: a value can be long, and is the
	// client's business.
	s.logger.Info("tap client connected", "remote", r.RemoteAddr, "filters", filterNames(q), "query_bytes", len(r.URL.RawQuery))

	// The stream lasts as long as its client reads: no request deadline
	// (ReadTimeout would end it through the server's background read),
	// and a deadline per write instead of one for the whole response.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	deadline := func() { _ = rc.SetWriteDeadline(time.Now().Add(s.opts.TapWriteTimeout)) }
	deadline()
	if rc.Flush() != nil {
		return
	}
	idle := time.NewTimer(s.opts.TapIdleTimeout)
	defer idle.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-idle.C:
			s.logger.Info("tap client closed: nothing sent for the idle limit", "remote", r.RemoteAddr, "idle_limit", s.opts.TapIdleTimeout)
			return
		case c, ok := <-sub.C():
			if !ok {
				s.tapDropped(w, rc, sub, r.RemoteAddr)
				return
			}
			deadline()
			n, err := sub.WriteMatching(w, c)
			// Write what else is waiting before one flush.
			for more := err == nil; more; {
				select {
				case c, ok := <-sub.C():
					if !ok {
						more = false
						break
					}
					var m int
					m, err = sub.WriteMatching(w, c)
					n += m
					more = err == nil
				default:
					more = false
				}
			}
			if err != nil || n > 0 && rc.Flush() != nil {
				return
			}
			if n > 0 {
				idle.Reset(s.opts.TapIdleTimeout)
			}
		}
	}
}

// tapDropped tells a client the hub dropped that it was, when it was.
func (s *Server) tapDropped(w http.ResponseWriter, rc *http.ResponseController, sub *tap.Subscriber, remote string) {
	if !sub.Dropped() {
		return
	}
	s.logger.Warn("tap client dropped: it did not keep up", "remote", remote)
	_ = rc.SetWriteDeadline(time.Now().Add(s.opts.TapWriteTimeout))
	if _, err := w.Write([]byte(droppedLine)); err == nil {
		_ = rc.Flush()
	}
}

// filterNames lists the query's parameter names, sorted.
func filterNames(q map[string][]string) string {
	names := make([]string, 0, len(q))
	for k := range q {
		if len(k) > 32 {
			k = k[:32] + "…"
		}
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}
