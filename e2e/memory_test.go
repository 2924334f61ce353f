package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// memoryConfig sets only memory_limit (and two workers, so the sizes do
// not depend on this machine): bulk.max_bytes and everything else is
// sized from it.
func memoryConfig(dataDir, logs, addr, url string) string {
	return fmt.Sprintf(`node_name: %s
data_dir: %q
memory_limit: 32MiB
workers: 2
http: { listen: 127.0.0.1:0 }
inputs:
  - { name: containers, type: container_logs, paths: [%q], start_at: head }
  - { name: syslog, type: syslog, tcp: %s, format: rfc5424 }
kubernetes: { enabled: false }
transforms:
  - { type: json, field: log }
outputs:
  - name: es
    type: elasticsearch
    urls: [%q]
    index: "logs-memory"
    id_field: sluice_id
    retry: { initial: 50ms, max: 500ms }
    headers:
%s`, nodeName, dataDir, filepath.Join(logs, "*.log"), addr, url, vlstore.HeadersYAML("      "))
}

// TestPeakRSSUnderMemoryLimit: with only memory_limit set, at
// 32MiB, the agent's peak RSS (VmHWM) stays under it while a file of
// JSON lines is read from its head and four TCP connections send syslog
// as fast as the agent reads, first with the store cut off (batches fill
// the pipeline's share, bodies wait in retries) and then with it back.
// The agent is built without -race: the race detector's shadow memory
// is not the agent's.
func TestPeakRSSUnderMemoryLimit(t *testing.T) {
	bin := agenttest.Bin(t, "./cmd/sluice", false)
	t.Parallel()
	const lines = 15000
	s := vlstore.Start(t)
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	proxy := startCutProxy(t, u.Host)
	proxy.cut()
	u.Host = proxy.l.Addr().String()

	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	writeJSONLines(t, filepath.Join(logs, "flood-0_payments_api-"+strings.Repeat("a", 64)+".log"), lines)
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(memoryConfig(filepath.Join(dir, "data"), logs, addr, u.String())), 0o600))

	a := agenttest.Start(t, cfg, agenttest.Options{Name: "sluice-32MiB", Bin: bin})
	a.WaitReady(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			floodSyslog(addr, c, stop)
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	// The store is down: the batches' share fills.
	limit := a.Metric(t, "sluice_pipeline_batch_limit_bytes")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.GreaterOrEqual(c, a.Metric(c, "sluice_pipeline_memory_bytes"), limit/2)
	}, 30*time.Second, 50*time.Millisecond, "the flood fills the batches' share")
	// The store is back: the file is read to its end under the flood.
	proxy.restore()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, float64(lines), a.Metric(c, "sluice_input_records_total", "input", "containers"))
	}, 90*time.Second, 100*time.Millisecond, "the file read under the flood")
	msgs := a.Metric(t, "sluice_input_records_total", "input", "syslog")

	hwm, err := procMemKiB(a.Pid(), "VmHWM")
	require.NoError(t, err)
	t.Logf("peak RSS %d KiB (VmHWM) at memory_limit 32MiB; batch share %.0f bytes; %d file lines and %.0f syslog messages read; split %v",
		hwm, limit, lines, msgs, a.WaitLog(t, "memory_limit shared out", 1))
	require.Positive(t, msgs)
	require.Less(t, hwm, int64(32<<10), "peak RSS (KiB) over memory_limit")
}

// writeJSONLines writes n CRI lines of JSON application logs (≈ 280
// bytes each, the bench workload's size) into path.
func writeJSONLines(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		fmt.Fprintf(w, `2026-12-07T03:00:00.%09dZ stdout F {"level":"info","seq":%d,"user":"u%d","path":"/api/v1/orders/%d","status":200,"ms":%d,"msg":"request served %s"}`+"\n",
			i, i, i%977, i, i%250, strings.Repeat("x", 120))
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
}

// floodSyslog writes RFC 5424 messages over one TCP connection as fast as
// the agent reads them until stop is closed.
func floodSyslog(addr string, conn int, stop <-chan struct{}) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer c.Close()
	var buf []byte
	for i := 0; len(buf) < 64<<10; i++ {
		buf = fmt.Appendf(buf, "<14>1 2026-12-07T03:00:00Z host app %d - - flood conn=%d seq=%d %0120d\n", conn, conn, i, 0)
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		// A short deadline so stop is seen while the agent pushes back.
		_ = c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Write(buf); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
	}
}
