package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/sluicelog/sluice/agent/tap"
)

// droppedLine is the last line a tap client gets when it was dropped for
// not keeping up; it is not a document.
const droppedLine = `{"sluice_tap":{"dropped":"the client did not read fast enough; reconnect"}}` + "\n"

// tap streams the documents that match the query's filter as NDJSON, each
// chunk flushed as it comes, until the client goes away, is dropped for
// being slow, or the server closes.
func (s *Server) tap(w http.ResponseWriter, r *http.Request) {
	f, err := tap.ParseFilter(r.URL.Query())
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
	s.logger.Info("tap client connected", "remote", r.RemoteAddr, "query", r.URL.RawQuery)

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
	write := func(p []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.opts.TapWriteTimeout))
		if _, err := w.Write(p); err != nil {
			return false
		}
		return true
	}
	if rc.Flush() != nil {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case chunk, ok := <-sub.C():
			if !ok {
				if sub.Dropped() {
					s.logger.Warn("tap client dropped: it did not keep up", "remote", r.RemoteAddr)
					if write([]byte(droppedLine)) {
						_ = rc.Flush()
					}
				}
				return
			}
			if !write(chunk) {
				return
			}
			// Write what else is waiting before one flush.
			for more := true; more; {
				select {
				case c, ok := <-sub.C():
					if !ok {
						more = false
						break
					}
					if !write(c) {
						return
					}
				default:
					more = false
				}
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}
