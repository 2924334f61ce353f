package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// TestValidate_KafkaBuffer: a kafka output's buffer_bytes
// counts in memory_limit as elasticsearch bodies do. A set one that
// memory_limit cannot hold is refused by -validate (exit 1) with the
// memory_limit it needs, which is then accepted; an unset one is sized
// from memory_limit, so the same memory_limit without it is valid.
func TestValidate_KafkaBuffer(t *testing.T) {
	agenttest.Binary(t)
	dir := t.TempDir()
	cfg := func(limit, buffer string) string {
		return fmt.Sprintf(`node_name: n
data_dir: %s
memory_limit: %s
workers: 2
http: { listen: 127.0.0.1:0 }
kubernetes: { enabled: false }
inputs: [{ name: c, type: container_logs, paths: ["%s"] }]
outputs:
  - name: k
    type: kafka
    brokers: [127.0.0.1:9092]
    topic: logs
%s`, filepath.Join(dir, "data"), limit, filepath.Join(dir, "logs", "*.log"), buffer)
	}
	code, stderr := validate(t, cfg("40MiB", "    buffer_bytes: 32MiB\n"))
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "sluice: invalid config:\n")
	require.Contains(t, stderr, "outputs[0].buffer_bytes (line 13): 32Mi needs memory_limit: ")
	m := regexp.MustCompile(`needs memory_limit: (\d+Mi) or more`).FindStringSubmatch(stderr)
	require.NotNil(t, m, "names the memory_limit it needs")
	code, stderr = validate(t, cfg(m[1]+"B", "    buffer_bytes: 32MiB\n"))
	require.Equal(t, 0, code, "the memory_limit named is enough: %s", stderr)
	code, stderr = validate(t, cfg("40MiB", ""))
	require.Equal(t, 0, code, "buffer_bytes unset is sized from memory_limit: %s", stderr)
}
