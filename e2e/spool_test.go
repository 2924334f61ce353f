package e2e

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// spoolConfig is a syslog input with a disk spool, a small memory_limit
// and the store behind url.
func spoolConfig(dataDir, addr, url string) string {
	return fmt.Sprintf(`node_name: %s
data_dir: %q
memory_limit: 40MiB
workers: 2
http: { listen: 127.0.0.1:0 }
inputs:
  - name: syslog
    type: syslog
    tcp: %s
    udp: %s
    format: rfc5424
    spool: { max_bytes: 256MiB, sync: interval, sync_interval: 100ms }
kubernetes: { enabled: false }
outputs:
  - name: es
    type: elasticsearch
    urls: [%q]
    index: "logs-spool"
    id_field: sluice_id
    retry: { initial: 50ms, max: 500ms }
    headers:
%s    bulk: { max_bytes: 256KiB, flush_interval: 100ms }
`, nodeName, dataDir, addr, addr, url, vlstore.HeadersYAML("      "))
}

// spoolMsg is message seq of a transport, padded to about 200 bytes.
func spoolMsg(transport string, seq int) string {
	return fmt.Sprintf("<14>1 2026-12-06T10:00:00Z host app - - - spool %s seq=%07d %0150d", transport, seq, 0)
}

// The store is down for three lives of the agent, two of them ended by
// SIGKILL: TCP and UDP senders are read on at once, far past the batches'
// share of memory_limit, because the spool takes what the pipeline cannot;
// once the store is back every message is stored, each under one id, and
// the spool is empty.
func TestSyslogSpoolThroughOutageAndKills(t *testing.T) {
	agenttest.Binary(t)
	s := vlstore.Start(t)
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	proxy := startCutProxy(t, u.Host)
	proxy.cut()
	u.Host = proxy.l.Addr().String()
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(spoolConfig(filepath.Join(dir, "data"), addr, u.String())), 0o600))

	tcpSeq, udpSeq := 0, 0
	for life := 1; life <= 3; life++ {
		a := agenttest.Start(t, cfg, agenttest.Options{Name: "sluice-" + strconv.Itoa(life)})
		a.WaitReady(t)
		limit := a.Metric(t, "sluice_pipeline_batch_limit_bytes")
		// Twice the batches' share: without the spool the agent would
		// stop reading the TCP connection halfway.
		n, u := int(2*limit)/len(spoolMsg("tcp", 0)), 500
		if life == 3 {
			n, u = 100, 100 // the last life is about delivery
		}
		tcpSeq = sendTCP(t, addr, tcpSeq, n)
		udpSeq = sendUDP(t, a, addr, udpSeq, u)
		spooled := float64(n + u)
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Equal(c, spooled, a.Metric(c, "sluice_spool_records_total", "input", "syslog", "event", "spooled"))
		}, 2*time.Minute, 50*time.Millisecond, "life %d: every message read is in the spool", life)
		assert.Zero(t, a.Metric(t, "sluice_lost_records_total", "component", "syslog", "reason", "udp_overflow"))
		assert.Positive(t, a.Metric(t, "sluice_spool_oldest_age_seconds", "input", "syslog"), "nothing is delivered while the store is down")
		st := inputSpoolStatus(t, a, "syslog")
		assert.Equal(t, int64(spooled), st.Spooled, "/api/v1/status: spooled in this life")
		assert.Equal(t, int64(a.Metric(t, "sluice_spool_bytes", "input", "syslog")), st.Bytes, "/api/v1/status: bytes as the metric")
		assert.GreaterOrEqual(t, st.Bytes, int64(spooled)*int64(len(spoolMsg("tcp", 0))), "/api/v1/status: bytes hold the messages")
		assert.Positive(t, st.Segments)
		assert.Positive(t, st.OldestAgeSeconds)
		assert.Zero(t, st.Dropped)
		assert.Zero(t, st.WriteErrors)
		if life < 3 {
			// After the spool's fsync interval: SIGKILL costs nothing
			// written, with or without it; a power loss would.
			a.Kill(t)
			continue
		}
		proxy.restore()
		want := tcpSeq + udpSeq
		waitForCount(t, s, a, want, 3*time.Minute)
		requireEachOnce(t, s, tcpSeq, udpSeq)
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Zero(c, a.Metric(c, "sluice_spool_oldest_age_seconds", "input", "syslog"))
		}, time.Minute, 50*time.Millisecond, "all acknowledged")
		st = inputSpoolStatus(t, a, "syslog")
		assert.Zero(t, st.OldestAgeSeconds, "/api/v1/status: nothing waits")
		// This life read back what the two before it left, and its own.
		assert.GreaterOrEqual(t, st.Replayed, int64(want), "/api/v1/status: replayed")
		assert.Zero(t, st.CorruptBytes, "SIGKILL after the writes: no torn entry")
		require.Equal(t, 0, a.Stop(t))
	}
	segs, err := filepath.Glob(filepath.Join(dir, "data", "spool", "syslog", "*.seg"))
	require.NoError(t, err)
	require.Empty(t, segs, "every segment acknowledged and deleted at the clean stop")
}

