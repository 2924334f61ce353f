package elasticsearch

import (
	"encoding/json"
	"strings"

	"github.com/sluicelog/sluice/agent/document"
)

// Templates that coexist (https://www.elastic.co/docs/manage-data/data-store/templates):
// Elasticsearch's built-in templates have priority 100 (logs-*-*; in 8.16+
// also logs-*.otel-* at 150), Fleet integrations' go up to 200, and two
// templates whose patterns overlap at equal priority are refused. Ours
// covers only our own datasets (logs-sluice.*-*), which overlap the
// built-in ones and no integration's, and takes a priority above 500 as
// that page advises for a template that must win over the built-in ones:
// never equal to any of theirs, never matching another tenant's names.
const templatePriority = 520

// builtinCustom is the @custom component the built-in logs template
// composes: an operator's settings there (an ILM policy, say) apply to
// our data streams too.
const builtinCustom = "logs@custom"

// managedTemplates are the component and index templates the output
// installs for its data streams.
type managedTemplates struct {
	indexName     string // sluice-<type>[-<schema>]
	componentName string // <indexName>-mappings
	customName    string // <indexName>@custom: the operator's hook
	index         []byte
	component     []byte
}

// buildTemplates renders the templates for d's names in schema s, for a
// server of version v.
func buildTemplates(d *DataStreams, s document.Schema, v serverInfo, failureStore bool) *managedTemplates {
	name := "sluice-" + d.Type
	if s != document.SchemaFluentd {
		name += "-" + s.String()
	}
	t := &managedTemplates{indexName: name, componentName: name + "-mappings", customName: name + "@custom"}
	patterns := []string{d.Type + "-" + DatasetPrefix + "*-*"}
	for _, ds := range d.allDatasets() {
		if !strings.HasPrefix(ds, DatasetPrefix) {
			patterns = append(patterns, d.Type+"-"+ds+"-*")
		}
	}
	comp := map[string]any{
		"_meta": map[string]any{"managed_by": "sluice", "description": "sluice: field mappings of the " + s.String() + " schema"},
		"template": map[string]any{
			"settings": map[string]any{"index": map[string]any{"mapping": map[string]any{"total_fields": map[string]any{"limit": 2000}}}},
			"mappings": schemaMappings(s),
		},
	}
	composed := []string{t.componentName}
	idx := map[string]any{
		"_meta":          map[string]any{"managed_by": "sluice", "description": "sluice: data streams " + strings.Join(patterns, ", ")},
		"index_patterns": patterns,
		"data_stream":    map[string]any{},
		"priority":       templatePriority,
	}
	// ignore_missing_component_templates came with 8.7: before it, a hook
	// nobody created would make the template fail.
	if v.atLeast(8, 7) {
		composed = append(composed, builtinCustom, t.customName)
		idx["ignore_missing_component_templates"] = []string{builtinCustom, t.customName}
	}
	idx["composed_of"] = composed
	// The failure store is set in the template since 8.19 / 9.1
	// (https://www.elastic.co/docs/manage-data/data-store/data-streams/failure-store).
	if failureStore && (v.atLeast(9, 1) || v.major == 8 && v.atLeast(8, 19)) {
		idx["template"] = map[string]any{"data_stream_options": map[string]any{"failure_store": map[string]any{"enabled": true}}}
	}
	t.index, _ = json.MarshalIndent(idx, "", "  ") // maps of strings always marshal
	t.component, _ = json.MarshalIndent(comp, "", "  ")
	return t
}

// keyword is a string field searched as a whole.
var keyword = map[string]any{"type": "keyword", "ignore_above": 1024}

// flattened maps a whole object as one field: its keys never become
// mapped fields, so label keys such as app and app.kubernetes.io/name
// cannot collide, and label churn does not grow the mapping
// (https://www.elastic.co/docs/reference/elasticsearch/mapping-reference/flattened).
var flattened = map[string]any{"type": "flattened"}

func props(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return map[string]any{"properties": m}
}

func stringsAsKeywords(path string) map[string]any {
	return map[string]any{strings.ReplaceAll(path, ".", "_") + "_strings": map[string]any{
		"path_match": path + ".*", "match_mapping_type": "string", "mapping": keyword,
	}}
}

func sluiceProps() map[string]any {
	b := map[string]any{"type": "boolean"}
	return props("error", map[string]any{"type": "text"}, "truncated", b, "malformed", b, "time_fallback", b)
}

// schemaMappings is the mapping of the fields sluice writes in schema s.
func schemaMappings(s document.Schema) map[string]any {
	date := map[string]any{"type": "date_nanos"}
	text := map[string]any{"type": "text"}
	switch s {
	case document.SchemaECS:
		m := props(
			"@timestamp", date,
			"message", text,
			"stream", keyword,
			"log", props("level", keyword, "iostream", keyword, "syslog", map[string]any{"type": "object"}),
			"event", props("dataset", keyword, "original", map[string]any{"type": "keyword", "index": false, "doc_values": false}),
			"data_stream", props("type", map[string]any{"type": "constant_keyword"}, "dataset", map[string]any{"type": "constant_keyword"}, "namespace", map[string]any{"type": "constant_keyword"}),
			"container", props("id", keyword, "name", keyword, "image", props("name", keyword, "tag", keyword, "hash", props("all", keyword))),
			"orchestrator", props("type", keyword, "namespace", keyword, "resource", props("name", keyword, "type", keyword)),
			"kubernetes", props("labels", flattened, "annotations", flattened, "namespace_labels", flattened),
			"source", props("ip", keyword),
			"sluice", sluiceProps(),
		)
		m["dynamic_templates"] = []any{stringsAsKeywords("kubernetes"), stringsAsKeywords("container"), stringsAsKeywords("host")}
		return m
	case document.SchemaOTel:
		attrs := map[string]any{"type": "object", "subobjects": false}
		m := props(
			"@timestamp", date,
			"body", props("text", text),
			"severity_text", keyword,
			"attributes", attrs,
			"resource", props("attributes", attrs),
			"data_stream", props("type", map[string]any{"type": "constant_keyword"}, "dataset", map[string]any{"type": "constant_keyword"}, "namespace", map[string]any{"type": "constant_keyword"}),
		)
		m["dynamic_templates"] = []any{
			map[string]any{"resource_strings": map[string]any{"path_match": "resource.attributes.*", "match_mapping_type": "string", "mapping": keyword}},
			map[string]any{"attribute_strings": map[string]any{"path_match": "attributes.*", "match_mapping_type": "string", "mapping": keyword}},
		}
		return m
	default: // fluentd and fluentbit names
		m := props(
			"@timestamp", date,
			"log", text,
			"stream", keyword,
			"source_ip", keyword,
			"level", keyword,
			"sluice", sluiceProps(),
			"kubernetes", props("labels", flattened, "annotations", flattened, "namespace_labels", flattened),
		)
		m["dynamic_templates"] = []any{stringsAsKeywords("kubernetes"), stringsAsKeywords("syslog")}
		return m
	}
}
