package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeElasticsearchSearch imitates Elasticsearch's _search as documented
// for paging (no real Elasticsearch runs here; VictoriaLogs has no
// _search): POST /<index pattern>/_search with a bool filter of range and
// term clauses, sort on @timestamp (a `date`: milliseconds) then a keyword
// field, size, and search_after taking the last hit's sort values. Hits
// carry _source and sort; @timestamp sorts as epoch milliseconds, as
// Elasticsearch returns it. Unknown clauses are refused with a 400, as
// Elasticsearch refuses them, and a wrong password with a 401.
type fakeElasticsearchSearch struct {
	srv *httptest.Server

	mu       sync.Mutex
	indices  map[string][]map[string]any
	requests []map[string]any // bodies of the _search requests
}

func newFakeElasticsearchSearch(t *testing.T) *fakeElasticsearchSearch {
	f := &fakeElasticsearchSearch{indices: map[string][]map[string]any{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// searches returns the bodies of the _search requests so far.
func (f *fakeElasticsearchSearch) searches() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.requests...)
}

func (f *fakeElasticsearchSearch) add(index string, docs ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.indices[index] = append(f.indices[index], docs...)
}

func esError(w http.ResponseWriter, code int, typ, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":{"root_cause":[{"type":%q,"reason":%q}],"type":%q,"reason":%q},"status":%d}`, typ, reason, typ, reason, code)
}

func (f *fakeElasticsearchSearch) serve(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != "elastic" || p != "changeme" {
		w.Header().Set("WWW-Authenticate", `Basic realm="security" charset="UTF-8"`)
		esError(w, http.StatusUnauthorized, "security_exception", "missing authentication credentials for REST request")
		return
	}
	pattern, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/_search")
	if !ok || r.Method != http.MethodPost {
		// Elasticsearch reads other paths as index names.
		esError(w, http.StatusNotFound, "index_not_found_exception", "no such index ["+strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]+"]")
		return
	}
	var body struct {
		Size        int               `json:"size"`
		Query       map[string]any    `json:"query"`
		Sort        []map[string]any  `json:"sort"`
		SearchAfter []json.RawMessage `json:"search_after"`
		TrackTotal  *bool             `json:"track_total_hits"`
	}
	var raw map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		esError(w, 400, "parse_exception", err.Error())
		return
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &body); err != nil {
		esError(w, 400, "parse_exception", err.Error())
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, raw)
	var docs []map[string]any
	for name, ds := range f.indices {
		if m, _ := path.Match(pattern, name); m {
			docs = append(docs, ds...)
		}
	}
	f.mu.Unlock()
	if len(body.Sort) != 2 || body.Sort[0]["@timestamp"] == nil {
		esError(w, 400, "illegal_argument_exception", "the fake sorts on @timestamp then one keyword field only")
		return
	}
	var idField string
	for k := range body.Sort[1] {
		idField = k
	}
	type hit struct {
		ms  int64
		id  string
		doc map[string]any
	}
	var hits []hit
	for _, d := range docs {
		ok, err := matches(body.Query, d)
		if err != nil {
			esError(w, 400, "parsing_exception", err.Error())
			return
		}
		if ok {
			id, _ := d[idField].(string)
			hits = append(hits, hit{ms: millis(d["@timestamp"].(string)), id: id, doc: d})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].ms != hits[j].ms {
			return hits[i].ms < hits[j].ms
		}
		return hits[i].id < hits[j].id
	})
	if len(body.SearchAfter) == 2 {
		var ms int64
		var id string
		if json.Unmarshal(body.SearchAfter[0], &ms) != nil || json.Unmarshal(body.SearchAfter[1], &id) != nil {
			esError(w, 400, "illegal_argument_exception", "search_after does not match the sort")
			return
		}
		i := sort.Search(len(hits), func(i int) bool {
			return hits[i].ms > ms || hits[i].ms == ms && hits[i].id > id
		})
		hits = hits[i:]
	}
	if len(hits) > body.Size {
		hits = hits[:body.Size]
	}
	out := []map[string]any{}
	for _, h := range hits {
		out = append(out, map[string]any{"_index": "logs", "_id": h.id, "_score": nil, "_source": h.doc, "sort": []any{h.ms, h.id}})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"took": 1, "timed_out": false,
		"hits": map[string]any{"max_score": nil, "hits": out},
	})
}

func millis(ts string) int64 {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return 0
	}
	return t.UnixMilli()
}

// matches evaluates the query clauses the fake knows: bool (filter,
// should + minimum_should_match), term (a keyword; `.keyword` sub-fields
// read the same value) and range on @timestamp (milliseconds, as a date).
func matches(q map[string]any, doc map[string]any) (bool, error) {
	for kind, v := range q {
		spec, _ := v.(map[string]any)
		switch kind {
		case "bool":
			for k, clauses := range spec {
				list, _ := clauses.([]any)
				switch k {
				case "filter":
					for _, c := range list {
						if ok, err := matches(c.(map[string]any), doc); err != nil || !ok {
							return false, err
						}
					}
				case "should":
					n := 0
					for _, c := range list {
						ok, err := matches(c.(map[string]any), doc)
						if err != nil {
							return false, err
						}
						if ok {
							n++
						}
					}
					if n == 0 {
						return false, nil
					}
				case "minimum_should_match":
				default:
					return false, fmt.Errorf("[bool] unknown clause [%s]", k)
				}
			}
		case "term":
			for field, want := range spec {
				if field := strings.TrimSuffix(field, ".keyword"); fmt.Sprint(lookup(doc, field)) != fmt.Sprint(want) {
					return false, nil
				}
			}
		case "range":
			r, _ := spec["@timestamp"].(map[string]any)
			if r == nil {
				return false, fmt.Errorf("the fake ranges on @timestamp only")
			}
			ms := millis(doc["@timestamp"].(string))
			if v, ok := r["gte"].(string); ok && ms < millis(v) {
				return false, nil
			}
			if v, ok := r["lt"].(string); ok && ms >= millis(v) {
				return false, nil
			}
		default:
			return false, fmt.Errorf("unknown query [%s]", kind)
		}
	}
	return true, nil
}

func lookup(doc map[string]any, dotted string) any {
	var v any = doc
	for p := range strings.SplitSeq(dotted, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}
