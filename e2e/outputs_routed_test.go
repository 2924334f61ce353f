package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/otlptest"
)

// The built binary with a kafka output that takes one namespace (match:)
// and an otlp output that takes every line, to franz-go's kfake and the
// Collector's own OTLP receiver. While the broker refuses every produce
// request, the otlp output delivers everything and /api/v1/status shows
// the kafka output's lines pending; a stop then cuts delivery. After the
// restart with the broker back: the kafka topic holds the one namespace's
// lines (each once by id) and no other; the otlp receiver got the other
// namespace's lines once (their checkpoint needed only its answer) and the
// kafka namespace's twice (their checkpoint waited for Kafka too).
func TestKafkaAndOTLPRoutedCheckpointWaitsForBoth(t *testing.T) {
	agenttest.Binary(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "logs-shop"))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	var refuse atomic.Bool
	refuse.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if refuse.Load() {
			return nil, errors.New("the test refuses produce requests"), true // closes the connection
		}
		return nil, nil, false
	})
	brokers := c.ListenAddrs()
	rcv := otlptest.Start(t)

	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	cfg := agenttest.Config(dir)
	cfg.Inputs = []config.Input{agenttest.ContainerLogs(filepath.Join(logs, "*.log"))}
	cfg.ShutdownTimeout = config.Duration(time.Second)
	cfg.MemoryLimit = 128 << 20 // room for two outputs' buffers
	k := config.Output{Name: "kafka", Type: "kafka", Match: &config.Match{Namespaces: []string{"shop"}}}
	k.Brokers, k.Topic = brokers, "logs-{kubernetes.namespace_name}"
	k.Retry = config.Retry{Initial: config.Duration(50 * time.Millisecond), Max: config.Duration(200 * time.Millisecond)}
	o := config.Output{Name: "otel", Type: "otlp", OTLP: config.OTLP{Endpoint: rcv.Endpoint}}
	o.Bulk.FlushInterval = config.Duration(100 * time.Millisecond)
	cfg.Outputs = []config.Output{k, o}
	cfgPath := agenttest.WriteConfig(t, dir, cfg)

	const n = 50
	for _, ns := range []string{"shop", "pay"} {
		writeCRI(t, criFile(logs, ns, "api-0"), n, func(i int) string { return ns + " line " + strconv.Itoa(i) })
	}
	got := consumeKafka(t, brokers, nil, "logs-shop", "logs-pay")

	a := agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent#1"})
	base := a.URL(t)
	type outputStatus struct {
		Name    string `json:"name"`
		Pending int64  `json:"documents_pending"`
	}
	var st struct {
		Outputs []outputStatus `json:"outputs"`
	}
	var status string
	pending := map[string]int64{}
	require.Eventually(t, func() bool {
		a.RequireRunning(t)
		status = get(t, base+"/api/v1/status")
		require.NoError(t, json.Unmarshal([]byte(status), &st))
		clear(pending)
		for _, s := range st.Outputs {
			pending[s.Name] = s.Pending
		}
		return rcv.Count(t) == 2*n && pending["kafka"] == n &&
			a.Metric(t, "sluice_output_documents_total", "output", "otel", "result", "sent") == 2*n
	}, 20*time.Second, 50*time.Millisecond, "status: %s; otlp records: %d", status, rcv.Count(t))
	require.Len(t, st.Outputs, 2, status)
	require.Zero(t, pending["otel"], status)
	require.Empty(t, got.snapshot(), "the broker refused every produce request")
	require.Equal(t, 3, a.Stop(t), "exit code after SIGTERM: delivery cut, the shop lines stay unacknowledged")

	refuse.Store(false)
	a = agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent#2"})
	ids := map[string]string{}
	require.Eventually(t, func() bool {
		a.RequireRunning(t)
		for _, r := range got.snapshot() {
			ids[r.id] = r.line
		}
		return len(ids) == n && rcv.Count(t) >= 3*n
	}, 20*time.Second, 50*time.Millisecond, "kafka ids %d, otlp records %d", len(ids), rcv.Count(t))
	require.Zero(t, a.Stop(t), "exit code after SIGTERM")

	lines := map[string]bool{}
	for _, l := range ids {
		lines[l] = true
	}
	for i := range n {
		require.True(t, lines["shop line "+strconv.Itoa(i)], "shop line %d in Kafka", i)
	}
	for _, r := range got.snapshot() {
		require.Equal(t, "shop", r.line[:4], "only shop goes to Kafka: %+v", r)
	}
	seen := map[string]int{}
	rcv.Each(t, func(_ map[string]any, lr plog.LogRecord) { seen[lr.Body().Str()]++ })
	require.Len(t, seen, 2*n)
	for i := range n {
		require.Equal(t, 1, seen["pay line "+strconv.Itoa(i)], "pay line %d at the receiver", i)
		require.Equal(t, 2, seen["shop line "+strconv.Itoa(i)], "shop line %d at the receiver", i)
	}
}
