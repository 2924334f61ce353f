package e2e

import (
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

// The default install (no index) with schema: ecs, through the binary
// into VictoriaLogs (which says it is Elasticsearch 8.9 on GET /): the
// agent picks data streams, and the documents carry ECS names and the
// data_stream.* of logs-sluice.container_logs-default (docs/configuration.md, Field
// schemas).
func TestSchemaECSDataStreams(t *testing.T) {
	agenttest.Binary(t)
	dir := t.TempDir()
	store := vlstore.Start(t)
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	c := agentConfig(configParams{DataDir: filepath.Join(dir, "data"), Paths: []string{filepath.Join(logs, "*.log")}, StoreURL: store.URL})
	c.Outputs[0].Index, c.Outputs[0].Schema = "", "ecs"
	cfgPath := agenttest.WriteConfig(t, dir, c)
	var lines strings.Builder
	for i := range 5 {
		fmt.Fprintf(&lines, "2026-12-06T10:00:00.%09dZ stdout F plain line %d\n", i+1, i)
	}
	name := "api-7d9f8c6b5-x2x9q_payments_api-" + strings.Repeat("ab", 32) + ".log"
	require.NoError(t, os.WriteFile(filepath.Join(logs, name), []byte(lines.String()), 0o644))

	a := agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent"})
	waitForCount(t, store, a, 5, 60*time.Second)
	rows, err := store.Query(t.Context(), "*")
	require.NoError(t, err)
	require.Len(t, rows, 5)
	for _, r := range rows {
		require.True(t, strings.HasPrefix(r["message"], "plain line "), "%v", r)
		require.Equal(t, "stdout", r["stream"])
		require.Equal(t, "payments", r["kubernetes.namespace"])
		require.Equal(t, "api-7d9f8c6b5-x2x9q", r["kubernetes.pod.name"])
		require.Equal(t, "api", r["container.name"])
		require.Equal(t, "kubernetes", r["orchestrator.type"])
		require.Equal(t, "logs", r["data_stream.type"])
		require.Equal(t, "sluice.container_logs", r["data_stream.dataset"])
		require.Equal(t, "default", r["data_stream.namespace"])
		require.Equal(t, "sluice.container_logs", r["event.dataset"])
		require.NotContains(t, r, "kubernetes.namespace_name")
		require.NotContains(t, r, "log")
	}
	require.Contains(t, a.Stderr.String(), "writing to data streams")
}
