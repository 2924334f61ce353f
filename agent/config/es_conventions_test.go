package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func esConfig(extra string) string {
	return `inputs:
  - { name: c, type: container_logs, paths: [/var/log/containers/*.log] }
outputs:
  - name: es
    type: elasticsearch
    urls: [http://127.0.0.1:9200]
` + extra
}

func TestESConventionsDefaults(t *testing.T) {
	cfg, err := Parse([]byte(esConfig("")), func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	o := cfg.Outputs[0]
	require.Empty(t, o.Index, "index stays unset: the server's version decides")
	require.Equal(t, "fluentd", o.Schema)
	require.Equal(t, DataStreams{Type: "logs", Namespace: "default"}, o.DataStreams)
	require.True(t, *o.InstallTemplates)
	require.Equal(t, 64, o.MaxLabels)
	require.False(t, o.FailureStore)

	cfg, err = Parse([]byte(esConfig(`    schema: ecs
    data_streams: { dataset: payments.api, namespace: "{kubernetes.labels.team}" }
    max_labels: -1
    failure_store: true
`)), func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	require.Equal(t, "ecs", cfg.Outputs[0].Schema)
	require.Equal(t, "{kubernetes.labels.team}", cfg.Outputs[0].DataStreams.Namespace)
}

// -validate names each bad static part of a data stream name, by key.
func TestESConventionsValidated(t *testing.T) {
	_, err := Parse([]byte(esConfig(`    schema: elastic
    data_streams: { type: Logs, dataset: my-app, namespace: "{kubernetes.pod_name}" }
    max_labels: -2
`)), func(string) (string, bool) { return "", false })
	require.Error(t, err)
	for _, want := range []string{
		"outputs[0].schema", "must be one of fluentd, fluentbit, ecs, otel",
		"outputs[0].data_streams.type", "lower case",
		"outputs[0].data_streams.dataset", "must not contain '-'",
		"outputs[0].data_streams.namespace", "unknown field {kubernetes.pod_name}",
		"outputs[0].max_labels",
	} {
		require.ErrorContains(t, err, want)
	}
}
