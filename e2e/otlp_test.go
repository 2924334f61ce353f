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

// The built binary ships two pods' files to the Collector's own OTLP
// receiver, is killed with SIGKILL while requests are in flight, and
// restarts while more lines are written: every line arrives at least
// once, and the log.record.uid values dedupe to exactly the lines written
// (one uid per line, never two lines under one uid, never two uids for
// one line), which is how a receiver drops what the replay sent again.
// The config leaves bulk.compress out: the bodies go gzipped.
func TestOTLPKillAndRestart(t *testing.T) {
	agenttest.Binary(t)
	rcv := otlptest.Start(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	c := agentConfig(configParams{DataDir: filepath.Join(dir, "data"), Paths: []string{filepath.Join(logs, "*.log")}})
	out := config.Output{Name: "otel", Type: "otlp", OTLP: config.OTLP{Endpoint: rcv.Endpoint}}
	out.Bulk.FlushInterval = config.Duration(50 * time.Millisecond)
	out.Bulk.MaxBytes = 16 << 10 // many requests: some delivered but not checkpointed at the kill
	out.Retry = config.Retry{Initial: config.Duration(20 * time.Millisecond), Max: config.Duration(200 * time.Millisecond)}
	c.Outputs = []config.Output{out}
	cfgPath := agenttest.WriteConfig(t, dir, c)
	raw, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "compress", "gzip is the otlp default, not set here")

	pods := []string{"api-0", "web-0"}
	pad := strings.Repeat("x", 200)
	line := func(pod string) func(int) string {
		return func(i int) string {
			return fmt.Sprintf(`{"level":"info","msg":"%s line %d","pad":"%s"}`, pod, i, pad)
		}
	}
	// Lines keep coming while the agent runs and when it is killed: a
	// writer appends a chunk to each pod's file every 20ms (up to 2,000
	// lines) until after the kill, then a last chunk goes in for the
	// restarted agent.
	written := 0 // per pod
	appendChunk := func(n int) error {
		for _, pod := range pods {
			f, err := os.OpenFile(criFile(logs, "shop", pod), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				return err
			}
			var b strings.Builder
			for i := written; i < written+n; i++ {
				fmt.Fprintf(&b, "%s stdout F %s\n", time.Now().UTC().Format(time.RFC3339Nano), line(pod)(i))
			}
			_, err = f.WriteString(b.String())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
		written += n
		return nil
	}
	require.NoError(t, appendChunk(200))
	stop, stopped := make(chan struct{}), make(chan error, 1)
	go func() { // owned by this test; ends when stop closes
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				stopped <- nil
				return
			case <-tick.C:
				if written >= 2000 {
					continue
				}
				if err := appendChunk(10); err != nil {
					stopped <- err
					return
				}
			}
		}
	}()
	a := agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent#1"})
	waitForRecords(t, rcv, a, 300)
	a.Kill(t)
	close(stop)
	require.NoError(t, <-stopped)
	t.Logf("killed at %d records received, %d lines written", rcv.Count(t), len(pods)*written)
	require.NoError(t, appendChunk(500))
	a = agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent#2"})
	want := len(pods) * written
	uidOf := map[string]string{}  // body -> uid
	bodyOf := map[string]string{} // uid -> body
	total := 0
	deadline := time.Now().Add(30 * time.Second)
	for {
		a.RequireRunning(t)
		clear(uidOf)
		clear(bodyOf)
		total = 0
		rcv.Each(t, func(_ map[string]any, lr plog.LogRecord) {
			total++
			body := lr.Body().Str()
			uid, ok := lr.Attributes().Get("log.record.uid")
			require.True(t, ok, "record %q without log.record.uid", body)
			if u, seen := uidOf[body]; seen {
				require.Equal(t, u, uid.Str(), "line %q sent again under another uid", body)
			}
			if b, seen := bodyOf[uid.Str()]; seen {
				require.Equal(t, b, body, "two lines under uid %s", uid.Str())
			}
			uidOf[body], bodyOf[uid.Str()] = uid.Str(), body
		})
		if len(uidOf) == want || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
	require.Len(t, uidOf, want, "distinct lines received")
	for _, pod := range pods {
		for i := range written {
			_, ok := uidOf[fmt.Sprintf("%s line %d", pod, i)]
			require.True(t, ok, "%s line %d never arrived", pod, i)
		}
	}
	require.Len(t, bodyOf, want, "the uids dedupe to exactly the lines written")
	t.Logf("%d records for %d lines: %d sent again after the kill", total, want, total-want)

	sent := a.Metric(t, "sluice_output_documents_total", "output", "otel", "result", "sent")
	bytes := a.Metric(t, "sluice_output_bytes_total", "output", "otel")
	require.Positive(t, sent)
	require.Less(t, bytes/sent, float64(len(pad)), "bytes per record on the wire: gzipped")
	require.Zero(t, a.Stop(t))
}
