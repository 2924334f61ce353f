package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const otlpBase = "data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs:\n  - name: otel\n    type: otlp\n"

func TestOTLPOutputDefaults(t *testing.T) {
	cfg, err := Parse([]byte(otlpBase+"    endpoint: http://collector:4318/v1/logs\n"), env(nil))
	require.NoError(t, err)
	o := cfg.Outputs[0]
	require.True(t, o.Bulk.Compress, "gzip by default")
	require.Equal(t, ByteSize(DefaultOTLPMaxBytes), o.Bulk.MaxBytes)
	require.Equal(t, 2, o.Bulk.Workers)
	require.Equal(t, 30*time.Second, o.Timeout.Duration())
	require.Equal(t, 90*time.Second, o.IdleTimeout.Duration())
}

// Each bad otlp config is refused with the key's path and what is wrong;
// the endpoint's password never appears.
func TestOTLPOutputBad(t *testing.T) {
	f := func(extra string, wantErr ...string) {
		t.Helper()
		_, err := Parse([]byte(otlpBase+extra), env(nil))
		require.Error(t, err)
		for _, w := range wantErr {
			require.ErrorContains(t, err, w)
		}
		require.NotContains(t, err.Error(), "s3cret")
	}
	f("", "outputs[0].endpoint", "must be set")
	f("    endpoint: collector:4318/v1/logs\n", "outputs[0].endpoint", "http:// or https://")
	f("    endpoint: http://collector:4318\n", "outputs[0].endpoint", "ending in /v1/logs")
	f("    endpoint: http://u:s3cret@collector:4318/v1/logs\n", "outputs[0].endpoint", "must not carry a user or password")
	f("    endpoint: http://c:4318/v1/logs\n    compression: zstd\n", "outputs[0].compression", "only for kafka")
	f("    endpoint: http://c:4318/v1/logs\n    tls: { cert_file: /c.pem }\n", "outputs[0].tls.cert_file", "go together")
	f("    endpoint: http://c:4318/v1/logs\n    tls: { ca_file: /nonexistent/ca.pem }\n", "outputs[0].tls.ca_file")
	f("    endpoint: http://c:4318/v1/logs\n    urls: [http://x:9200]\n", "outputs[0].urls", "only for elasticsearch")
	f("    endpoint: http://c:4318/v1/logs\n    bulk: { max_bytes: 10 }\n", "outputs[0].bulk.max_bytes")
	f("    endpoint: http://c:4318/v1/logs\n    timeout: -1s\n", "outputs[0].timeout")
}

// An otlp output gzips unless bulk.compress says false, however the file
// says it (an alias, a variable); an elasticsearch output's default stays
// off. (Merge keys are refused: config keys.go.)
func TestOTLPCompress(t *testing.T) {
	f := func(extra string, want bool) {
		t.Helper()
		cfg, err := Parse([]byte(otlpBase+"    endpoint: http://c:4318/v1/logs\n"+extra), env(nil))
		require.NoError(t, err)
		require.Equal(t, want, cfg.Outputs[0].Bulk.Compress, "%q", extra)
	}
	f("", true)
	f("    bulk: { workers: 3 }\n", true)
	f("    bulk: { compress: true }\n", true)
	f("    bulk: { compress: false }\n", false)
	f("    bulk: { compress: null }\n", true)
	f("    bulk: { compress: ${GZIP:-false} }\n", false)
	f("    bulk: &b { compress: false }\n", false)
	two := otlpBase + "    endpoint: http://c:4318/v1/logs\n    bulk: &b { compress: false, workers: 3 }\n" +
		"  - { name: b, type: otlp, endpoint: \"http://c:4318/v1/logs\", bulk: *b }\n" +
		"  - { name: d, type: otlp, endpoint: \"http://c:4318/v1/logs\", bulk: { workers: 4 } }\n"
	cfg, err := Parse([]byte(two), env(nil))
	require.NoError(t, err)
	require.False(t, cfg.Outputs[1].Bulk.Compress, "an alias")
	require.True(t, cfg.Outputs[2].Bulk.Compress)
	es, err := Parse([]byte(esBase), env(nil))
	require.NoError(t, err)
	require.False(t, es.Outputs[0].Bulk.Compress, "elasticsearch: off by default")
}

// endpoint is an otlp key only.
func TestOTLPKeysNotForElasticsearch(t *testing.T) {
	_, err := Parse([]byte(esBase+"    endpoint: http://c:4318/v1/logs\n"), env(nil))
	require.ErrorContains(t, err, "outputs[0].endpoint")
	require.ErrorContains(t, err, "only for otlp")
}
