package elasticsearch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// esModel makes faultyBulk behave as an Elasticsearch 8/9 cluster does, as
// documented (no server can be installed here):
//
//   - GET / answers the version
//     (https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-info).
//   - The built-in index template "logs": index_patterns ["logs-*-*"],
//     priority 100, data_stream {}, composed of logs@mappings,
//     logs@settings and logs@custom
//     (https://www.elastic.co/docs/manage-data/data-store/templates).
//   - PUT _component_template/<name> and PUT _index_template/<name>: a
//     template composed of a component that does not exist is refused
//     unless listed in ignore_missing_component_templates; a template
//     whose patterns overlap another's at equal priority is refused
//     ("multiple index templates may not match during index creation")
//     (https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-indices-put-index-template).
//   - Writing to a name that does not exist creates it from the matching
//     template of highest priority: a data stream when that template has
//     data_stream, else an index
//     (https://www.elastic.co/docs/manage-data/data-store/data-streams/set-up-data-stream).
//   - Data stream names: lower case, none of \ / * ? " < > | , # : or
//     space, not starting with - _ + or .ds-, at most 255 bytes
//     (https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-indices-create-data-stream).
//   - A data stream takes op_type create only
//     (https://www.elastic.co/docs/manage-data/data-store/data-streams/use-data-stream#add-documents-to-a-data-stream).
//   - Dynamic mapping: dots in field names are objects, so a leaf and an
//     object at one path (labels app and app.kubernetes.io/name) are a
//     document_parsing_exception; mapped fields count toward
//     index.mapping.total_fields.limit (default 1000)
//     (https://www.elastic.co/docs/reference/elasticsearch/index-settings/mapping-limit).
//     A flattened field is one field whatever its keys
//     (https://www.elastic.co/docs/reference/elasticsearch/mapping-reference/flattened).
//   - The failure store: a data stream whose template enables it keeps a
//     document that fails mapping in the failure store and answers 201
//     with "failure_store":"used"
//     (https://www.elastic.co/docs/manage-data/data-store/data-streams/failure-store).
type esModel struct {
	version    string
	templates  map[string]*modelTemplate
	components map[string]json.RawMessage
	targets    map[string]*modelTarget // data streams and indices by name
	// refused counts template PUTs refused, by template name.
	refused  map[string]int
	pits     map[string][]pitEntry
	searches int
}

type modelTemplate struct {
	name          string
	Patterns      []string  `json:"index_patterns"`
	Priority      int       `json:"priority"`
	DataStream    *struct{} `json:"data_stream"`
	ComposedOf    []string  `json:"composed_of"`
	IgnoreMissing []string  `json:"ignore_missing_component_templates"`
	Template      *struct {
		Settings          json.RawMessage `json:"settings"`
		Mappings          json.RawMessage `json:"mappings"`
		DataStreamOptions *struct {
			FailureStore *struct {
				Enabled bool `json:"enabled"`
			} `json:"failure_store"`
		} `json:"data_stream_options"`
	} `json:"template"`
}

// modelTarget is a data stream or an index, with its mapping.
type modelTarget struct {
	name         string
	template     string
	dataStream   bool
	failureStore bool
	fieldLimit   int
	flattened    map[string]bool
	flat         map[string]bool   // objects with subobjects: false
	fields       map[string]string // path -> "object", "long" or "leaf"
	docs         map[string]bulkOp // by _id (or body, without one)
	order        []string
	failures     []bulkOp
}

func newESModel(version string) *esModel {
	m := &esModel{
		version:    version,
		templates:  map[string]*modelTemplate{},
		components: map[string]json.RawMessage{},
		targets:    map[string]*modelTarget{},
		refused:    map[string]int{},
	}
	// Built in since 7.9 (stack templates).
	for _, c := range []string{"logs@mappings", "logs@settings"} {
		m.components[c] = json.RawMessage(`{"template":{}}`)
	}
	m.templates["logs"] = &modelTemplate{
		name: "logs", Patterns: []string{"logs-*-*"}, Priority: 100, DataStream: &struct{}{},
		ComposedOf:    []string{"logs@mappings", "logs@settings", "logs@custom"},
		IgnoreMissing: []string{"logs@custom"},
	}
	return m
}