// sendTCP writes messages from..from+n over one connection; a write that
// waits more than 10 s fails the test (the agent stopped reading).
func sendTCP(t *testing.T, addr string, from, n int) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	var buf []byte
	for i := from; i < from+n; i++ {
		buf = append(append(buf, spoolMsg("tcp", i)...), '\n')
		if len(buf) > 32<<10 || i == from+n-1 {
			require.NoError(t, c.SetWriteDeadline(time.Now().Add(10*time.Second)))
			_, err := c.Write(buf)
			require.NoError(t, err, "the agent stopped reading the sender at message %d", i)
			buf = buf[:0]
		}
	}
	return from + n
}

// sendUDP sends n datagrams, pausing for the agent to take each hundred
// so the socket's receive buffer never overflows on a loaded machine.
func sendUDP(t *testing.T, a *agenttest.Agent, addr string, from, n int) int {
	t.Helper()
	c, err := net.Dial("udp", addr)
	require.NoError(t, err)
	defer c.Close()
	base := a.Metric(t, "sluice_input_records_total", "input", "syslog")
	for i := from; i < from+n; i++ {
		_, err := c.Write([]byte(spoolMsg("udp", i)))
		require.NoError(t, err)
		if sent := i - from + 1; sent%100 == 0 {
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				assert.GreaterOrEqual(c, a.Metric(c, "sluice_input_records_total", "input", "syslog"), base+float64(sent))
			}, time.Minute, 10*time.Millisecond)
		}
	}
	return from + n
}

var spoolSeq = regexp.MustCompile(`spool (tcp|udp) seq=(\d+)`)

// requireEachOnce: every message of both transports is stored, and rows
// of the same message share one id (VictoriaLogs keeps a replay the
// agent sent again after a lost answer; Elasticsearch would answer 409).
func requireEachOnce(t *testing.T, s *vlstore.Store, tcp, udp int) {
	t.Helper()
	ids := map[string]string{}
	for _, r := range mustQueryAll(t, s) {
		m := spoolSeq.FindStringSubmatch(r["_msg"])
		require.NotNil(t, m, "unexpected row %v", r)
		key := m[1] + m[2]
		if id, ok := ids[key]; ok {
			require.Equal(t, id, r["sluice_id"], "%s stored under two ids", key)
		}
		ids[key] = r["sluice_id"]
	}
	missing := 0
	for i := range max(tcp, udp) {
		if _, ok := ids[fmt.Sprintf("tcp%07d", i)]; !ok && i < tcp {
			missing++
		}
		if _, ok := ids[fmt.Sprintf("udp%07d", i)]; !ok && i < udp {
			missing++
		}
	}
	require.Zero(t, missing, "messages not stored")
	require.Len(t, ids, tcp+udp)
}

// A spool write that fails (here: the file size limit, as a full disk
// fails a write) is cut back off the segment, counted and logged; the
// input waits and tries again in a new segment, and every message read
// is stored once.
func TestSyslogSpoolWriteFailure(t *testing.T) {
	agenttest.Binary(t)
	s := vlstore.Start(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(spoolConfig(filepath.Join(dir, "data"), addr, s.URL)), 0o600))
	a := agenttest.Start(t, cfg, agenttest.Options{Name: "sluice", Wrap: []string{"prlimit", "--fsize=262144", "--"}})
	a.WaitReady(t)
	const n = 4000 // 800 KB: three segments' worth under the limit
	sendTCP(t, addr, 0, n)
	waitForCount(t, s, a, n, 2*time.Minute)
	requireEachOnce(t, s, n, 0)
	assert.Positive(t, a.Metric(t, "sluice_spool_write_errors_total", "input", "syslog"))
	assert.NotEmpty(t, a.LogEvents("spool write failed (disk full?); the input waits and tries again"))
	assert.Zero(t, a.Metric(t, "sluice_spool_corrupt_bytes_total", "input", "syslog"), "the failed writes were cut back")
	require.Equal(t, 0, a.Stop(t))
}

