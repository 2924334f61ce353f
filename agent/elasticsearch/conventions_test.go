package elasticsearch

import (
	"encoding/json"
	"os"
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

// Labels app and app.kubernetes.io/name on two pods: under the built-in
// template alone (dynamic mapping) the second pod's documents are refused,
// their rescue copies too (they keep the kubernetes object), and they end
// as dead letters; under ours labels are flattened and both are stored. Label churn (a new key
// per pod) does not grow the mapping.
func TestLabelsFlattened(t *testing.T) {
	for _, install := range []bool{false, true} {
		t.Run(strconv.FormatBool(install), func(t *testing.T) {
			f := newModelES(t, "8.17.0")
			cfg := streamConfig(f.srv.URL)
			cfg.InstallTemplates = &install
			o := startOutput(t, cfg)
			acks := newAckRecorder()
			w := o.NewWriter()
			write(t, w, newTestBatch(nsSource("payments", "a-1", map[string]string{"app": "a"}), acks, 0, 0, 2, nil))
			acks.waitAcked(t, 0) // a's labels are mapped first
			write(t, w, newTestBatch(nsSource("payments", "b-1", map[string]string{"app.kubernetes.io/name": "b"}), acks, 1, 10, 2, nil))
			acks.waitAcked(t, 0, 1)
			if !install {
				require.Equal(t, int64(2), o.Stats().DocsDeadLettered, "the collision, without our template")
				return
			}
			require.Zero(t, o.Stats().DocsRescued)
			ds := f.modelTarget("logs-sluice.container_logs-default")
			f.mu.Lock()
			fields := len(ds.fields)
			f.mu.Unlock()
			var batches []*record.Batch
			for i := range 20 {
				batches = append(batches, newTestBatch(nsSource("payments", "c-"+strconv.Itoa(i), map[string]string{"churn-" + strconv.Itoa(i): "x"}), acks, uint64(2+i), 100+i, 1, nil))
			}
			write(t, w, batches...)
			seqs := []uint64{0, 1}
			for i := range 20 {
				seqs = append(seqs, uint64(2+i))
			}
			acks.waitAcked(t, seqs...)
			f.mu.Lock()
			defer f.mu.Unlock()
			require.Equal(t, fields, len(ds.fields), "label churn added mapped fields")
			require.Len(t, ds.docs, 24)
		})
	}
}

// max_labels caps the labels kept per document and counts the rest.
func TestLabelBudgetCounted(t *testing.T) {
	f := newModelES(t, "8.17.0")
	cfg := streamConfig(f.srv.URL)
	cfg.MaxLabels = 3
	o := startOutput(t, cfg)
	labels := map[string]string{}
	for i := range 10 {
		labels["l"+strconv.Itoa(i)] = "v"
	}
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(nsSource("payments", "a-1", labels), acks, 0, 0, 4, nil))
	acks.waitAcked(t, 0)
	require.Equal(t, int64(4*7), o.Stats().LabelsDropped)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, op := range f.model.targets["logs-sluice.container_logs-default"].docs {
		var d struct {
			Kubernetes struct{ Labels map[string]string } `json:"kubernetes"`
		}
		require.NoError(t, json.Unmarshal(op.Doc, &d))
		require.Equal(t, map[string]string{"l0": "v", "l1": "v", "l2": "v"}, d.Kubernetes.Labels)
	}
}

// schema: ecs reaches the store in ECS names, with data_stream.* of the
// stream each document went to.
func TestSchemaECSThroughOutput(t *testing.T) {
	f := newModelES(t, "8.17.0")
	cfg := streamConfig(f.srv.URL)
	cfg.Schema = "ecs"
	o := startOutput(t, cfg)
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(nsSource("payments", "a-1", map[string]string{"app": "a"}), acks, 0, 0, 2, nil))
	acks.waitAcked(t, 0)
	require.Equal(t, []string{"logs-sluice.container_logs-default"}, f.modelStreams())
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, op := range f.model.targets["logs-sluice.container_logs-default"].docs {
		var d map[string]any
		require.NoError(t, json.Unmarshal(op.Doc, &d))
		require.Equal(t, map[string]any{"type": "logs", "dataset": "sluice.container_logs", "namespace": "default"}, d["data_stream"])
		require.Equal(t, "payments", d["kubernetes"].(map[string]any)["namespace"])
		require.Contains(t, d, "message")
		require.NotContains(t, d, "log")
	}
	require.Contains(t, f.templates, "sluice-logs-ecs")
}