// addFleet installs a template as a Fleet integration would.
func (m *esModel) addFleet(name, pattern string, priority int) {
	m.templates[name] = &modelTemplate{name: name, Patterns: []string{pattern}, Priority: priority, DataStream: &struct{}{}}
}

// putComponent handles PUT _component_template/<name>.
func (m *esModel) putComponent(name string, body []byte) (int, string, string) {
	var c struct {
		Template json.RawMessage `json:"template"`
	}
	if json.Unmarshal(body, &c) != nil || c.Template == nil {
		return http.StatusBadRequest, "x_content_parse_exception", "[component_template] failed to parse: template is required"
	}
	m.components[name] = body
	return http.StatusOK, "", ""
}

// putTemplate handles PUT _index_template/<name>.
func (m *esModel) putTemplate(name string, body []byte) (int, string, string) {
	t := &modelTemplate{name: name}
	if err := json.Unmarshal(body, t); err != nil || len(t.Patterns) == 0 {
		m.refused[name]++
		return http.StatusBadRequest, "x_content_parse_exception", "[index_template] failed to parse"
	}
	for _, c := range t.ComposedOf {
		if _, ok := m.components[c]; !ok && !slices.Contains(t.IgnoreMissing, c) {
			m.refused[name]++
			return http.StatusBadRequest, "invalid_index_template_exception",
				fmt.Sprintf("index_template [%s] invalid, cause [index template [%s] specifies component templates [%s] that do not exist]", name, name, c)
		}
	}
	names := make([]string, 0, len(m.templates))
	for n := range m.templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		o := m.templates[n]
		if n == name || o.Priority != t.Priority {
			continue
		}
		for _, p := range t.Patterns {
			for _, q := range o.Patterns {
				if globsOverlap(p, q) {
					m.refused[name]++
					return http.StatusBadRequest, "illegal_argument_exception",
						fmt.Sprintf("index template [%s] has index patterns %v matching patterns from existing templates [%s] with patterns (%s => %v) that have the same priority [%d], multiple index templates may not match during index creation, please use a different priority",
							name, t.Patterns, n, n, o.Patterns, t.Priority)
				}
			}
		}
	}
	m.templates[name] = t
	return http.StatusOK, "", ""
}

// resolve returns the template a new name gets: the matching one of
// highest priority, or nil.
func (m *esModel) resolve(name string) *modelTemplate {
	var best *modelTemplate
	for _, t := range m.templates {
		for _, p := range t.Patterns {
			if glob(p, name) && (best == nil || t.Priority > best.Priority) {
				best = t
			}
		}
	}
	return best
}

// validDataStreamName applies the create data stream API's name rules.
func validDataStreamName(n string) error {
	switch {
	case n != strings.ToLower(n):
		return fmt.Errorf("data_stream [%s] must be lowercase", n)
	case strings.ContainsAny(n, `\/*?"<>|,# :`):
		return fmt.Errorf("data_stream [%s] must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]", n)
	case strings.HasPrefix(n, "-") || strings.HasPrefix(n, "_") || strings.HasPrefix(n, "+"):
		return fmt.Errorf("data_stream [%s] must not start with '_', '-', or '+'", n)
	case strings.HasPrefix(n, ".ds-"):
		return fmt.Errorf("data_stream [%s] must not start with '.ds-'", n)
	case len(n) > 255:
		return fmt.Errorf("data_stream [%s] name is too long", n)
	}
	return nil
}

