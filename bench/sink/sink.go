// Package sink is a fast fake Elasticsearch for benchmarks: it answers the
// client's product check and _bulk, counts documents, and checks that every
// record of a workload arrived exactly once with its parsed fields.
//
// It fakes only what the harness needs: GET / (info, with the
// X-Elastic-Product header go-elasticsearch checks) and POST /_bulk, which
// it answers with a 201 create for every item. It is not a store.
package sink

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/sluicelog/sluice/bench/workload"
)

// Sink is an http.Handler. Its zero value is not usable; call New.
type Sink struct {
	spec    workload.Spec
	records int        // per file (or syslog connection)
	bits    [][]uint64 // per file, one bit per sequence number
	// parse finds a document's file and sequence number and checks it.
	parse func(doc []byte) (f, seq int, ok bool)
	pods  map[string]int
	total int64

	docs, unique, dups, bad, requests, bodyBytes atomic.Int64
	enriched                                     atomic.Int64 // documents with kubernetes.pod_id (from the agent's pod cache)
	firstBad                                     atomic.Pointer[string]
	done                                         chan struct{}
	doneOnce                                     sync.Once
}

// New returns a sink that expects every record of spec.
func New(spec workload.Spec) *Sink {
	s := &Sink{spec: spec, records: spec.Records, pods: map[string]int{}, total: int64(spec.Total()), done: make(chan struct{})}
	s.parse = s.parseTail
	for f := range spec.Files {
		s.bits = append(s.bits, make([]uint64, (spec.Records+63)/64))
		s.pods[workload.PodName(f)] = f
	}
	if s.total == 0 {
		close(s.done)
	}
	return s
}

// Done is closed once every expected record has arrived.
func (s *Sink) Done() <-chan struct{} { return s.done }

// Report is the sink's account of what arrived.
type Report struct {
	Expected, Docs, Unique, Duplicates, Bad, Requests, BodyBytes int64
	Enriched                                                     int64 // documents carrying kubernetes.pod_id
	Missing                                                      int64
	FirstBad                                                     string // the first bad document, for the log
}

// OK says every record arrived once, well formed.
func (r Report) OK() bool { return r.Unique == r.Expected && r.Duplicates == 0 && r.Bad == 0 }

func (r Report) String() string {
	verdict := "OK"
	if !r.OK() {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s: %d/%d records exactly once, %d missing, %d duplicates, %d bad, %d documents in %d bulk requests",
		verdict, r.Unique, r.Expected, r.Missing, r.Duplicates, r.Bad, r.Docs, r.Requests)
}

// Report returns the current counts.
func (s *Sink) Report() Report {
	r := Report{Expected: s.total, Docs: s.docs.Load(), Unique: s.unique.Load(), Duplicates: s.dups.Load(),
		Bad: s.bad.Load(), Requests: s.requests.Load(), BodyBytes: s.bodyBytes.Load(),
		Enriched: s.enriched.Load()}
	r.Missing = r.Expected - r.Unique
	if p := s.firstBad.Load(); p != nil {
		r.FirstBad = *p
	}
	return r
}

const info = `{"name":"sluice-bench-sink","cluster_name":"bench","version":{"number":"8.15.0","build_flavor":"default","lucene_version":"9.11.1","minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}`

var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}