// With failure_store on a 9.1 cluster, the template enables the failure
// store; a document that fails mapping is answered 201 failure_store:
// used, counted apart, and neither rescued nor dead-lettered.
func TestFailureStoreCounted(t *testing.T) {
	f := newModelES(t, "9.1.0")
	cfg := streamConfig(f.srv.URL)
	cfg.FailureStore = true
	o := startOutput(t, cfg)
	src := nsSource("payments", "a-1", nil)
	acks := newAckRecorder()
	w := o.NewWriter()
	write(t, w, newTestBatch(src, acks, 0, 0, 3, nil)) // maps n as long
	acks.waitAcked(t, 0)
	write(t, w, newTestBatch(src, acks, 1, 3, 2, func(n int) string {
		return `{"@timestamp":"2026-11-25T10:00:00Z","n":"not a number ` + strconv.Itoa(n) + `"}`
	}))
	acks.waitAcked(t, 0, 1)
	st := o.Stats()
	require.Equal(t, int64(2), st.DocsFailureStore)
	require.Equal(t, int64(3), st.DocsSent)
	require.Zero(t, st.DocsRescued)
	require.Zero(t, st.DocsDeadLettered)
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Contains(t, string(f.templates["sluice-logs"]), `"failure_store"`)
	require.Len(t, f.model.targets["logs-sluice.container_logs-default"].failures, 2)
}

// The templates shipped in deploy/elasticsearch are the ones the output
// installs (for Elasticsearch 8.7+, failure store off), for operators who
// set install_templates: false and install them by hand.
// SLUICE_UPDATE_TEMPLATES=1 rewrites them.
func TestShippedTemplatesAreBuiltIn(t *testing.T) {
	d := &DataStreams{Type: "logs", Dataset: datasetContainers, Datasets: map[string]string{"syslog": datasetSyslog}}
	require.NoError(t, d.ParseNamespace("default"))
	mt := buildTemplates(d, 0, serverInfo{known: true, major: 8, minor: 17, number: "8.17.0"}, false)
	for path, want := range map[string][]byte{shippedDataStreamTemplate: mt.index, shippedComponentTemplate: mt.component} {
		want = append(want, '\n')
		if os.Getenv("SLUICE_UPDATE_TEMPLATES") != "" {
			require.NoError(t, os.WriteFile(path, want, 0o644))
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s differs from the built-in template (SLUICE_UPDATE_TEMPLATES=1 rewrites it)", path)
	}
}

// The shipped classic template (for index: with the old names) installs
// beside Fleet's, keeps the dated names plain indices, and takes none of
// the logs-<dataset>-<namespace> data streams.
func TestClassicTemplateCoexists(t *testing.T) {
	m := newESModel("8.17.0")
	m.addFleet("logs-system.syslog", "logs-system.syslog-*", 200)
	body, err := os.ReadFile(shippedIndexTemplate)
	require.NoError(t, err)
	st, _, reason := m.putTemplate("sluice-logs-classic", body)
	require.Equal(t, 200, st, reason)
	require.Equal(t, "sluice-logs-classic", m.resolve("logs-payments-2026.12.06").name)
	require.Equal(t, "logs-system.syslog", m.resolve("logs-system.syslog-default").name)
	require.Equal(t, "logs", m.resolve("logs-nginx.access-default").name)
	st, _, _ = m.write(bulkOp{Action: "create", Index: "logs-payments-2026.12.06", ID: "1"}, map[string]any{})
	require.Equal(t, 201, st)
	require.False(t, m.targets["logs-payments-2026.12.06"].dataStream)
}

// schema: otel takes Elasticsearch's OTel naming (<dataset>.otel); a
// dataset of the operator's that lacks our prefix gets its own pattern.
func TestDatasetsAndPatterns(t *testing.T) {
	cfg := streamConfig("http://127.0.0.1:9")
	cfg.Schema = "otel"
	o, err := New(cfg, nil, WithInputs([]config.Input{{Name: "sys", Type: "syslog"}}))
	require.NoError(t, err)
	d := o.conv.streams
	require.Equal(t, "sluice.container_logs.otel", d.Dataset)
	require.Equal(t, "sluice.syslog.otel", d.Datasets["sys"])

	cfg = streamConfig("http://127.0.0.1:9")
	cfg.DataStreams.Dataset = "payments.api"
	o, err = New(cfg, nil)
	require.NoError(t, err)
	mt := buildTemplates(o.conv.streams, 0, serverInfo{known: true, major: 8, minor: 6}, false)
	var tmpl modelTemplate
	require.NoError(t, json.Unmarshal(mt.index, &tmpl))
	require.Equal(t, []string{"logs-sluice.*-*", "logs-payments.api-*"}, tmpl.Patterns)
	require.Equal(t, []string{"sluice-logs-mappings"}, tmpl.ComposedOf, "no @custom hooks before 8.7")
}
