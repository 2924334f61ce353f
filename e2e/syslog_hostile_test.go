package e2e

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/promtest"
	"github.com/sluicelog/sluice/internal/testcert"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// hostileSyslogConfig is an agent with one syslog input (extra holds more
// of its keys, each line indented for the input) at memory_limit,
// shipping to the store in the small-node profile of docs/configuration.md
// (bulk.max_bytes 512KiB).
func hostileSyslogConfig(dataDir, memoryLimit, storeURL, extra string) string {
	headers := vlstore.HeadersYAML("      ")
	return fmt.Sprintf(`node_name: %s
data_dir: %q
memory_limit: %s
http:
  listen: 127.0.0.1:0
inputs:
  - name: syslog
    type: syslog
%skubernetes:
  enabled: false
outputs:
  - name: es
    type: elasticsearch
    urls: [%q]
    index: "logs-syslog-%%Y.%%m.%%d"
    bulk:
      max_bytes: 512KiB
    headers:
%s`, nodeName, dataDir, memoryLimit, extra, storeURL, headers)
}

// startHostileSyslog starts the store and an agent with hostileSyslogConfig.
func startHostileSyslog(t *testing.T, memoryLimit, extra string) (*vlstore.Store, *agenttest.Agent, string) {
	t.Helper()
	agenttest.Binary(t)
	s := vlstore.Start(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(hostileSyslogConfig(filepath.Join(dir, "data"), memoryLimit, s.URL, extra)), 0o600))
	a := agenttest.Start(t, cfg, agenttest.Options{Name: "sluice"})
	return s, a, a.APIURL(t, 1)
}

// sendLine opens a connection, sends one newline-framed message and closes.
func sendLine(t *testing.T, addr, msg string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte(msg + "\n"))
	require.NoError(t, err)
}

// rssKiB reads VmRSS (or VmHWM) of the agent.
func rssKiB(t *testing.T, a *agenttest.Agent, field string) int64 {
	t.Helper()
	v, err := procMemKiB(a.Pid(), field)
	require.NoError(t, err)
	return v
}

// 600 connections each hold a 65,000-byte frame without its end: the
// frame buffers' sum stays inside the share memory_limit gives them
// (agent/budget.Split.Frames), the connections that found no room are
// closed and counted, and the agent's RSS grows by the connections'
// fixed cost, not by 600 × 64 KiB (HEAD 141eb6e: 16.7 → 60 MB). Short
// messages keep flowing.
func TestSyslogHostile_UnfinishedFramesStayInMemoryLimit(t *testing.T) {
	const conns, frameLen = 600, 65_000
	addr := freeAddr(t)
	s, a, api := startHostileSyslog(t, "40MiB", "    tcp: "+addr+"\n    max_connections: 1024\n")
	sendLine(t, addr, "<13>1 - - - - - - before the flood")
	waitForCount(t, s, a, 1, 60*time.Second)
	base := rssKiB(t, a, "VmRSS")

	frame := []byte("<13>1 - - - - - - " + strings.Repeat("u", frameLen-len("<13>1 - - - - - - ")))
	held := make([]net.Conn, 0, conns)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range conns {
		// A few dozen dialers at once: a flood, within the listen backlog.
		if i%32 == 31 {
			wg.Wait()
		}
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
			_, err = c.Write(frame)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	require.Len(t, held, conns)

	// Every connection ends up holding its whole frame in a 64 KiB
	// buffer (60 KiB of it charged, beyond the first 4) or closed for
	// want of frame memory.
	var open, cut, frameBytes float64
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		a.RequireRunning(t)
		m := promtest.Scrape(c, api)
		open = promtest.Value(c, m, "sluice_input_connections", "input", "syslog")
		cut = promtest.Value(c, m, "sluice_input_connections_closed_total", "input", "syslog", "reason", "frame_memory")
		frameBytes = promtest.Value(c, m, "sluice_input_frame_memory_bytes", "input", "syslog")
		require.Equal(c, float64(conns), open+cut)
		require.Equal(c, open*(64<<10-4<<10), frameBytes)
	}, 60*time.Second, 100*time.Millisecond, "connections held or closed")
	rss, hwm := rssKiB(t, a, "VmRSS"), rssKiB(t, a, "VmHWM")
	t.Logf("%d connections × %d-byte unfinished frame at memory_limit 40MiB: %v held (%v bytes of frame memory), %v closed (frame_memory); RSS %d KiB before, %d KiB after, peak %d KiB (race: %v)",
		conns, frameLen, open, frameBytes, cut, base, rss, hwm, raceEnabled)
	require.Positive(t, cut, "the frame memory is full long before 600 × 64 KiB")

	// The frames stay inside their share, and the whole agent under
	// memory_limit: the share is ≈ 1.1 MiB here, the connections' fixed
	// cost (goroutine, 4 KiB first buffer) ≈ 13 KiB each. HEAD 141eb6e
	// peaked at ≈ 62 MB, the frames alone 600 × 64 KiB. Under -race the
	// detector's shadow of every goroutine dwarfs that (+150 MB before,
	// +90–130 MB after), so there only a loose bound holds.
	share, ok := a.WaitLog(t, "memory_limit shared out", 1)["syslog_frames"].(float64)
	require.True(t, ok, "syslog_frames in the memory split's log line")
	require.LessOrEqual(t, frameBytes, share)
	if raceEnabled {
		require.Less(t, hwm-base, int64(256<<10), "RSS growth (KiB) under -race")
	} else {
		require.Less(t, hwm, int64(40<<10), "peak RSS (KiB) over memory_limit")
	}

	// Short messages still flow, on a new connection.
	sendLine(t, addr, "<13>1 - - - - - - after the flood")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		n, err := s.Count(t.Context(), `"after the flood"`)
		require.NoError(c, err)
		require.Equal(c, 1, n)
	}, 60*time.Second, 100*time.Millisecond)
	for _, c := range held {
		c.Close()
	}
	require.Equal(t, 0, a.Stop(t))
}

