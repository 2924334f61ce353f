package elasticsearch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// faultyBulk fakes an Elasticsearch node's _bulk endpoint, faithful to the
// documented protocol: NDJSON action/document pairs in, create semantics
// on _id (409 version_conflict_engine_exception when the id is taken), a
// field "n" mapped as long (a string there is an item-level 400
// mapper_parsing_exception), the documented response body, and
// X-Elastic-Product: Elasticsearch on every answer. On top it injects the
// faults a real server cannot be made to produce on demand: a 429 on one
// item, a whole-request 503, a reset connection, a plain-text 400.
type faultyBulk struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	calls     int            // _bulk requests answered or failed
	wireBytes int64          // request bodies as they arrived (compressed or not)
	headers   []http.Header  // of each _bulk request
	paths     []string       // of each _bulk request, with its query
	docs      map[string]int // times each document (by key) arrived in a request
	keys      [][]string     // document keys of each _bulk request, in order
	bodies    [][]byte       // of each _bulk request, decompressed
	store     map[string][]byte
	order     []string // stored keys in order

	// templates holds the bodies of PUT _index_template/<name>, by name;
	// noTemplates makes the fake a store without that API (405).
	templates   map[string][]byte
	noTemplates bool
	// openSearch leaves out X-Elastic-Product, as OpenSearch does.
	openSearch bool
	// model, when set, makes the fake an Elasticsearch 8/9 cluster with
	// templates, data streams and mappings (esmodel_test.go).
	model *esModel
	// firstBulk is the number of templates installed when the first _bulk
	// request arrived.
	firstBulk int

	// block, when set, holds every _bulk request until it is closed.
	block chan struct{}
	// onRequest may answer a whole request with a fault; call counts
	// _bulk requests from 1. It runs before any document is stored.
	onRequest func(call int, ops []bulkOp) *fault
	// onItem may force a status for the item at pos of a request, in
	// place of storing it: 429 gets es_rejected_execution_exception.
	onItem func(call, pos int, op bulkOp) int
	// early may answer a _bulk request from its headers alone, before a
	// byte of its body is read (a 413 over http.max_content_length, a
	// 401); net/http's server then closes the connection as RFC 9112
	// §9.6 says, writing side first. earlyAnswers counts those answers.
	early        func(r *http.Request) *fault
	earlyAnswers int
	// bodyRead, when set, reads each _bulk body in place of io.ReadAll
	// (a slow reader).
	bodyRead func(r io.Reader) ([]byte, error)
}

// bulkOp is one action/document pair of a request.
type bulkOp struct {
	Action string
	Index  string
	ID     string
	Doc    []byte
}

// key names a document for counting: its _id, or its body without one.
func (op bulkOp) key() string {
	if op.ID != "" {
		return op.ID
	}
	return string(op.Doc)
}

// fault is a whole-request failure.
type fault struct {
	reset       bool // hijack the connection and close it: no answer
	status      int
	contentType string
	body        string
	retryAfter  string
	storeFirst  int // store this many documents before failing (VictoriaLogs does)
}

func newFaultyBulk(t testing.TB) *faultyBulk {
	f := newUnstartedFaultyBulk(t)
	f.srv.Start()
	return f
}

