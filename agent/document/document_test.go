package document

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

// transforms reads transform entries (YAML flow maps) as the agent does:
// decoded by type, checked and compiled by config.Parse.
func transforms(entries ...string) []config.Transform {
	raw := "data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x/*.log] }]\noutputs: [{ name: o, type: console }]\ntransforms:\n"
	for _, e := range entries {
		raw += "  - " + e + "\n"
	}
	cfg, err := config.Parse([]byte(raw), func(string) (string, bool) { return "", false })
	if err != nil {
		panic(err)
	}
	return cfg.Transforms
}

var meta = []byte(`{"namespace_name":"ns","pod_name":"p","host":"n1"}`)

func encode(t *testing.T, transforms []config.Transform, line string, flags record.Flags) map[string]any {
	t.Helper()
	e := New(transforms, func() int64 { return 1_700_000_000_000_000_000 })
	src := &record.Source{Meta: meta}
	r := record.Record{Time: 1_764_064_800_123_456_789, Line: []byte(line), Stream: stream.Stdout, Flags: flags}
	doc := e.Append(nil, src, &r)
	require.True(t, json.Valid(doc), "invalid JSON: %s", doc)
	var m map[string]any
	require.NoError(t, json.Unmarshal(doc, &m))
	return m
}

var jsonMerge = transforms("{ type: json, field: log }")

func TestMergeAtTopLevel(t *testing.T) {
	m := encode(t, jsonMerge, `{"level":"info","n":3,"nested":{"a":[1,2]}}`, 0)
	require.Equal(t, "2025-11-25T10:00:00.123456789Z", m["@timestamp"])
	require.Equal(t, "stdout", m["stream"])
	require.Equal(t, "info", m["level"])
	require.Equal(t, float64(3), m["n"])
	require.Equal(t, map[string]any{"a": []any{float64(1), float64(2)}}, m["nested"])
	require.NotContains(t, m, "log", "a merged line is not kept unless keep_original")
	require.Equal(t, map[string]any{"namespace_name": "ns", "pod_name": "p", "host": "n1"}, m["kubernetes"])
}

func TestNotJSONStaysLog(t *testing.T) {
	for _, line := range []string{"plain text", `{"truncated":"json`, `["an","array"]`, `{"a":1} trailing`, ""} {
		m := encode(t, jsonMerge, line, 0)
		require.Equal(t, line, m["log"], "line %q", line)
	}
}

func TestTargetAndKeepOriginal(t *testing.T) {
	m := encode(t, transforms("{ type: json, target: app, keep_original: true }"), `{"level":"warn"}`, 0)
	require.Equal(t, map[string]any{"level": "warn"}, m["app"])
	require.Equal(t, `{"level":"warn"}`, m["log"])
}

func TestClashingKeysAreNested(t *testing.T) {
	m := encode(t, jsonMerge, `{"@timestamp":"x","log":"inner","kubernetes":1,"ok":true}`, 0)
	require.Equal(t, "2025-11-25T10:00:00.123456789Z", m["@timestamp"])
	require.Equal(t, map[string]any{"@timestamp": "x", "log": "inner", "kubernetes": float64(1), "ok": true}, m["json"])
}

func TestNoTransformKeepsLog(t *testing.T) {
	m := encode(t, nil, `{"level":"info"}`, 0)
	require.Equal(t, `{"level":"info"}`, m["log"])
}

func TestInvalidUTF8AndFlags(t *testing.T) {
	m := encode(t, jsonMerge, "bad \xff byte\n\ttab", record.Truncated|record.Malformed)
	require.Equal(t, "bad \ufffd byte\n\ttab", m["log"])
	require.Equal(t, map[string]any{"truncated": true, "malformed": true}, m["sluice"])
}

func TestMalformedJSONLineNotMerged(t *testing.T) {
	m := encode(t, jsonMerge, `{"level":"info"}`, record.Malformed)
	require.Equal(t, `{"level":"info"}`, m["log"], "a raw line that failed its container format is never merged")
}