// target returns (creating it on first write) the data stream or index
// op goes to, or an item error.
func (m *esModel) target(op bulkOp) (*modelTarget, int, map[string]any) {
	if t, ok := m.targets[op.Index]; ok {
		return t, 0, nil
	}
	tmpl := m.resolve(op.Index)
	t := &modelTarget{name: op.Index, fieldLimit: 1000, flattened: map[string]bool{}, flat: map[string]bool{}, fields: map[string]string{}, docs: map[string]bulkOp{}}
	if tmpl != nil {
		t.template = tmpl.name
		t.dataStream = tmpl.DataStream != nil
		for _, c := range tmpl.ComposedOf {
			if raw, ok := m.components[c]; ok {
				var ct struct {
					Template struct {
						Settings json.RawMessage `json:"settings"`
						Mappings json.RawMessage `json:"mappings"`
					} `json:"template"`
				}
				_ = json.Unmarshal(raw, &ct)
				t.apply(ct.Template.Settings, ct.Template.Mappings)
			}
		}
		if tmpl.Template != nil {
			t.apply(tmpl.Template.Settings, tmpl.Template.Mappings)
			if o := tmpl.Template.DataStreamOptions; o != nil && o.FailureStore != nil {
				t.failureStore = o.FailureStore.Enabled
			}
		}
	}
	if t.dataStream {
		if err := validDataStreamName(op.Index); err != nil {
			return nil, http.StatusBadRequest, map[string]any{"type": "invalid_index_name_exception", "reason": err.Error()}
		}
	}
	m.targets[op.Index] = t
	return t, 0, nil
}

// apply reads a template's settings and mappings into t.
func (t *modelTarget) apply(settings, mappings json.RawMessage) {
	var s struct {
		Index struct {
			Mapping struct {
				TotalFields struct {
					Limit int `json:"limit"`
				} `json:"total_fields"`
			} `json:"mapping"`
		} `json:"index"`
	}
	if json.Unmarshal(settings, &s) == nil && s.Index.Mapping.TotalFields.Limit > 0 {
		t.fieldLimit = s.Index.Mapping.TotalFields.Limit
	}
	var mp struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(mappings, &mp) == nil {
		t.walkProps("", mp.Properties)
	}
}

