package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const kafkaBase = "data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs:\n  - name: k\n    type: kafka\n"

// A kafka output's defaults: pod uid keys, snappy, acks all with the
// idempotent producer.
func TestKafkaDefaults(t *testing.T) {
	cfg, err := Parse([]byte(kafkaBase+"    brokers: [kafka:9092]\n    topic: logs\n"), nil)
	require.NoError(t, err)
	k := cfg.Outputs[0].Kafka
	require.Equal(t, "pod_id", k.PartitionKey)
	require.Equal(t, "snappy", k.Compression)
	require.Equal(t, "all", k.Acks)
	require.True(t, *k.Idempotent)
	require.EqualValues(t, DefaultKafkaMaxMessageBytes, k.MaxMessageBytes)

	cfg, err = Parse([]byte(kafkaBase+"    brokers: [kafka:9092]\n    topic: logs\n    acks: leader\n"), nil)
	require.NoError(t, err)
	require.False(t, *cfg.Outputs[0].Kafka.Idempotent, "acks: leader turns the idempotent producer's default off")
}

// -validate refuses bad kafka outputs, each problem with its key and
// line, all at once, and never quotes the SASL password.
func TestKafkaBad(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	require.NoError(t, os.WriteFile(pw, []byte("s3cret-file\n"), 0o600))
	cases := []struct{ yaml, want string }{
		{"    topic: logs\n", "outputs[0].brokers (line 4): at least one broker"},
		{"    brokers: [kafka]\n    topic: logs\n", `outputs[0].brokers[0] (line 6): must be host:port (e.g. kafka-0.kafka:9092), got "kafka"`},
		{"    brokers: [\"kafka://k:9092\"]\n    topic: logs\n", `outputs[0].brokers[0] (line 6): must be host:port`},
		{"    brokers: [k:9092]\n", "outputs[0].topic (line 4): must be set"},
		{"    brokers: [k:9092]\n    topic: \"logs/{kubernetes.namespace_name}\"\n", "outputs[0].topic (line 7): a topic name takes only letters, digits"},
		{"    brokers: [k:9092]\n    topic: \"logs-{kubernetes.nope}\"\n", "outputs[0].topic (line 7): "},
		{"    brokers: [k:9092]\n    topic: logs\n    compression: brotli\n", `outputs[0].compression (line 8): must be one of none, gzip, snappy, lz4, zstd, got "brotli"`},
		{"    brokers: [k:9092]\n    topic: logs\n    acks: \"1\"\n", `outputs[0].acks (line 8): must be one of all, leader, none, got "1"`},
		{"    brokers: [k:9092]\n    topic: logs\n    acks: leader\n    idempotent: true\n", "outputs[0].idempotent (line 9): the idempotent producer needs acks: all"},
		{"    brokers: [k:9092]\n    topic: logs\n    partition_key: uid\n", `outputs[0].partition_key (line 8): must be one of pod_id`},
		{"    brokers: [k:9092]\n    topic: logs\n    max_message_bytes: 10\n", "outputs[0].max_message_bytes (line 8): must be between 1Ki and 256Mi"},
		{"    brokers: [k:9092]\n    topic: logs\n    dead_letter_topic: \"dead letters\"\n", "outputs[0].dead_letter_topic (line 8): must be a topic name"},
		{"    brokers: [k:9092]\n    topic: logs\n    sasl: { mechanism: GSSAPI, username: u, password: hunter2 }\n", `outputs[0].sasl.mechanism (line 8): must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got "GSSAPI"`},
		{"    brokers: [k:9092]\n    topic: logs\n    sasl: { mechanism: PLAIN, password: hunter2 }\n", "outputs[0].sasl.username (line 8): must be set with sasl"},
		{"    brokers: [k:9092]\n    topic: logs\n    sasl: { mechanism: PLAIN, username: u, password: hunter2, password_file: " + pw + " }\n", "outputs[0].sasl.password_file (line 8): set only one of password and password_file"},
		{"    brokers: [k:9092]\n    topic: logs\n    sasl: { mechanism: PLAIN, username: u, password_file: /nonexistent/pw }\n", "outputs[0].sasl.password_file (line 8): file /nonexistent/pw does not exist"},
		{"    brokers: [k:9092]\n    topic: logs\n    index: x\n", "outputs[0].index (line 8): not a key of a kafka output (only for elasticsearch)"},
		{"    brokers: [k:9092]\n    topic: logs\n    tls: { enabled: true, cert_file: /x }\n", "outputs[0].tls.cert_file (line 8): cert_file and key_file go together"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(kafkaBase+c.yaml), nil)
		require.ErrorContains(t, err, c.want, c.yaml)
		require.NotContains(t, err.Error(), "hunter2")
		require.NotContains(t, err.Error(), "s3cret")
	}
	// An elasticsearch output takes no kafka key, and no tls.enabled.
	_, err := Parse([]byte("data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs:\n  - { name: es, type: elasticsearch, urls: [http://x], brokers: [k:9092], tls: { enabled: true } }\n"), nil)
	require.ErrorContains(t, err, "outputs[0].brokers (line 4): not a key of an elasticsearch output (only for kafka)")
	require.ErrorContains(t, err, "outputs[0].tls.enabled (line 4): is for kafka outputs")
	require.Equal(t, 2, strings.Count(err.Error(), "\n")+1, err.Error())
}

// The SASL password, inline or from its file, is one of the secrets every
// message is masked of.
func TestKafkaSecrets(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("from-file\n"), 0o600))
	cfg, err := Parse([]byte(kafkaBase+"    brokers: [k:9092]\n    topic: logs\n    sasl: { mechanism: PLAIN, username: u, password: inline-pw }\n"+
		"  - { name: k2, type: kafka, brokers: [k:9092], topic: logs, sasl: { mechanism: SCRAM-SHA-256, username: u, password_file: "+pw+" } }\n"), nil)
	require.NoError(t, err)
	require.Subset(t, cfg.Secrets(), []string{"inline-pw", "from-file"})
}
