package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeBulk fakes an Elasticsearch _bulk endpoint in the states a shutdown
// must survive, which no real store here can be made to take on demand.
// It follows the documented protocol of the Bulk API
// (https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk,
// response body:
// https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html#bulk-api-response-body):
// an NDJSON body of action and source line pairs; a 200 answer whose
// "items" hold one object per action, in order, keyed by the action
// ("create") with its "status" (201 created), and "errors": false when
// every item succeeded. Every answer carries "X-Elastic-Product:
// Elasticsearch", as Elasticsearch 7.14+ does. A 401 carries the
// security_exception body and WWW-Authenticate header Elasticsearch sends
// without valid credentials
// (https://www.elastic.co/docs/api/doc/elasticsearch/#topic-authentication).
//
// Documents count as stored once the body is read and parsed, before the
// answer is written, as in Elasticsearch: an agent may miss the answer of
// a stored request (and send it again), never the other way round. So the
// stored set is what a checkpoint may cover at most.
type fakeBulk struct {
	mode    bulkMode
	delay   time.Duration // before each answer (modeAnswer)
	goneAt  int           // modeAnswer: stored documents after which the endpoint goes away; 0: never
	srv     *http.Server
	ln      net.Listener
	URL     string
	gone    chan struct{}
	goneOne sync.Once
	stop    chan struct{} // closed at the end of the test: ends held requests

	mu        sync.Mutex
	stored    map[string]map[int]bool // by the document's "file", its "seq" numbers
	summaries int                     // throttle summary documents
	requests  int
	answered  int
}

type bulkMode int

const (
	modeAnswer    bulkMode = iota // 201 for every item, after delay
	modeRefuse                    // no listener: connections are refused
	modeUnauth                    // 401 security_exception for every request
	modeBlackhole                 // reads the request, never answers
)

func (m bulkMode) String() string {
	return [...]string{"answer", "refuse", "401", "blackhole"}[m]
}

// startFakeBulk starts an endpoint in mode on 127.0.0.1. modeRefuse binds
// a port and closes it, so its URL refuses connections.
func startFakeBulk(t *testing.T, mode bulkMode, delay time.Duration, goneAt int) *fakeBulk {
	t.Helper()
	f := &fakeBulk{
		mode: mode, delay: delay, goneAt: goneAt,
		gone: make(chan struct{}), stop: make(chan struct{}),
		stored: map[string]map[int]bool{},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f.ln = ln
	f.URL = "http://" + ln.Addr().String()
	if mode == modeRefuse {
		require.NoError(t, ln.Close())
		f.goAway()
		return f
	}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = f.srv.Serve(ln) // returns once the test closes the server
	}()
	t.Cleanup(func() {
		close(f.stop)
		f.goAway()
		<-served
	})
	return f
}

// goAway closes the listener and every connection: from now on the
// endpoint refuses connections, like a store whose node is gone.
func (f *fakeBulk) goAway() {
	f.goneOne.Do(func() {
		if f.srv != nil {
			_ = f.srv.Close()
		}
		close(f.gone)
	})
}

func (f *fakeBulk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/_bulk" {
		http.Error(w, "not faked", http.StatusNotFound)
		return
	}
	f.mu.Lock()
	f.requests++
	f.mu.Unlock()
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	switch f.mode {
	case modeUnauth:
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("WWW-Authenticate", `Basic realm="security" charset="UTF-8"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"root_cause":[{"type":"security_exception","reason":"missing authentication credentials for REST request [/_bulk]"}],"type":"security_exception","reason":"missing authentication credentials for REST request [/_bulk]"},"status":401}`)
		return
	case modeBlackhole:
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done(): // the agent gave up, or the test ended
		case <-f.stop:
		}
		return
	}
	items, err := f.store(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	select {
	case <-time.After(f.delay): // the store's indexing time
	case <-r.Context().Done():
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"took":1,"errors":false,"items":[`)
	for i := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"create":{"_index":"logs","_id":"%d","_version":1,"result":"created","status":201}}`, i)
	}
	b.WriteString(`]}`)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b.Bytes())
	f.mu.Lock()
	f.answered++
	n := f.total()
	f.mu.Unlock()
	if f.goneAt > 0 && n >= f.goneAt {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush() // this answer still arrives; the next request finds nobody
		}
		go f.goAway() // Close waits for handlers: not from this one
	}
}

// store parses a bulk body and records its documents; it returns how many
// items it held.
func (f *fakeBulk) store(body io.Reader) (int, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	type doc struct {
		File string          `json:"file"`
		Seq  json.RawMessage `json:"seq"`
		Log  string          `json:"log"`
	}
	var docs []doc
	for sc.Scan() {
		var action map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil {
			return 0, fmt.Errorf("action line: %w", err)
		}
		if _, ok := action["create"]; !ok || len(action) != 1 {
			return 0, fmt.Errorf("action is not create: %s", sc.Bytes())
		}
		if !sc.Scan() {
			return 0, fmt.Errorf("action without a document")
		}
		var d doc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return 0, fmt.Errorf("document: %w", err)
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range docs {
		seq, err := strconv.Atoi(string(d.Seq))
		if d.File == "" || err != nil {
			f.summaries++ // a throttle summary: no file, no seq
			continue
		}
		if f.stored[d.File] == nil {
			f.stored[d.File] = map[int]bool{}
		}
		f.stored[d.File][seq] = true
	}
	return len(docs), nil
}

// total is the number of distinct documents stored; f.mu is held.
func (f *fakeBulk) total() int {
	n := 0
	for _, s := range f.stored {
		n += len(s)
	}
	return n
}

// snapshot is what the endpoint has seen so far.
type bulkSnapshot struct {
	requests, answered, docs, summaries int
}

func (f *fakeBulk) snapshot() bulkSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bulkSnapshot{f.requests, f.answered, f.total(), f.summaries}
}

// has reports whether document seq of file was stored.
func (f *fakeBulk) has(file string, seq int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stored[file][seq]
}