// newUnstartedFaultyBulk returns a fake whose server the caller starts
// (StartTLS, after setting its TLS config).
func newUnstartedFaultyBulk(t testing.TB) *faultyBulk {
	f := &faultyBulk{t: t, docs: map[string]int{}, store: map[string][]byte{}, templates: map[string][]byte{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *faultyBulk) serve(w http.ResponseWriter, r *http.Request) {
	if !f.openSearch {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	if r.Method == http.MethodGet && strings.TrimSuffix(r.URL.Path, "/") == "" {
		w.Header().Set("Content-Type", "application/json")
		version := "8.15.0"
		if f.model != nil {
			version = f.model.version
		}
		_, _ = io.WriteString(w, `{"name":"faulty","cluster_name":"test","version":{"number":"`+version+`"},"tagline":"You Know, for Search"}`)
		return
	}
	if f.model != nil && r.Method == http.MethodPut && (strings.HasPrefix(r.URL.Path, "/_index_template/") || strings.HasPrefix(r.URL.Path, "/_component_template/")) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		var status int
		var typ, reason string
		if name, ok := strings.CutPrefix(r.URL.Path, "/_index_template/"); ok {
			status, typ, reason = f.model.putTemplate(name, body)
			if status == http.StatusOK {
				f.templates[name] = body
			}
		} else {
			status, typ, reason = f.model.putComponent(strings.TrimPrefix(r.URL.Path, "/_component_template/"), body)
		}
		f.mu.Unlock()
		if status != http.StatusOK {
			esError(w, status, typ, reason)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"acknowledged":true}`)
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, "/_index_template/"); ok && r.Method == http.MethodPut && !f.noTemplates {
		body, _ := io.ReadAll(r.Body)
		var tmpl map[string]any
		if err := json.Unmarshal(body, &tmpl); err != nil || tmpl["index_patterns"] == nil {
			esError(w, http.StatusBadRequest, "x_content_parse_exception", "bad index template")
			return
		}
		f.mu.Lock()
		f.templates[name] = body
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"acknowledged":true}`)
		return
	}
	if f.model != nil && f.serveSearch(w, r) {
		return
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/_bulk") {
		esError(w, http.StatusMethodNotAllowed, "illegal_argument_exception", "no handler for "+r.Method+" "+r.URL.Path)
		return
	}
	if f.early != nil {
		if ft := f.early(r); ft != nil {
			f.mu.Lock()
			f.earlyAnswers++
			f.mu.Unlock()
			f.fail(w, ft)
			return
		}
	}
	read := io.ReadAll
	if f.bodyRead != nil {
		read = f.bodyRead
	}
	raw, err := read(r.Body)
	if err != nil {
		f.t.Errorf("faultyBulk: read body: %v", err)
		return
	}
	body := raw
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			esError(w, http.StatusBadRequest, "parse_exception", "bad gzip body: "+err.Error())
			return
		}
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-ndjson") && !strings.HasPrefix(ct, "application/json") {
		esError(w, http.StatusNotAcceptable, "media_type_header_exception", "Content-Type header ["+ct+"] is not supported")
		return
	}
	ops, err := parseBulkBody(body)
	if err != nil {
		esError(w, http.StatusBadRequest, "illegal_argument_exception", err.Error())
		return
	}

	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	f.calls++
	call := f.calls
	if call == 1 {
		f.firstBulk = len(f.templates)
	}
	f.wireBytes += int64(len(raw))
	f.headers = append(f.headers, r.Header.Clone())
	f.paths = append(f.paths, r.URL.RequestURI())
	keys := make([]string, len(ops))
	for i, op := range ops {
		f.docs[op.key()]++
		keys[i] = op.key()
	}
	f.keys = append(f.keys, keys)
	f.bodies = append(f.bodies, body)
	var ft *fault
	if f.onRequest != nil {
		ft = f.onRequest(call, ops)
	}
	if ft != nil {
		for _, op := range ops[:min(ft.storeFirst, len(ops))] {
			f.put(op)
		}
		f.mu.Unlock()
		f.fail(w, ft)
		return
	}
	items := make([]map[string]any, len(ops))
	errors := false
	for i, op := range ops {
		status, errObj, fs := f.apply(call, i, op)
		res := map[string]any{"_index": op.Index, "_id": op.ID, "status": status}
		if fs {
			res["failure_store"] = "used"
		}
		if errObj != nil {
			res["error"] = errObj
			errors = true
		} else {
			res["_version"] = 1
			res["result"] = "created"
			res["_shards"] = map[string]int{"total": 2, "successful": 1, "failed": 0}
			res["_seq_no"] = len(f.order) - 1
			res["_primary_term"] = 1
		}
		items[i] = map[string]any{op.Action: res}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"took": 3, "errors": errors, "items": items})
}

// apply handles one item with f.mu held and returns its status and error.
func (f *faultyBulk) apply(call, pos int, op bulkOp) (int, map[string]any, bool) {
	if f.onItem != nil {
		if st := f.onItem(call, pos, op); st != 0 {
			typ := "illegal_argument_exception"
			if st == http.StatusTooManyRequests {
				typ = "es_rejected_execution_exception"
			}
			return st, map[string]any{"type": typ, "reason": "injected by faultyBulk"}, false
		}
	}
	if f.model != nil && op.Action == "delete" {
		if st := f.model.delete(op); st != http.StatusOK {
			return st, nil, false
		}
		return http.StatusOK, nil, false
	}
	if op.Action != "create" && op.Action != "index" {
		return http.StatusBadRequest, map[string]any{"type": "illegal_argument_exception", "reason": "faultyBulk takes create and index only"}, false
	}
	doc, err := decodeDoc(op.Doc)
	if err != nil {
		return http.StatusBadRequest, map[string]any{"type": "mapper_parsing_exception", "reason": "failed to parse: " + err.Error()}, false
	}
	if f.model != nil {
		// Ids, mappings, data streams and the failure store as documented
		// (esmodel_test.go).
		status, errObj, fs := f.model.write(op, doc)
		if status == http.StatusCreated && !fs {
			f.put(op)
		}
		return status, errObj, fs
	}
	if n, ok := doc["n"]; ok {
		if _, isNum := n.(json.Number); !isNum {
			return http.StatusBadRequest, map[string]any{
				"type":      "mapper_parsing_exception",
				"reason":    fmt.Sprintf("failed to parse field [n] of type [long] in document with id '%s'. Preview of field's value: '%v'", op.ID, n),
				"caused_by": map[string]any{"type": "illegal_argument_exception", "reason": fmt.Sprintf("For input string: \"%v\"", n)},
			}, false
		}
	}
	if op.ID != "" && op.Action == "create" {
		if _, taken := f.store[op.ID]; taken {
			return http.StatusConflict, map[string]any{
				"type":   "version_conflict_engine_exception",
				"reason": "[" + op.ID + "]: version conflict, document already exists (current version [1])",
			}, false
		}
	}
	f.put(op)
	return http.StatusCreated, nil, false
}

