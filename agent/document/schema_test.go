package document

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// podMeta is a Kubernetes object as agent/kube builds it.
const podMeta = `{"namespace_name":"payments","pod_name":"api-7d9f","pod_id":"uid-1","container_name":"api",` +
	`"container_image":"repo/api:1.2","container_image_id":"repo/api@sha256:abc","container_id":"c0ffee","host":"node-1",` +
	`"labels":{"app":"api","app.kubernetes.io/name":"api"},"annotations":{"team":"pay"},"namespace_labels":{"env":"prod"},` +
	`"owner":{"kind":"Deployment","name":"api"}}`

// containerDoc is a document as the Encoder writes it for a JSON line
// {"level":"info","msg":"hi","user":"u1"} with keep_original, truncated.
const containerDoc = `{"@timestamp":"2026-11-25T10:00:00.123456789Z","stream":"stdout","level":"info","msg":"hi","user":"u1",` +
	`"log":"{\"level\":\"info\",\"msg\":\"hi\",\"user\":\"u1\"}","sluice":{"truncated":true},"kubernetes":` + podMeta + `}`

const syslogDoc = `{"@timestamp":"2026-11-25T10:00:00Z","log":"disk full","syslog":{"facility":"daemon","severity":"err",` +
	`"hostname":"h1","app_name":"smartd","proc_id":"42","msg_id":"ID7"},"source_ip":"10.0.0.1"}`

var ds = DataStream{Type: []byte("logs"), Dataset: []byte("sluice.container_logs"), Namespace: []byte("default")}

// flat turns a JSON document into dotted paths and their values, as
// Elasticsearch sees fields ("a":{"b":1} and "a.b":1 are one field).
func flat(t *testing.T, doc []byte) map[string]string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(doc, &m), "%s", doc)
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(prefix+k+".", x)
			}
		case []any:
			b, _ := json.Marshal(v)
			out[prefix[:len(prefix)-1]] = string(b)
		default:
			out[prefix[:len(prefix)-1]] = fmt.Sprint(v)
		}
	}
	walk("", m)
	return out
}

func shaped(t *testing.T, s Schema, doc string, d DataStream) map[string]string {
	t.Helper()
	sh := &Shaper{Schema: s}
	var meta []byte
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(doc), &m))
	meta = m["kubernetes"]
	md := sh.Meta(meta)
	out := sh.Append(nil, []byte(doc), &md, d)
	var check map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(out, &check), "%s", out)
	return flat(t, out)
}