func (t *modelTarget) walkProps(prefix string, props map[string]json.RawMessage) {
	for name, raw := range props {
		path := prefix + name
		var f struct {
			Type       string                     `json:"type"`
			Subobjects *bool                      `json:"subobjects"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		_ = json.Unmarshal(raw, &f)
		switch {
		case f.Type == "flattened":
			t.flattened[path] = true
			t.fields[path] = "leaf"
		case f.Properties != nil || f.Type == "object" || f.Subobjects != nil:
			t.fields[path] = "object"
			if f.Subobjects != nil && !*f.Subobjects {
				t.flat[path] = true
			}
			t.walkProps(path+".", f.Properties)
		case f.Type == "long" || f.Type == "integer":
			t.fields[path] = "long"
		default:
			t.fields[path] = "leaf"
		}
	}
}

// index maps doc's fields as dynamic mapping does, and reports a
// mapping error (nothing is changed then).
func (t *modelTarget) index(doc map[string]any) error {
	added := map[string]string{}
	kind := func(p string) string {
		if k, ok := added[p]; ok {
			return k
		}
		return t.fields[p]
	}
	var walk func(prefix string, obj map[string]any) error
	walk = func(prefix string, obj map[string]any) error {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := obj[k]
			segs := []string{k}
			if !t.flat[strings.TrimSuffix(prefix, ".")] {
				segs = strings.Split(k, ".")
			}
			path := strings.TrimSuffix(prefix, ".")
			for i, s := range segs {
				if path != "" {
					path += "."
				}
				path += s
				if t.flattened[path] {
					break
				}
				last := i == len(segs)-1
				_, isObj := v.(map[string]any)
				want := "object"
				if last && !isObj {
					want = "leaf"
					if _, num := v.(json.Number); num {
						want = "long"
					}
				}
				switch have := kind(path); {
				case have == "":
					added[path] = want
				case (have == "object") != (want == "object"):
					return fmt.Errorf("[%s] can't merge a non object mapping [%s] with an object mapping", path, path)
				case have == "long" && want == "leaf":
					if _, err := strconv.ParseFloat(fmt.Sprint(v), 64); err != nil {
						return fmt.Errorf("failed to parse field [%s] of type [long]. Preview of field's value: '%v'", path, v)
					}
				}
			}
			if t.flattened[path] {
				continue
			}
			if sub, ok := v.(map[string]any); ok {
				if err := walk(path+".", sub); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk("", doc); err != nil {
		return err
	}
	if len(t.fields)+len(added) > t.fieldLimit {
		return fmt.Errorf("Limit of total fields [%d] has been exceeded while adding new fields [%d]", t.fieldLimit, len(added))
	}
	for p, k := range added {
		t.fields[p] = k
	}
	return nil
}

// write handles one create or index item.
func (m *esModel) write(op bulkOp, doc map[string]any) (status int, errObj map[string]any, failureStore bool) {
	t, st, e := m.target(op)
	if e != nil {
		return st, e, false
	}
	if t.dataStream && op.Action != "create" {
		return http.StatusBadRequest, map[string]any{"type": "illegal_argument_exception",
			"reason": "only write ops with an op_type of create are allowed in data streams"}, false
	}
	key := op.key()
	if _, taken := t.docs[key]; taken && op.ID != "" && op.Action == "create" {
		return http.StatusConflict, map[string]any{"type": "version_conflict_engine_exception",
			"reason": "[" + op.ID + "]: version conflict, document already exists (current version [1])"}, false
	}
	if err := t.index(doc); err != nil {
		if t.failureStore {
			t.failures = append(t.failures, op)
			return http.StatusCreated, nil, true
		}
		return http.StatusBadRequest, map[string]any{"type": "document_parsing_exception", "reason": err.Error()}, false
	}
	if _, ok := t.docs[key]; !ok {
		t.order = append(t.order, key)
	}
	t.docs[key] = op
	return http.StatusCreated, nil, false
}

// dataStreams lists the data streams, sorted.
func (m *esModel) dataStreams() []string {
	var out []string
	for n, t := range m.targets {
		if t.dataStream {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// glob matches s against an index pattern, where * is any run.
func glob(p, s string) bool {
	if p == "" {
		return s == ""
	}
	if p[0] == '*' {
		for i := 0; i <= len(s); i++ {
			if glob(p[1:], s[i:]) {
				return true
			}
		}
		return false
	}
	return s != "" && p[0] == s[0] && glob(p[1:], s[1:])
}

// globsOverlap reports whether some name matches both patterns, as
// Elasticsearch's check of overlapping templates does (an automaton
// intersection; here a search over both patterns).
func globsOverlap(a, b string) bool {
	switch {
	case a == "" && b == "":
		return true
	case a != "" && a[0] == '*':
		return globsOverlap(a[1:], b) || (b != "" && globsOverlap(a, b[1:]))
	case b != "" && b[0] == '*':
		return globsOverlap(b, a)
	case a == "" || b == "":
		return false
	default:
		return a[0] == b[0] && globsOverlap(a[1:], b[1:])
	}
}

// decodeDoc decodes a document as JSON with numbers kept.
func decodeDoc(b []byte) (map[string]any, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return doc, dec.Decode(&doc)
}

// Points in time, _search with search_after and bulk delete, as
// documented (https://www.elastic.co/docs/reference/elasticsearch/rest-apis/paginate-search-results#search-after,
// https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-open-point-in-time,
// https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk):
// a point in time keeps the view of the index when it was opened, hits
// sort on @timestamp (epoch milliseconds) then _shard_doc, search_after
// takes the sort values of the last hit, and a delete of a missing id is
// answered 404 "not_found".

type pitEntry struct {
	id     string
	millis int64
	shard  int64
	source json.RawMessage
}

// openPIT handles POST /<index>/_pit.
func (m *esModel) openPIT(index string) (int, string) {
	t, ok := m.targets[index]
	if !ok {
		return http.StatusNotFound, ""
	}
	var snap []pitEntry
	for i, k := range t.order {
		op, ok := t.docs[k]
		if !ok {
			continue
		}
		var d struct {
			TS string `json:"@timestamp"`
		}
		_ = json.Unmarshal(op.Doc, &d)
		ts, _ := time.Parse(time.RFC3339Nano, d.TS)
		snap = append(snap, pitEntry{id: op.ID, millis: ts.UnixMilli(), shard: int64(i), source: op.Doc})
	}
	sort.SliceStable(snap, func(i, j int) bool {
		if snap[i].millis != snap[j].millis {
			return snap[i].millis < snap[j].millis
		}
		return snap[i].shard < snap[j].shard
	})
	if m.pits == nil {
		m.pits = map[string][]pitEntry{}
	}
	id := fmt.Sprintf("pit-%d", len(m.pits)+1)
	m.pits[id] = snap
	return http.StatusOK, id
}

// search handles POST /_search with a point in time.
func (m *esModel) search(body []byte) (int, any) {
	var q struct {
		Size int `json:"size"`
		Pit  struct {
			ID string `json:"id"`
		} `json:"pit"`
		SearchAfter []int64 `json:"search_after"`
		Query       struct {
			Range struct {
				TS struct {
					Gte string `json:"gte"`
				} `json:"@timestamp"`
			} `json:"range"`
		} `json:"query"`
	}
	if err := json.Unmarshal(body, &q); err != nil {
		return http.StatusBadRequest, nil
	}
	snap, ok := m.pits[q.Pit.ID]
	if !ok {
		return http.StatusNotFound, nil
	}
	var since int64 = -1 << 62
	if q.Query.Range.TS.Gte != "" {
		t, err := time.Parse(time.RFC3339Nano, q.Query.Range.TS.Gte)
		if err != nil {
			return http.StatusBadRequest, nil
		}
		since = t.UnixMilli()
	}
	var match []pitEntry
	for _, e := range snap {
		if e.millis >= since {
			match = append(match, e)
		}
	}
	hits := []any{}
	for _, e := range match {
		if len(hits) == q.Size {
			break
		}
		if len(q.SearchAfter) == 2 && (e.millis < q.SearchAfter[0] || e.millis == q.SearchAfter[0] && e.shard <= q.SearchAfter[1]) {
			continue
		}
		hits = append(hits, map[string]any{"_id": e.id, "_source": e.source, "sort": []int64{e.millis, e.shard}})
	}
	m.searches++
	return http.StatusOK, map[string]any{"pit_id": q.Pit.ID, "hits": map[string]any{"total": map[string]any{"value": len(match), "relation": "eq"}, "hits": hits}}
}

// delete handles a bulk delete item.
func (m *esModel) delete(op bulkOp) int {
	t, ok := m.targets[op.Index]
	if !ok {
		return http.StatusNotFound
	}
	if _, ok := t.docs[op.ID]; !ok {
		return http.StatusNotFound
	}
	delete(t.docs, op.ID)
	return http.StatusOK
}

// rollover gives a data stream a new write index whose mapping is that of
// its template now, as a rollover does after a template change
// (https://www.elastic.co/docs/manage-data/data-store/data-streams/modify-data-stream#data-streams-change-mappings-and-settings);
// the documents stay.
func (m *esModel) rollover(name string) {
	old := m.targets[name]
	delete(m.targets, name)
	t, _, _ := m.target(bulkOp{Index: name})
	t.docs, t.order = old.docs, old.order
}
