package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// TestValidate_OTLPBodies: an otlp output's bulk.max_bytes counts in
// memory_limit. Set larger than memory_limit can hold, -validate refuses
// it (exit 1) naming the memory_limit it needs, which is then accepted;
// unset, it is sized from memory_limit, so a small memory_limit is valid.
func TestValidate_OTLPBodies(t *testing.T) {
	agenttest.Binary(t)
	dir := t.TempDir()
	cfg := func(limit, maxBytes string) string {
		return fmt.Sprintf(`node_name: n
data_dir: %s
memory_limit: %s
workers: 2
http: { listen: 127.0.0.1:0 }
kubernetes: { enabled: false }
inputs: [{ name: c, type: container_logs, paths: ["%s"] }]
outputs:
  - name: o
    type: otlp
    endpoint: http://127.0.0.1:4318/v1/logs
    bulk: { workers: 2%s }
`, filepath.Join(dir, "data"), limit, filepath.Join(dir, "logs", "*.log"), maxBytes)
	}
	code, stderr := validate(t, cfg("40MiB", ", max_bytes: 1MiB"))
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "sluice: invalid config:\n")
	require.Contains(t, stderr, "outputs[0].bulk.max_bytes (line 12): 1Mi needs memory_limit: ")
	m := regexp.MustCompile(`needs memory_limit: (\d+Mi) or more`).FindStringSubmatch(stderr)
	require.NotNil(t, m, "names the memory_limit it needs")
	code, stderr = validate(t, cfg(m[1]+"B", ", max_bytes: 1MiB"))
	require.Equal(t, 0, code, "the memory_limit named is enough: %s", stderr)
	code, stderr = validate(t, cfg("40MiB", ""))
	require.Equal(t, 0, code, "bulk.max_bytes unset is sized from memory_limit: %s", stderr)
}
