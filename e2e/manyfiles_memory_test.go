package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// TestManyFilesUnderMemoryLimit: a node with hundreds of container log
// files, each read at once from its head, keeps the agent's peak RSS
// under memory_limit (32MiB), and every line reaches the store. What a
// file holds while it is open (its read buffer) is memory too.
func TestManyFilesUnderMemoryLimit(t *testing.T) {
	bin := agenttest.Bin(t, "./cmd/sluice", false)
	t.Parallel()
	const files, lines = 150, 1200
	s := vlstore.Start(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	for f := range files {
		name := fmt.Sprintf("many-%d_payments_api-%s.log", f, strings.Repeat("b", 64))
		writeJSONLines(t, filepath.Join(logs, name), lines)
	}
	a := startTailingAt32MiB(t, bin, s, dir, "many", "workers: 2\ntransforms:\n  - { type: json, field: log }\n")
	got := waitForCount(t, s, a, files*lines, 3*time.Minute)
	hwm, err := procMemKiB(a.Pid(), "VmHWM")
	require.NoError(t, err)
	t.Logf("peak RSS %d KiB (VmHWM) at memory_limit 32MiB with %d files open; %d rows stored", hwm, files, got)
	require.Equal(t, files*lines, got, "rows in the store")
	// Lines cut across reads and slots come out whole: each parses as the
	// JSON it was written as.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	parsed, err := s.Count(ctx, "status:200")
	require.NoError(t, err)
	require.Equal(t, files*lines, parsed, "rows whose JSON log parsed")
	require.Less(t, hwm, int64(32<<10), "peak RSS (KiB) over memory_limit")
}

// startTailingAt32MiB starts the built binary reading dir/logs/*.log from
// their heads into s at memory_limit 32MiB, with extra top-level config.
func startTailingAt32MiB(t *testing.T, bin string, s *vlstore.Store, dir, name, extra string) *agenttest.Agent {
	t.Helper()
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`node_name: %s
data_dir: %q
memory_limit: 32MiB
http: { listen: 127.0.0.1:0 }
inputs:
  - { name: containers, type: container_logs, paths: [%q], start_at: head }
kubernetes: { enabled: false }
outputs:
  - name: es
    type: elasticsearch
    urls: [%q]
    index: "logs-%s"
    headers:
%s%s`, nodeName, filepath.Join(dir, "data"), filepath.Join(dir, "logs", "*.log"), s.URL, name, vlstore.HeadersYAML("      "), extra)), 0o600))
	a := agenttest.Start(t, cfg, agenttest.Options{Name: "sluice-" + name, Bin: bin})
	a.WaitReady(t)
	return a
}
