package noisy

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// slowStore fakes an Elasticsearch _bulk endpoint that is the bottleneck:
// it answers one request at a time, each after delay, with a 201 create
// for every item (the bulk API's documented response shape). It notes when
// each line arrived, by pod and sequence number, from the document's "log"
// field, which the writers fill with "<pod> <seq> <written-at nanos> …".
type slowStore struct {
	delay time.Duration
	serve sync.Mutex // one request at a time

	mu       sync.Mutex
	arrived  map[string]map[int]time.Time // pod -> seq -> first arrival
	written  map[string]map[int]int64     // pod -> seq -> write time (nanos), from the line
	dups     int
	docs     int
	bad      int
	requests int
}

func newSlowStore(delay time.Duration) *slowStore {
	return &slowStore{delay: delay, arrived: map[string]map[int]time.Time{}, written: map[string]map[int]int64{}}
}

const info = `{"name":"noisy-bench","cluster_name":"bench","version":{"number":"8.15.0","build_flavor":"default","lucene_version":"9.11.1","minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}`

func (s *slowStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		io.WriteString(w, info)
	case bytes.HasSuffix([]byte(r.URL.Path), []byte("/_bulk")) && r.Method == http.MethodPost:
		s.bulk(w, r)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"not faked by the noisy bench store","status":404}`)
	}
}

func (s *slowStore) bulk(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.serve.Lock()
	time.Sleep(s.delay) // the store's work on this request
	now := time.Now()
	out := []byte(`{"took":1,"errors":false,"items":[`)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	action, items := true, 0
	s.mu.Lock()
	s.requests++
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if action {
			if items > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"create":{"status":201}}`...)
			items++
		} else {
			s.note(line, now)
		}
		action = !action
	}
	s.mu.Unlock()
	s.serve.Unlock()
	out = append(out, "]}"...)
	w.Write(out)
}

// note accounts for one document; s.mu is held.
func (s *slowStore) note(doc []byte, now time.Time) {
	s.docs++
	i := bytes.Index(doc, []byte(`"log":"`))
	if i < 0 {
		s.bad++
		return
	}
	f := bytes.Fields(doc[i+len(`"log":"`):])
	if len(f) < 3 {
		s.bad++
		return
	}
	pod := string(f[0])
	seq, err1 := strconv.Atoi(string(f[1]))
	at, err2 := strconv.ParseInt(string(bytes.TrimSuffix(f[2], []byte(`"`))), 10, 64)
	if err1 != nil || err2 != nil {
		s.bad++
		return
	}
	m := s.arrived[pod]
	if m == nil {
		m = map[int]time.Time{}
		s.arrived[pod] = m
		s.written[pod] = map[int]int64{}
	}
	if _, dup := m[seq]; dup {
		s.dups++
		return
	}
	m[seq] = now
	s.written[pod][seq] = at
}