// serveSearch answers the point-in-time and search calls of the model.
func (f *faultyBulk) serveSearch(w http.ResponseWriter, r *http.Request) bool {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/_pit"):
		index := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/_pit")
		st, id := f.model.openPIT(index)
		if st != http.StatusOK {
			esError(w, st, "index_not_found_exception", "no such index ["+index+"]")
			return true
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id})
	case r.Method == http.MethodPost && r.URL.Path == "/_search":
		st, res := f.model.search(body)
		if st != http.StatusOK {
			esError(w, st, "search_phase_execution_exception", "bad search")
			return true
		}
		_ = json.NewEncoder(w).Encode(res)
	case r.Method == http.MethodDelete && r.URL.Path == "/_pit":
		_, _ = io.WriteString(w, `{"succeeded":true,"num_freed":1}`)
	default:
		r.Body = io.NopCloser(bytes.NewReader(body))
		return false
	}
	return true
}

func (f *faultyBulk) put(op bulkOp) {
	k := op.key()
	if _, ok := f.store[k]; !ok {
		f.order = append(f.order, k)
	}
	f.store[k] = op.Doc
}

func (f *faultyBulk) fail(w http.ResponseWriter, ft *fault) {
	if ft.reset {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			f.t.Errorf("faultyBulk: hijack: %v", err)
			return
		}
		_ = conn.Close()
		return
	}
	if ft.retryAfter != "" {
		w.Header().Set("Retry-After", ft.retryAfter)
	}
	ct := ft.contentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(ft.status)
	_, _ = io.WriteString(w, ft.body)
}

// esError writes an Elasticsearch error response.
func esError(w http.ResponseWriter, status int, typ, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error":  map[string]any{"type": typ, "reason": reason, "root_cause": []any{map[string]any{"type": typ, "reason": reason}}},
		"status": status,
	})
}

// parseBulkBody splits an NDJSON bulk body into its operations.
func parseBulkBody(body []byte) ([]bulkOp, error) {
	var ops []bulkOp
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil || len(action) != 1 {
			return nil, fmt.Errorf("Malformed action/metadata line [%d], expected START_OBJECT but found [%q]", line, sc.Bytes())
		}
		var op bulkOp
		for name, meta := range action {
			op = bulkOp{Action: name, Index: meta.Index, ID: meta.ID}
		}
		if op.Action == "delete" {
			ops = append(ops, op)
			continue
		}
		if !sc.Scan() {
			return nil, fmt.Errorf("The bulk request must be terminated by a newline [\\n]; action line [%d] has no document", line)
		}
		line++
		op.Doc = bytes.Clone(sc.Bytes())
		ops = append(ops, op)
	}
	if len(body) > 0 && body[len(body)-1] != '\n' {
		return nil, fmt.Errorf("The bulk request must be terminated by a newline [\\n]")
	}
	return ops, sc.Err()
}

// Accessors, each under the lock.

func (f *faultyBulk) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *faultyBulk) sentCount(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.docs[key]
}

func (f *faultyBulk) stored(key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.store[key]
	return d, ok
}

func (f *faultyBulk) storedKeys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.order...)
}

// requestKeys returns the document keys of _bulk request call (from 1).
func (f *faultyBulk) requestKeys(call int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if call < 1 || call > len(f.keys) {
		return nil
	}
	return f.keys[call-1]
}

// lastBody returns the body of the last _bulk request, decompressed.
func (f *faultyBulk) lastBody(t *testing.T) []byte {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.NotEmpty(t, f.bodies)
	return f.bodies[len(f.bodies)-1]
}