// Five connections that never send a ClientHello fill max_connections: 5
// of a TLS listener; at the default handshake_timeout (10s), not
// idle_timeout (10m; HEAD 141eb6e held them that long), they are closed
// and counted, and a real client gets in.
func TestSyslogHostile_SilentTLSClients(t *testing.T) {
	addr := freeAddr(t)
	certFile, keyFile := testcert.Write(t, t.TempDir())
	_, a, api := startHostileSyslog(t, "64MiB", fmt.Sprintf("    tcp: %s\n    max_connections: 5\n    tls: { cert_file: %q, key_file: %q }\n", addr, certFile, keyFile))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		conn, err := net.Dial("tcp", addr)
		require.NoError(c, err)
		conn.Close()
	}, 30*time.Second, 20*time.Millisecond, "the syslog port did not open")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Zero(c, promtest.Value(c, promtest.Scrape(c, api), "sluice_input_connections", "input", "syslog"))
	}, 10*time.Second, 20*time.Millisecond)

	start := time.Now()
	for range 5 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, 5.0, promtest.Value(c, promtest.Scrape(c, api), "sluice_input_connections", "input", "syslog"))
	}, 10*time.Second, 20*time.Millisecond, "the silent connections fill max_connections")

	// A real client is refused while they hold the slots, and gets in
	// once they are closed.
	var got net.Conn
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		a.RequireRunning(t)
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // self-signed test cert
		require.NoError(c, err)
		got = conn
	}, 40*time.Second, 250*time.Millisecond, "a TLS client never got a slot")
	defer got.Close()
	waited := time.Since(start)
	m := promtest.Scrape(t, api)
	timedOut := promtest.Value(t, m, "sluice_input_connections_closed_total", "input", "syslog", "reason", "handshake_timeout")
	refused := promtest.Value(t, m, "sluice_input_connections_closed_total", "input", "syslog", "reason", "max_connections")
	t.Logf("5 silent TLS connections at max_connections 5: a client got in after %v; %v closed at handshake_timeout, %v refused meanwhile", waited.Round(100*time.Millisecond), timedOut, refused)
	require.Equal(t, 5.0, timedOut)
	require.Positive(t, refused, "the slots were full until the handshakes timed out")
	require.Greater(t, waited, 9*time.Second, "not before handshake_timeout")

	_, err := got.Write([]byte("<13>1 - - - - - - after the silent ones\n"))
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, 1.0, promtest.Value(c, promtest.Scrape(c, api), "sluice_input_records_total", "input", "syslog"))
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, 0, a.Stop(t))
}

// 30,000 datagrams while the agent is stopped (SIGSTOP: a node too busy to
// schedule it): the socket's 256 KiB receive buffer fills and the kernel
// drops the rest. Every datagram is accounted for: stored, or counted in
// sluice_lost_records_total{reason="udp_receive_buffer"} (HEAD 141eb6e,
// default buffer: 19,918 of 30,000 lost, no counter moved).
func TestSyslogHostile_UDPKernelDropsCounted(t *testing.T) {
	const sent = 30_000
	addr := freeAddr(t)
	s, a, api := startHostileSyslog(t, "64MiB", "    udp: "+addr+"\n    udp_readers: 1\n    udp_receive_buffer: 256KiB\n")
	u, err := net.Dial("udp", addr)
	require.NoError(t, err)
	defer u.Close()
	// The socket is bound before the API listens (runtime.New), so this
	// first datagram is read.
	_, err = u.Write([]byte("<13>1 - - - - - - first"))
	require.NoError(t, err)
	waitForCount(t, s, a, 1, 60*time.Second)

	ev := a.WaitLog(t, "syslog input listening", 1)
	// A buffer far smaller than the burst, whatever net.core.rmem_max.
	require.Equal(t, float64(256<<10), ev["udp_receive_buffer"])
	granted, ok := ev["udp_receive_buffer_kernel"].(float64)
	require.True(t, ok && granted > 0, "the buffer the kernel granted: %v", ev)

	a.Signal(t, syscall.SIGSTOP)
	start := time.Now()
	for i := range sent {
		_, err := fmt.Fprintf(u, "<13>1 - - - - - - flood %d", i)
		require.NoError(t, err)
	}
	took := time.Since(start)
	a.Signal(t, syscall.SIGCONT)

	var drops, records float64
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		a.RequireRunning(t)
		m := promtest.Scrape(c, api)
		drops = promtest.Value(c, m, "sluice_lost_records_total", "component", "syslog", "reason", "udp_receive_buffer")
		full := promtest.Value(c, m, "sluice_lost_records_total", "component", "syslog", "reason", "udp_overflow")
		records = promtest.Value(c, m, "sluice_input_records_total", "input", "syslog")
		require.Equal(c, float64(sent+1), records+drops+full)
	}, 60*time.Second, 100*time.Millisecond, "every datagram read or counted")
	t.Logf("%d datagrams in %v with the agent stopped: %v read, %v dropped by the kernel (udp_receive_buffer; SO_RCVBUF %v)", sent, took.Round(time.Millisecond), records, drops, granted)
	require.Positive(t, drops)
	waitForCount(t, s, a, int(records), 60*time.Second)
	require.Equal(t, 0, a.Stop(t))
}