// ServeHTTP answers GET / and POST /_bulk, and POST /v1/logs (otlp.go).
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		io.WriteString(w, info)
	case r.URL.Path == "/v1/logs" && r.Method == http.MethodPost:
		s.otlp(w, r)
	case (r.URL.Path == "/_bulk" || bytes.HasSuffix([]byte(r.URL.Path), []byte("/_bulk"))) && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		s.bulk(w, r)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"not faked by the bench sink","status":404}`)
	}
}

func (s *Sink) bulk(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	br := readers.Get().(*bufio.Reader)
	br.Reset(r.Body)
	defer readers.Put(br)
	bp := bufs.Get().(*[]byte)
	out := append((*bp)[:0], `{"took":1,"errors":false,"items":[`...)
	var long []byte // a line longer than the reader's buffer
	items := 0
	action := true
	var n int64
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		n += int64(len(line))
		if t := bytes.TrimSpace(line); len(t) > 0 {
			if action {
				if items > 0 {
					out = append(out, ',')
				}
				out = append(out, `{"create":{"status":201}}`...)
				items++
			} else {
				s.check(t)
			}
			action = !action
		}
		if err != nil {
			break
		}
	}
	s.bodyBytes.Add(n)
	out = append(out, "]}"...)
	w.Write(out)
	*bp = out
	bufs.Put(bp)
}

// check accounts for one document.
func (s *Sink) check(doc []byte) {
	s.docs.Add(1)
	f, seq, ok := s.parse(doc)
	if !ok {
		s.bad.Add(1)
		str := string(doc)
		s.firstBad.CompareAndSwap(nil, &str)
		return
	}
	if bytes.Contains(doc, []byte(`"pod_id":"`)) {
		s.enriched.Add(1)
	}
	s.account(f, seq)
}

// account marks record seq of file f arrived.
func (s *Sink) account(f, seq int) {
	word := &s.bits[f][seq/64]
	bit := uint64(1) << (seq % 64)
	if atomic.OrUint64(word, bit)&bit != 0 {
		s.dups.Add(1)
		return
	}
	if s.unique.Add(1) == s.total {
		s.doneOnce.Do(func() { close(s.done) })
	}
}

// parse finds the record's file and sequence number and checks its parsed
// fields: @timestamp, stream, the kubernetes object naming the file's pod,
// and either the JSON line's members merged at the top level (no "log") or
// the whole plain line, joined if it was split, in "log".
func (s *Sink) parseTail(doc []byte) (f, seq int, ok bool) {
	if !bytes.HasPrefix(doc, []byte("{")) || !bytes.Contains(doc, []byte(`"@timestamp":"2026-11-26T`)) {
		return 0, 0, false
	}
	pod, ok := stringAfter(doc, `"pod_name":"`)
	if !ok {
		return 0, 0, false
	}
	f, ok = s.pods[string(pod)]
	if !ok || !bytes.Contains(doc, []byte(`"namespace_name":"`+workload.Namespace+`"`)) {
		return 0, 0, false
	}
	if log, ok := stringAfter(doc, `"log":"`); ok {
		// plain: file=F seq=S … end=S, on stderr
		if !bytes.Contains(doc, []byte(`"stream":"stderr"`)) {
			return 0, 0, false
		}
		lf, ok1 := intAfter(log, "file=")
		seq, ok2 := intAfter(log, " seq=")
		end, ok3 := intAfter(log, " end=")
		if !ok1 || !ok2 || !ok3 || lf != f || end != seq || !bytes.HasSuffix(log, []byte(" end="+strconv.Itoa(seq))) {
			return 0, 0, false
		}
		return f, seq, s.inRange(seq)
	}
	if !bytes.Contains(doc, []byte(`"stream":"stdout"`)) || !bytes.Contains(doc, []byte(`"level":"`)) ||
		!bytes.Contains(doc, []byte(`"msg":"request served `)) {
		return 0, 0, false
	}
	jf, ok1 := intAfter(doc, `"file":`)
	seq, ok2 := intAfter(doc, `"seq":`)
	end, ok3 := intAfter(doc, `"end":`)
	if !ok1 || !ok2 || !ok3 || jf != f || end != seq {
		return 0, 0, false
	}
	return f, seq, s.inRange(seq)
}

func (s *Sink) inRange(seq int) bool { return seq >= 0 && seq < s.records }

// stringAfter returns the bytes between key (which ends in an opening
// quote) and the next quote. The workload writes no escaped quotes.
func stringAfter(doc []byte, key string) ([]byte, bool) {
	i := bytes.Index(doc, []byte(key))
	if i < 0 {
		return nil, false
	}
	rest := doc[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil, false
	}
	return rest[:j], true
}

func intAfter(b []byte, key string) (int, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0, false
	}
	n, digits := 0, 0
	for _, c := range b[i+len(key):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
		digits++
	}
	return n, digits > 0
}