// tmpfsWrap runs the agent in a private mount namespace with a tmpfs of
// size on dir (the spool's folder): a disk that really fills up, gone
// with the agent. Root uses unshare -m; anyone else needs unprivileged
// user namespaces (unshare -rm), which some CI runners forbid: the test
// is skipped then, with one line saying so.
func tmpfsWrap(t *testing.T, dir, size string) []string {
	t.Helper()
	flags := "-rm"
	if os.Geteuid() == 0 {
		flags = "-m"
	}
	mount := `mount -t tmpfs -o size=` + size + ` sluice-spool "$0" && exec "$@"`
	probe := t.TempDir()
	if out, err := exec.Command("unshare", flags, "--propagation", "private", "sh", "-c", mount, probe, "true").CombinedOutput(); err != nil {
		t.Skipf("skipped: no private mount namespace for a small tmpfs (unshare %s: %v: %s); it needs root or unprivileged user namespaces", flags, err, bytes.TrimSpace(out))
	}
	return []string{"unshare", flags, "--propagation", "private", "sh", "-c", mount, dir}
}

// The spool's disk fills up (a 1 MiB tmpfs, far under max_bytes) while the
// store is down: the write fails with ENOSPC, is counted, and the ERROR
// says the disk is full and what when_full (block) does; the input stops
// reading the TCP sender (the rest waits in the socket buffers), nothing
// is dropped. Once the store is back the
// acknowledged segments are deleted, which makes room, the sender is read
// on, and every message is stored once.
func TestSyslogSpoolDiskFull(t *testing.T) {
	agenttest.Binary(t)
	dir := t.TempDir()
	spoolDir := filepath.Join(dir, "data", "spool")
	require.NoError(t, os.MkdirAll(spoolDir, 0o750))
	wrap := tmpfsWrap(t, spoolDir, "1m")
	s := vlstore.Start(t)
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	proxy := startCutProxy(t, u.Host)
	proxy.cut()
	u.Host = proxy.l.Addr().String()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(spoolConfig(filepath.Join(dir, "data"), addr, u.String())), 0o600))
	a := agenttest.Start(t, cfg, agenttest.Options{Name: "sluice", Wrap: wrap})
	a.WaitReady(t)

	const n = 10000 // 2 MB: twice the disk
	sent := make(chan error, 1)
	go func() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			sent <- err
			return
		}
		defer c.Close()
		var buf []byte
		for i := range n {
			buf = append(append(buf, spoolMsg("tcp", i)...), '\n')
			if len(buf) > 32<<10 || i == n-1 {
				if _, err := c.Write(buf); err != nil { // no deadline: it is held back
					sent <- err
					return
				}
				buf = buf[:0]
			}
		}
		sent <- nil
	}()
	const full = "spool write failed: disk full; the input waits and tries again every second (when_full: block)"
	ev := a.WaitLog(t, full, 1)
	assert.Contains(t, ev["err"], "no space left on device")
	assert.Equal(t, "ERROR", ev["level"])
	assert.Positive(t, a.Metric(t, "sluice_spool_write_errors_total", "input", "syslog"))
	held := a.Metric(t, "sluice_spool_records_total", "event", "spooled", "input", "syslog")
	assert.Less(t, held, float64(n), "the disk holds less than was sent")
	assert.LessOrEqual(t, a.Metric(t, "sluice_spool_bytes", "input", "syslog"), float64(1<<20))
	// The rest waits in the sockets' buffers (loopback takes megabytes),
	// not read: nothing more is spooled while the disk is full.
	require.Never(t, func() bool {
		return a.Metric(t, "sluice_spool_records_total", "event", "spooled", "input", "syslog") > held
	}, time.Second, 50*time.Millisecond, "spooled while the disk was full")
	assert.Less(t, a.Metric(t, "sluice_input_records_total", "input", "syslog"), float64(n), "the input stopped reading")

	proxy.restore()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		select {
		case err := <-sent:
			require.NoError(c, err)
		default:
			assert.Fail(c, "the sender is still held back")
		}
	}, 3*time.Minute, 50*time.Millisecond, "the sender is read on once there is room")
	t.Cleanup(func() {
		if t.Failed() {
			for _, m := range []string{"sluice_spool_bytes", "sluice_spool_segments", "sluice_spool_oldest_age_seconds", "sluice_spool_write_errors_total"} {
				t.Logf("%s %v", m, a.Metric(t, m, "input", "syslog"))
			}
			t.Logf("replayed %v", a.Metric(t, "sluice_spool_records_total", "event", "replayed", "input", "syslog"))
		}
	})
	waitForCount(t, s, a, n, 2*time.Minute)
	requireEachOnce(t, s, n, 0)
	assert.Zero(t, a.Metric(t, "sluice_lost_records_total", "component", "syslog", "reason", "spool_full"))
	assert.Zero(t, a.Metric(t, "sluice_spool_corrupt_bytes_total", "input", "syslog"), "the failed writes were cut back")
	require.Equal(t, 0, a.Stop(t))
}