// Each schema, field by field: docs/configuration.md's tables are these.
func TestSchemaFields(t *testing.T) {
	for _, tc := range []struct {
		schema Schema
		doc    string
		ds     DataStream
		want   map[string]string
	}{
		{SchemaFluentd, containerDoc, DataStream{}, map[string]string{
			"@timestamp": "2026-11-25T10:00:00.123456789Z", "stream": "stdout", "level": "info", "msg": "hi", "user": "u1",
			"log": `{"level":"info","msg":"hi","user":"u1"}`, "sluice.truncated": "true",
			"kubernetes.namespace_name": "payments", "kubernetes.pod_name": "api-7d9f", "kubernetes.pod_id": "uid-1",
			"kubernetes.container_name": "api", "kubernetes.container_image": "repo/api:1.2",
			"kubernetes.container_image_id": "repo/api@sha256:abc", "kubernetes.container_id": "c0ffee", "kubernetes.host": "node-1",
			"kubernetes.labels.app": "api", "kubernetes.labels.app.kubernetes.io/name": "api", "kubernetes.annotations.team": "pay",
			"kubernetes.namespace_labels.env": "prod", "kubernetes.owner.kind": "Deployment", "kubernetes.owner.name": "api",
		}},
		{SchemaFluentBit, containerDoc, DataStream{}, map[string]string{
			"@timestamp": "2026-11-25T10:00:00.123456789Z", "stream": "stdout", "level": "info", "msg": "hi", "user": "u1",
			"log": `{"level":"info","msg":"hi","user":"u1"}`, "sluice.truncated": "true",
			"kubernetes.namespace_name": "payments", "kubernetes.pod_name": "api-7d9f", "kubernetes.pod_id": "uid-1",
			"kubernetes.container_name": "api", "kubernetes.container_image": "repo/api:1.2",
			"kubernetes.container_hash": "repo/api@sha256:abc", "kubernetes.docker_id": "c0ffee", "kubernetes.host": "node-1",
			"kubernetes.labels.app": "api", "kubernetes.labels.app.kubernetes.io/name": "api", "kubernetes.annotations.team": "pay",
			"kubernetes.namespace_labels.env": "prod", "kubernetes.owner.kind": "Deployment", "kubernetes.owner.name": "api",
		}},
		{SchemaECS, containerDoc, ds, map[string]string{
			"@timestamp": "2026-11-25T10:00:00.123456789Z", "stream": "stdout", "log.level": "info", "msg": "hi", "user": "u1",
			"message": `{"level":"info","msg":"hi","user":"u1"}`, "sluice.truncated": "true",
			"data_stream.type": "logs", "data_stream.dataset": "sluice.container_logs", "data_stream.namespace": "default",
			"event.dataset":        "sluice.container_logs",
			"kubernetes.namespace": "payments", "kubernetes.pod.name": "api-7d9f", "kubernetes.pod.uid": "uid-1",
			"kubernetes.container.name": "api", "kubernetes.node.name": "node-1", "kubernetes.deployment.name": "api",
			"kubernetes.labels.app": "api", "kubernetes.labels.app.kubernetes.io/name": "api", "kubernetes.annotations.team": "pay",
			"kubernetes.namespace_labels.env": "prod",
			"container.id":                    "c0ffee", "container.name": "api", "container.image.name": "repo/api:1.2",
			"container.image.hash.all": `["repo/api@sha256:abc"]`,
			"orchestrator.type":        "kubernetes", "orchestrator.namespace": "payments",
			"orchestrator.resource.type": "pod", "orchestrator.resource.name": "api-7d9f", "host.name": "node-1",
		}},
		{SchemaOTel, containerDoc, ds, map[string]string{
			"@timestamp": "2026-11-25T10:00:00.123456789Z", "severity_text": "info",
			"body.text":               `{"level":"info","msg":"hi","user":"u1"}`,
			"attributes.log.iostream": "stdout", "attributes.msg": "hi", "attributes.user": "u1", "attributes.sluice.truncated": "true",
			"data_stream.type": "logs", "data_stream.dataset": "sluice.container_logs", "data_stream.namespace": "default",
			"resource.attributes.k8s.namespace.name": "payments", "resource.attributes.k8s.pod.name": "api-7d9f",
			"resource.attributes.k8s.pod.uid": "uid-1", "resource.attributes.k8s.container.name": "api",
			"resource.attributes.k8s.node.name": "node-1", "resource.attributes.container.id": "c0ffee",
			"resource.attributes.container.image.name": "repo/api", "resource.attributes.container.image.tags": `["1.2"]`,
			"resource.attributes.container.image.id": "repo/api@sha256:abc", "resource.attributes.k8s.deployment.name": "api",
			"resource.attributes.k8s.pod.label.app": "api", "resource.attributes.k8s.pod.label.app.kubernetes.io/name": "api",
			"resource.attributes.k8s.pod.annotation.team": "pay", "resource.attributes.k8s.namespace.label.env": "prod",
		}},
		{SchemaECS, syslogDoc, DataStream{}, map[string]string{
			"@timestamp": "2026-11-25T10:00:00Z", "message": "disk full",
			"log.syslog.facility.name": "daemon", "log.syslog.severity.name": "err", "log.syslog.hostname": "h1",
			"log.syslog.appname": "smartd", "log.syslog.procid": "42", "log.syslog.msgid": "ID7", "source.ip": "10.0.0.1",
		}},
		{SchemaOTel, syslogDoc, DataStream{}, map[string]string{
			"@timestamp": "2026-11-25T10:00:00Z", "body.text": "disk full", "severity_text": "err",
			"attributes.syslog.facility": "daemon", "attributes.syslog.severity": "err", "attributes.syslog.hostname": "h1",
			"attributes.syslog.app_name": "smartd", "attributes.syslog.proc_id": "42", "attributes.syslog.msg_id": "ID7",
			"attributes.client.address": "10.0.0.1",
		}},
	} {
		t.Run(tc.schema.String(), func(t *testing.T) {
			got := shaped(t, tc.schema, tc.doc, tc.ds)
			require.Equal(t, keys(tc.want), keys(got))
			for k, v := range tc.want {
				require.Equal(t, v, got[k], k)
			}
		})
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ECS: an app's own "message" stays the message; the line goes to
// event.original. A merged member named like one of ECS's objects moves
// under "json", so no key is written twice.
func TestSchemaECSConflicts(t *testing.T) {
	doc := `{"@timestamp":"2026-11-25T10:00:00Z","message":"from app","container":"x","log":"raw line"}`
	got := shaped(t, SchemaECS, doc, DataStream{})
	require.Equal(t, map[string]string{"@timestamp": "2026-11-25T10:00:00Z", "message": "from app",
		"event.original": "raw line", "json.container": "x"}, got)
}

// The field budget keeps labels first, then namespace labels, then
// annotations, in key order, and counts what it leaves out.
func TestLabelBudget(t *testing.T) {
	sh := &Shaper{Schema: SchemaFluentd, MaxLabels: 3}
	m := sh.Meta([]byte(podMeta))
	require.Equal(t, 1, m.Dropped) // 2 labels and 1 namespace label kept, the annotation left out
	got := flat(t, append(append([]byte("{"), m.Members...), '}'))
	require.Equal(t, "api", got["kubernetes.labels.app"])
	require.Equal(t, "api", got["kubernetes.labels.app.kubernetes.io/name"])
	require.Equal(t, "prod", got["kubernetes.namespace_labels.env"])
	require.NotContains(t, got, "kubernetes.annotations.team")
	sh.MaxLabels = 0
	require.Zero(t, sh.Meta([]byte(podMeta)).Dropped)
}

func TestParseSchema(t *testing.T) {
	for _, n := range []string{"fluentd", "fluentbit", "ecs", "otel"} {
		s, err := ParseSchema(n)
		require.NoError(t, err)
		require.Equal(t, n, s.String())
	}
	_, err := ParseSchema("elastic")
	require.ErrorContains(t, err, "unknown schema")
}

// Shaping a document that does not parse as the encoder's keeps what it
// can and never panics (fuzzed below).
func FuzzShaper(f *testing.F) {
	f.Add([]byte(containerDoc), []byte(podMeta), uint8(2))
	f.Add([]byte(syslogDoc), []byte(`{}`), uint8(3))
	f.Add([]byte(`{"a":`), []byte(`{"labels":`), uint8(1))
	f.Fuzz(func(t *testing.T, doc, meta []byte, s uint8) {
		sh := &Shaper{Schema: Schema(s % 4), MaxLabels: 2}
		m := sh.Meta(meta)
		out := sh.Append(nil, doc, &m, ds)
		if json.Valid(doc) && len(doc) > 0 && doc[0] == '{' && json.Valid(meta) && !json.Valid(out) {
			t.Fatalf("valid %q with meta %q shaped to invalid %q", doc, meta, out)
		}
	})
}
