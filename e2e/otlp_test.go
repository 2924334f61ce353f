package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/otlptest"
)

// The built binary ships a container log file to the OpenTelemetry
// Collector's own OTLP receiver: every line arrives with the pod's
// resource attributes, its body and severity; after a clean restart the
// lines written meanwhile arrive and none twice (the checkpoint waited
// for the output's acknowledgement). /api/v1/status and /metrics count
// the records.
func TestOTLPOutputFromBinary(t *testing.T) {
	agenttest.Binary(t)
	rcv := otlptest.Start(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	c := agentConfig(configParams{DataDir: filepath.Join(dir, "data"), Paths: []string{filepath.Join(logs, "*.log")}})
	out := config.Output{Name: "otel", Type: "otlp", OTLP: config.OTLP{Endpoint: rcv.Endpoint}}
	out.Bulk.FlushInterval = config.Duration(100 * time.Millisecond)
	out.Bulk.Compress = true
	c.MemoryLimit = 128 << 20
	c.Outputs = []config.Output{out}
	cfgPath := agenttest.WriteConfig(t, dir, c)
	file := filepath.Join(logs, "api-7d9f8c6b5-x2x9q_payments_api-"+strings.Repeat("ab", 32)+".log")
	appendLines := func(from, to int) {
		f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		require.NoError(t, err)
		for i := from; i < to; i++ {
			_, err = fmt.Fprintf(f, "2026-12-06T10:00:00.%09dZ stdout F {\"level\":\"error\",\"msg\":\"line %d\",\"n\":%d}\n", i+1, i, i)
			require.NoError(t, err)
		}
		require.NoError(t, f.Close())
	}
	appendLines(0, 20)

	a := agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent"})
	waitForRecords(t, rcv, a, 20)
	a.WaitReady(t)
	require.Equal(t, 20.0, a.Metric(t, "sluice_output_documents_total", "output", "otel", "result", "sent"))
	require.Zero(t, a.Stop(t))

	appendLines(20, 30)
	a = agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent-restarted"})
	waitForRecords(t, rcv, a, 30)
	require.Zero(t, a.Stop(t))

	seen := map[string]int{}
	rcv.Each(t, func(res map[string]any, lr plog.LogRecord) {
		seen[lr.Body().Str()]++
		require.Equal(t, "payments", res["k8s.namespace.name"])
		require.Equal(t, "api-7d9f8c6b5-x2x9q", res["k8s.pod.name"])
		require.Equal(t, "api", res["k8s.container.name"])
		require.Equal(t, "error", lr.SeverityText())
		require.Equal(t, plog.SeverityNumberError, lr.SeverityNumber())
		require.Equal(t, "stdout", lr.Attributes().AsRaw()["log.iostream"])
		require.NotZero(t, lr.Timestamp())
		require.NotZero(t, lr.ObservedTimestamp())
	})
	require.Len(t, seen, 30)
	for i := range 30 {
		require.Equal(t, 1, seen[fmt.Sprintf("line %d", i)], "line %d arrived once", i)
	}
}

// waitForRecords waits until the receiver holds n records.
func waitForRecords(t *testing.T, rcv *otlptest.Receiver, a *agenttest.Agent, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for got := rcv.Count(t); got < n; got = rcv.Count(t) {
		a.RequireRunning(t)
		if time.Now().After(deadline) {
			t.Fatalf("the receiver holds %d records, want %d", got, n)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
}