// A full spool with when_full: drop_newest, the store down: the TCP
// sender is read on at once, what does not fit is dropped and counted,
// and summary records say how many (the first at once, the rest at the
// stop). After a restart with the store back, the store holds every
// message spooled and the summaries, whose counts add up to
// sluice_lost_records_total{reason="spool_full"} of the first life.
func TestSyslogSpoolDropSummary(t *testing.T) {
	agenttest.Binary(t)
	s := vlstore.Start(t)
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	proxy := startCutProxy(t, u.Host)
	proxy.cut()
	u.Host = proxy.l.Addr().String()
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "sluice.yaml")
	conf := spoolConfig(filepath.Join(dir, "data"), addr, u.String())
	conf = strings.Replace(conf, "max_bytes: 256MiB,", "max_bytes: 1MiB, when_full: drop_newest,", 1)
	conf = "shutdown_timeout: 1s\n" + conf
	require.NoError(t, os.WriteFile(cfg, []byte(conf), 0o600))

	a := agenttest.Start(t, cfg, agenttest.Options{Name: "sluice-1"})
	a.WaitReady(t)
	const n = 10000 // 2 MB: twice max_bytes
	sendTCP(t, addr, 0, n)
	var spooled, dropped float64
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		spooled = a.Metric(c, "sluice_spool_records_total", "input", "syslog", "event", "spooled")
		dropped = a.Metric(c, "sluice_lost_records_total", "component", "syslog", "reason", "spool_full")
		assert.Equal(c, float64(n), spooled+dropped)
	}, time.Minute, 50*time.Millisecond, "every message spooled or dropped")
	require.Positive(t, dropped)
	st := inputSpoolStatus(t, a, "syslog")
	assert.Equal(t, int64(dropped), st.Dropped, "/api/v1/status: spool.dropped")
	assert.Equal(t, int64(spooled), st.Spooled, "/api/v1/status: spool.spooled")
	require.Equal(t, 3, a.Stop(t), "exit 3: delivery cut at shutdown_timeout (the spool keeps it for the next run)")

	proxy.restore()
	a = agenttest.Start(t, cfg, agenttest.Options{Name: "sluice-2"})
	a.WaitReady(t)
	var told int
	var sums []row
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		stored, err := s.Count(t.Context(), `"spool tcp seq="`)
		require.NoError(c, err)
		assert.Equal(c, int(spooled), stored)
		sums, err = s.Query(t.Context(), `sluice.spool.input:syslog`)
		require.NoError(c, err)
		told = 0
		for _, r := range sums {
			v, err := strconv.Atoi(r["sluice.spool.dropped"])
			require.NoError(c, err)
			told += v
		}
		assert.Equal(c, int(dropped), told, "the summaries tell every drop")
	}, 2*time.Minute, 100*time.Millisecond)
	for _, r := range sums {
		assert.Regexp(t, `^sluice spool of input syslog dropped \d+ records \(\d+ bytes\) in the last [0-9.]+s: new records were dropped while it was full \(max_bytes 1048576 or a full disk; when_full: drop_newest\)$`, r["_msg"])
		assert.Equal(t, "warn", r["level"])
		assert.Equal(t, "drop_newest", r["sluice.spool.when_full"])
		assert.NotEmpty(t, r["sluice_id"])
	}
	require.Equal(t, 0, a.Stop(t))
}

// spoolStatus is an input's spool in /api/v1/status.
type spoolStatus struct {
	Bytes            int64   `json:"bytes"`
	Segments         int64   `json:"segments"`
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
	Spooled          int64   `json:"spooled"`
	Replayed         int64   `json:"replayed"`
	Dropped          int64   `json:"dropped"`
	CorruptBytes     int64   `json:"corrupt_bytes"`
	WriteErrors      int64   `json:"write_errors"`
}

// inputSpoolStatus is the spool that /api/v1/status shows for input,
// which must have one; its drops are in the input's lost.spool_full too.
func inputSpoolStatus(t *testing.T, a *agenttest.Agent, input string) spoolStatus {
	t.Helper()
	var st struct {
		Inputs []struct {
			Name  string           `json:"name"`
			Lost  map[string]int64 `json:"lost"`
			Spool *spoolStatus     `json:"spool"`
		} `json:"inputs"`
	}
	getJSON(t, a.URL(t)+"/api/v1/status", &st)
	for _, in := range st.Inputs {
		if in.Name == input {
			require.NotNil(t, in.Spool, "input %s shows no spool", input)
			require.Equal(t, in.Spool.Dropped, in.Lost["spool_full"], "spool.dropped and lost.spool_full")
			return *in.Spool
		}
	}
	require.Failf(t, "no input in /api/v1/status", "%s", input)
	return spoolStatus{}
}
