package elasticsearch

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

// newModelES is the fake as an Elasticsearch cluster of version v with
// the built-in logs template and two Fleet integrations' templates at
// priority 200, as on a cluster shared with Elastic Agent.
func newModelES(t *testing.T, v string) *faultyBulk {
	f := newFaultyBulk(t)
	f.model = newESModel(v)
	f.model.addFleet("logs-system.syslog", "logs-system.syslog-*", 200)
	f.model.addFleet("logs-kubernetes.container_logs", "logs-kubernetes.container_logs-*", 200)
	return f
}

// streamConfig is an output config that leaves the choice of names to
// the server's version, as a default install does.
func streamConfig(url string) config.Output {
	cfg := testConfig(url)
	cfg.Index = ""
	return cfg
}

func nsSource(ns, pod string, labels map[string]string) *record.Source {
	src := testSource(pod)
	src.Namespace = ns
	meta := map[string]any{"namespace_name": ns, "pod_name": pod, "container_name": "api"}
	if labels != nil {
		meta["labels"] = labels
	}
	src.Meta, _ = json.Marshal(meta)
	return src
}

func (f *faultyBulk) modelStreams() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.model.dataStreams()
}

func (f *faultyBulk) modelTarget(name string) *modelTarget {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.model.targets[name]
}

func (f *faultyBulk) resolves(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.model.resolve(name); t != nil {
		return t.name
	}
	return ""
}

// A default install against Elasticsearch 8 creates one data stream per
// (type, dataset, namespace), from our own template, and installs nothing
// that matches another tenant's logs-*-* names.
func TestDefaultInstallDataStreams(t *testing.T) {
	f := newModelES(t, "8.17.0")
	cfg := streamConfig(f.srv.URL)
	cfg.DataStreams.Namespace = "{kubernetes.namespace_name}"
	o, err := New(cfg, nil, WithInputs([]config.Input{{Name: "containers", Type: "container_logs"}, {Name: "syslog", Type: "syslog"}}))
	require.NoError(t, err)
	runOutput(t, o)
	acks := newAckRecorder()
	pay, sys := nsSource("payments", "api-1", nil), nsSource("kube-system", "dns-1", nil)
	syslog := &record.Source{Input: "syslog", Path: "tcp://127.0.0.1:5140"}
	// Records a day apart still go to one data stream per namespace.
	write(t, o.NewWriter(),
		newTestBatch(pay, acks, 0, 0, 3, nil), newTestBatch(pay, acks, 1, 86_400_000, 3, nil),
		newTestBatch(sys, acks, 2, 0, 2, nil), newTestBatch(syslog, acks, 3, 0, 2, func(n int) string {
			return `{"@timestamp":"2026-11-25T10:00:00Z","log":"m` + strconv.Itoa(n) + `","syslog":{"facility":"local0","severity":"info"}}`
		}))
	acks.waitAcked(t, 0, 1, 2, 3)

	require.Equal(t, []string{"logs-sluice.container_logs-kube_system", "logs-sluice.container_logs-payments", "logs-sluice.syslog-default"}, f.modelStreams())
	for _, n := range f.modelStreams() {
		require.Equal(t, "sluice-logs", f.modelTarget(n).template, n)
	}
	require.Len(t, f.modelTarget("logs-sluice.container_logs-payments").docs, 6)
	// Other tenants' names still get their own templates.
	require.Equal(t, "logs-system.syslog", f.resolves("logs-system.syslog-default"))
	require.Equal(t, "logs-kubernetes.container_logs", f.resolves("logs-kubernetes.container_logs-default"))
	require.Equal(t, "logs", f.resolves("logs-nginx.access-default"))
	require.Equal(t, "logs", f.resolves("logs-payments-2026.12.06"))
	var tmpl modelTemplate
	require.NoError(t, json.Unmarshal(f.templates["sluice-logs"], &tmpl))
	require.Equal(t, []string{"logs-sluice.*-*"}, tmpl.Patterns)
	require.Equal(t, templatePriority, tmpl.Priority)
	require.Equal(t, []string{"sluice-logs-mappings", "logs@custom", "sluice-logs@custom"}, tmpl.ComposedOf)
	require.Zero(t, o.Stats().DocsRescued)
}

