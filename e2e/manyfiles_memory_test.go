package e2e

import (
	"bufio"
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

// TestUnfinishedLinesUnderMemoryLimit: many files that each end in a long
// line still being written (no newline yet, or the runtime's partial
// lines without the last) hold that line while they wait for their next
// bytes; peak RSS stays under memory_limit however many files do it.
func TestUnfinishedLinesUnderMemoryLimit(t *testing.T) {
	bin := agenttest.Bin(t, "./cmd/sluice", false)
	t.Parallel()
	// 120 × 200 KiB held took 57-58 MB (either kind) before the
	// unfinished lines were bounded (collector/tail/slots.go). With
	// 700 KiB lines the peak is still 33 MB (bench/RESULTS.md).
	const files, lines, tail = 120, 20, 200 << 10
	s := vlstore.Start(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	var total int64
	for f := range files {
		name := filepath.Join(logs, fmt.Sprintf("unfinished-%d_payments_api-%s.log", f, strings.Repeat("c", 64)))
		writeJSONLines(t, name, lines)
		fh, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		w := bufio.NewWriter(fh)
		if f%2 == 0 {
			fmt.Fprintf(w, `2026-12-07T03:00:01.000000000Z stdout F {"msg":"%s`, strings.Repeat("y", tail))
		} else {
			// As the runtime writes a long line whose end has not come:
			// partial lines of 16 KiB.
			for range tail / (16 << 10) {
				fmt.Fprintf(w, "2026-12-07T03:00:01.000000000Z stdout P %s\n", strings.Repeat("y", 16<<10))
			}
		}
		require.NoError(t, w.Flush())
		require.NoError(t, fh.Close())
		fi, err := os.Stat(name)
		require.NoError(t, err)
		total += fi.Size()
	}
	a := startTailingAt32MiB(t, bin, s, dir, "unfinished", "")
	got := waitForCount(t, s, a, files*lines, 3*time.Minute)
	base := a.APIURL(t, 1)
	deadline := time.Now().Add(time.Minute)
	for metricValue(t, base, "sluice_input_bytes_total") < float64(total) {
		require.True(t, time.Now().Before(deadline), "read %v of %d bytes", metricValue(t, base, "sluice_input_bytes_total"), total)
		time.Sleep(50 * time.Millisecond) // poll interval
	}
	hwm, err := procMemKiB(a.Pid(), "VmHWM")
	require.NoError(t, err)
	t.Logf("peak RSS %d KiB with %d files each holding a %d KiB unfinished line (half in partial lines); %d rows", hwm, files, tail>>10, got)
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
