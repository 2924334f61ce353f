package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/spool"
	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// replayConfig is two syslog inputs with spools (as the chaos run's
// syslog outage has), only memory_limit set, and the store at url.
func replayConfig(dataDir, limit, url string) string {
	return fmt.Sprintf(`node_name: %s
data_dir: %q
memory_limit: %s
workers: 2
http: { listen: 127.0.0.1:0 }
inputs:
  - { name: syslog_tcp, type: syslog, tcp: 127.0.0.1:0, udp: "", spool: { max_bytes: 1GiB } }
  - { name: syslog_udp, type: syslog, tcp: "", udp: 127.0.0.1:0, spool: { max_bytes: 1GiB } }
kubernetes: { enabled: false }
transforms:
  - { type: json, field: log }
outputs:
  - name: es
    type: elasticsearch
    urls: [%q]
    index: "logs-replay"
    id_field: sluice_id
    headers:
%s`, nodeName, dataDir, limit, url, vlstore.HeadersYAML("      "))
}

// fillSpool writes records of about 200 bytes, as the syslog input
// spools them, into input's spool under dataDir until it holds bytes.
func fillSpool(t *testing.T, dataDir, input string, bytes int64) int {
	t.Helper()
	sp, err := spool.Open(spool.Config{Dir: filepath.Join(dataDir, "spool", input), Input: input, MaxBytes: 4 << 30,
		Sync: spool.SyncInterval, WhenFull: spool.Block}, nil, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	src := &record.Source{Input: input, Path: "tcp://127.0.0.1:5140"}
	n := 0
	for sp.Stats().Bytes.Load() < bytes {
		b := record.NewBatch(src, nil)
		for range 250 {
			line := fmt.Appendf(nil, "spool replay %s seq=%07d %0150d", input, n, 0)
			extra := fmt.Appendf(nil, `"syslog":{"facility":1,"severity":6,"hostname":"host","app_name":"app","proc_id":"%d"},"source_ip":"127.0.0.1"`, n%4)
			b.AddExtra(record.Record{Time: time.Now().UnixNano(), Offset: int64(n)}, line, extra)
			n++
		}
		require.NoError(t, sp.Push(context.Background(), b))
	}
	require.NoError(t, sp.Close())
	return n
}

// TestSpoolReplayPeakRSSUnderMemoryLimit: an agent that starts with two
// spools, together twice its memory_limit (the third life of the chaos
// run's syslog outage), sends them to the store at full speed. Its peak
// RSS (VmHWM) stays under memory_limit, and so does the bound the heap
// may reach: the Go runtime's soft limit plus the binary's resident
// pages (RssFile, which the runtime does not see; 19 MiB for this
// dynamically linked build, more than the 16 MiB the split assumes) and
// the margin of memory_limit/32, less what the runtime counts but has
// not written (given back on the soft limit, up to an eighth of it).
// The agent is built without -race.
func TestSpoolReplayPeakRSSUnderMemoryLimit(t *testing.T) {
	bin := agenttest.Bin(t, "./cmd/sluice", false)
	t.Parallel()
	const limit = 64 << 20
	s := vlstore.Start(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	n := fillSpool(t, data, "syslog_tcp", limit)
	n += fillSpool(t, data, "syslog_udp", limit)
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(replayConfig(data, "64MiB", s.URL)), 0o600))
	a := agenttest.Start(t, cfg, agenttest.Options{Name: "sluice-replay", Bin: bin})
	a.WaitReady(t)
	start := time.Now()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, in := range []string{"syslog_tcp", "syslog_udp"} {
			assert.Zero(c, a.Metric(c, "sluice_spool_bytes", "input", in))
		}
	}, 3*time.Minute, 100*time.Millisecond, "the spools are sent and deleted")
	hwm, err := procMemKiB(a.Pid(), "VmHWM")
	require.NoError(t, err)
	file, err := procMemKiB(a.Pid(), "RssFile")
	require.NoError(t, err)
	soft := a.Metric(t, "go_gc_gomemlimit_bytes")
	t.Logf("%d records replayed in %v; peak RSS %d KiB (VmHWM) at memory_limit 64MiB; soft limit %.0f KiB, RssFile %d KiB",
		n, time.Since(start).Round(time.Millisecond), hwm, soft/1024, file)
	require.Less(t, hwm, int64(limit>>10), "peak RSS (KiB) over memory_limit")
	// The soft limit gives back what the runtime counts but never wrote
	// (not resident), at most an eighth of the split's soft limit.
	giveBack := (int64(limit) - 16<<20 - limit/32) / 8
	require.LessOrEqual(t, int64(soft)+file<<10+limit/32, int64(limit)+giveBack,
		"the soft limit leaves no room for the binary's resident pages and the margin")
	require.Equal(t, 0, a.Stop(t))
}