func TestMissingTimeUsesNow(t *testing.T) {
	e := New(nil, func() int64 { return 1_700_000_000_000_000_000 })
	doc := e.Append(nil, &record.Source{}, &record.Record{Line: []byte("x")})
	require.JSONEq(t, `{"@timestamp":"2023-11-14T22:13:20.000000000Z","log":"x"}`, string(doc))
}

func TestExtraMembersSpliced(t *testing.T) {
	b := record.NewBatch(&record.Source{}, nil)
	b.AddExtra(record.Record{Time: 1}, []byte("msg one"), []byte(`"syslog":{"severity":"info"},"source_ip":"10.0.0.1"`))
	b.Add(record.Record{Time: 1}, []byte(`{"k":"v"}`))
	b.AddExtra(record.Record{Time: 1}, []byte("msg three"), []byte(`"source_ip":"10.0.0.3"`))
	New(jsonMerge, nil).EncodeBatch(b)
	require.JSONEq(t, `{"@timestamp":"1970-01-01T00:00:00.000000001Z","log":"msg one","syslog":{"severity":"info"},"source_ip":"10.0.0.1"}`, string(b.Doc(0)))
	require.JSONEq(t, `{"@timestamp":"1970-01-01T00:00:00.000000001Z","k":"v"}`, string(b.Doc(1)))
	require.JSONEq(t, `{"@timestamp":"1970-01-01T00:00:00.000000001Z","log":"msg three","source_ip":"10.0.0.3"}`, string(b.Doc(2)))
}

// A batch's own Kubernetes object and parser choice (set by enrichment
// from the pod cache) win over the source's and the config's.
func TestEncodeBatchMetaAndParser(t *testing.T) {
	e := New(jsonMerge, func() int64 { return 1 })
	decode := func(b *record.Batch, i int) map[string]any {
		t.Helper()
		var m map[string]any
		require.NoError(t, json.Unmarshal(b.Doc(i), &m), "%s", b.Doc(i))
		return m
	}
	src := &record.Source{Meta: meta}
	b := record.NewBatch(src, nil)
	defer b.Discard()
	b.Add(record.Record{Time: 1, Line: []byte(`level=warn msg="disk full"`)}, []byte(`level=warn msg="disk full"`))
	b.Add(record.Record{Time: 1, Line: []byte(`{"a":1}`)}, []byte(`{"a":1}`))

	e.EncodeBatch(b)
	m := decode(b, 0)
	require.Equal(t, `level=warn msg="disk full"`, m["log"], "config has json only: logfmt line kept raw")
	require.Equal(t, "ns", m["kubernetes"].(map[string]any)["namespace_name"])
	require.Equal(t, float64(1), decode(b, 1)["a"])

	b.Meta = []byte(`{"namespace_name":"from-cache","labels":{"app":"x"}}`)
	b.Parser = "logfmt"
	e.EncodeBatch(b)
	m = decode(b, 0)
	require.Equal(t, "warn", m["level"])
	require.Equal(t, "disk full", m["msg"])
	require.NotContains(t, m, "log")
	require.Equal(t, map[string]any{"namespace_name": "from-cache", "labels": map[string]any{"app": "x"}}, m["kubernetes"])
	require.Equal(t, `{"a":1}`, decode(b, 1)["log"], "logfmt chosen: a JSON line is not merged")

	b.Parser = "text"
	e.EncodeBatch(b)
	require.Equal(t, `{"a":1}`, decode(b, 1)["log"])

	b.Parser = "nginx"
	e.EncodeBatch(b)
	require.Equal(t, `{"a":1}`, decode(b, 1)["log"], "a line nginx does not match stays raw")

	b.Parser = "no-such-parser"
	e.EncodeBatch(b)
	require.Equal(t, float64(1), decode(b, 1)["a"], "unknown name: the config's chain")
	require.True(t, e.HasParser("klog") && e.HasParser("json") && !e.HasParser("no-such-parser"))
}