// The overlap rule: equal priority and overlapping patterns are refused.
// The template shipped before (logs-* at 200) could not be installed
// beside a Fleet integration's; ours can, beside Fleet's and beside an
// operator's logs-* template at 500 as Elastic's page suggests.
func TestTemplatesCoexist(t *testing.T) {
	m := newESModel("8.17.0")
	m.addFleet("logs-system.syslog", "logs-system.syslog-*", 200)
	old := `{"index_patterns":["logs-*"],"priority":200,"template":{}}`
	st, typ, reason := m.putTemplate("old-sluice-logs", []byte(old))
	require.Equal(t, 400, st)
	require.Equal(t, "illegal_argument_exception", typ)
	require.Contains(t, reason, "that have the same priority [200]")
	st, _, _ = m.putTemplate("operator", []byte(`{"index_patterns":["logs-*"],"priority":500,"template":{}}`))
	require.Equal(t, 200, st)
	require.Equal(t, "operator", m.resolve("logs-system.syslog-default").name, "what priority 500 on logs-* does")

	d := &DataStreams{Type: "logs", Dataset: datasetContainers, Datasets: map[string]string{"sys": datasetSyslog}}
	require.NoError(t, d.ParseNamespace("default"))
	for _, v := range []string{"7.9.0", "8.6.0", "8.17.0", "9.1.0"} {
		mt := buildTemplates(d, 0, serverInfo{known: true, major: atoi(v[:1]), minor: atoi(strings.Split(v, ".")[1]), number: v}, false)
		st, _, reason := m.putComponent(mt.componentName, mt.component)
		require.Equal(t, 200, st, reason)
		st, _, reason = m.putTemplate(mt.indexName, mt.index)
		require.Equal(t, 200, st, "version %s: %s", v, reason)
	}
	require.Equal(t, "sluice-logs", m.resolve("logs-sluice.container_logs-default").name)
	require.Equal(t, "operator", m.resolve("logs-system.syslog-default").name, "ours takes no other names")
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// Dynamic parts become valid names whatever they hold; static parts are
// checked when the config is read.
func TestDataStreamNameRules(t *testing.T) {
	long := strings.Repeat("é", 80) // 160 bytes
	for _, tc := range []struct{ ns, want string }{
		{"payments", "payments"},
		{"kube-system", "kube_system"},
		{"Team A/B", "team_a_b"},
		{"", "default"},
		{"..", "default"},
		{"a#b:c,d*e?f|g<h>i\"j\\k", "a_b_c_d_e_f_g_h_i_j_k"},
		{long, strings.Repeat("é", 50)},
	} {
		d := &DataStreams{Type: "logs", Dataset: datasetContainers}
		require.NoError(t, d.ParseNamespace("{kubernetes.labels.team}"))
		src := nsSource("ns", "p", map[string]string{"team": tc.ns})
		name := string(d.appendName(nil, src, src.Meta))
		require.Equal(t, "logs-sluice.container_logs-"+tc.want, name, tc.ns)
		require.NoError(t, validDataStreamName(name))
		parts := strings.Split(name, "-")
		require.Len(t, parts, 3, name)
		for _, p := range parts {
			require.NoError(t, config.CheckDataStreamPart(p), name)
		}
	}
	for _, bad := range []string{"Logs", "a-b", "a b", "", "_x", strings.Repeat("a", 101)} {
		require.Error(t, config.CheckDataStreamPart(bad), bad)
	}
	d := &DataStreams{}
	require.ErrorContains(t, d.ParseNamespace("{kubernetes.pod_name}"), "unknown field")
	require.ErrorContains(t, d.ParseNamespace("Prod"), "lower case")
	cfg := streamConfig("http://127.0.0.1:9")
	cfg.DataStreams.Dataset = "my-app"
	_, err := New(cfg, nil)
	require.ErrorContains(t, err, "must not contain '-'")
}

// The fake refuses what Elasticsearch refuses: an index action into a
// data stream, and a data stream name with capitals.
func TestModelDataStreamRules(t *testing.T) {
	m := newESModel("8.17.0")
	st, e, _ := m.write(bulkOp{Action: "index", Index: "logs-a-b", ID: "1", Doc: []byte(`{}`)}, map[string]any{})
	require.Equal(t, 400, st)
	require.Contains(t, e["reason"], "op_type of create")
	st, e, _ = m.write(bulkOp{Action: "create", Index: "logs-A-b", ID: "1"}, map[string]any{})
	require.Equal(t, 400, st)
	require.Equal(t, "invalid_index_name_exception", e["type"])
	st, _, _ = m.write(bulkOp{Action: "create", Index: "logs-a-b", ID: "1"}, map[string]any{})
	require.Equal(t, 201, st)
	st, _, _ = m.write(bulkOp{Action: "create", Index: "logs-a-b", ID: "1"}, map[string]any{})
	require.Equal(t, 409, st)
}

// Before 7.9, on OpenSearch, and on a server that gives no version, the
// classic date-based names stay; a 403 from Elasticsearch (no monitor
// privilege) still means data streams.
func TestVersionPicksNames(t *testing.T) {
	for _, tc := range []struct {
		version, compat string
		want            string
	}{
		{"7.8.1", "", "logs-payments-2026.11.25"},
		{"7.9.0", "", "logs-sluice.container_logs-default"},
		{"9.1.0", "", "logs-sluice.container_logs-default"},
		{"8.17.0", "opensearch", "logs-payments-2026.11.25"},
	} {
		t.Run(tc.version+tc.compat, func(t *testing.T) {
			f := newModelES(t, tc.version)
			cfg := streamConfig(f.srv.URL)
			cfg.Compatibility = tc.compat
			o := startOutput(t, cfg)
			acks := newAckRecorder()
			write(t, o.NewWriter(), newTestBatch(nsSource("payments", "api-1", nil), acks, 0, 0, 2, nil))
			acks.waitAcked(t, 0)
			ops, err := parseBulkBody(f.lastBody(t))
			require.NoError(t, err)
			require.Equal(t, tc.want, ops[0].Index)
		})
	}
}

func TestServerInfo(t *testing.T) {
	info, err := parseServerInfo([]byte(`{"version":{"number":"8.19.2"}}`))
	require.NoError(t, err)
	require.True(t, info.dataStreams())
	require.True(t, info.atLeast(8, 19))
	info, err = parseServerInfo([]byte(`{"version":{"number":"2.11.0","distribution":"opensearch"}}`))
	require.NoError(t, err)
	require.False(t, info.dataStreams())
	_, err = parseServerInfo([]byte(`<h2>VictoriaLogs</h2>`))
	require.Error(t, err)
	_, err = parseServerInfo([]byte(`{"version":{"number":"x"}}`))
	require.Error(t, err)
}
