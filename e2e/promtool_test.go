package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/promtest"
)

// promtool check metrics finds nothing to say about a live agent's
// /metrics: every family the agent has (inputs of both kinds, an
// Elasticsearch output that fails, a console output, filters) follows the
// Prometheus naming rules.
func TestPromtoolCheckMetrics(t *testing.T) {
	agenttest.Binary(t)
	promtool := promtest.Promtool(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	cfg := strings.Join([]string{
		"node_name: " + nodeName,
		"data_dir: " + strconv.Quote(filepath.Join(dir, "data")),
		"memory_limit: 64MiB",
		"http: {listen: 127.0.0.1:0}",
		"kubernetes: {enabled: false}",
		"inputs:",
		"  - {name: containers, type: container_logs, paths: [" + strconv.Quote(filepath.Join(logs, "*.log")) + "], start_at: head, poll_interval: 50ms}",
		"  - {name: syslog, type: syslog, tcp: 127.0.0.1:0, udp: 127.0.0.1:0}",
		"transforms:",
		"  - {type: throttle, name: per-pod, rate: 100}",
		"outputs:",
		"  - {name: es, type: elasticsearch, urls: [http://127.0.0.1:9], retry: {initial: 50ms, max: 200ms}}",
		"  - {name: stdout, type: console}",
	}, "\n") + "\n"
	path := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	writeCRI(t, filepath.Join(logs, "api-0_ops_api-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log"), 10,
		func(i int) string { return "line " + strconv.Itoa(i) })
	a := agenttest.Start(t, path, agenttest.Options{Name: "agent"})
	base := a.APIURL(t, 1)
	// Every series is there once the file is read.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, 10.0, metricValue(c, base, "sluice_input_records_total", "input", "containers"))
	}, 30*time.Second, 20*time.Millisecond)
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	out, clean := promtest.CheckMetrics(t, promtool, body)
	require.True(t, clean, "promtool check metrics:\n%s", out)
	// Every sluice family is in docs/metrics.md, which the alert
	// rules and the dashboard are held to (deploy
	// TestMonitoringNamesDocumented); go_ and process_ are the client
	// library's.
	documented := promtest.Documented(t)
	for _, line := range strings.Split(string(body), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" && strings.HasPrefix(f[2], "sluice_") && !documented[f[2]] {
			t.Errorf("the agent exports %s (%s), which docs/metrics.md does not list", f[2], f[3])
		}
	}
}
