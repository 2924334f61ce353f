package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// syslogConfig is an agent with only a syslog input, shipping to the store.
func syslogConfig(dataDir, tcp, udp, storeURL string) string {
	headers := vlstore.HeadersYAML("      ")
	return fmt.Sprintf(`node_name: %s
data_dir: %q
memory_limit: 64MiB
http:
  listen: 127.0.0.1:0
inputs:
  - name: syslog
    type: syslog
    tcp: %s
    udp: %s
    format: auto
    max_message_bytes: 8KiB
kubernetes:
  enabled: false
transforms:
  - type: json
    field: log
outputs:
  - name: es
    type: elasticsearch
    urls: [%q]
    index: "logs-syslog-%%Y.%%m.%%d"
    headers:
%s    bulk:
      max_bytes: 256KiB
      flush_interval: 200ms
`, nodeName, dataDir, tcp, udp, storeURL, headers)
}

// freeAddr returns a loopback address with a port free for TCP and UDP.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		u, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			u.Close()
			return addr
		}
	}
	t.Fatal("no free port for tcp and udp")
	return ""
}

// TestSyslog runs the agent with a syslog input against the real store and
// checks the documents: syslog.* fields, source_ip, @timestamp and log, for
// RFC 5424 and RFC 3164 over TCP (both framings) and UDP, a JSON body
// merged by the json transform, a message cut at max_message_bytes, and a
// frame that is not syslog.
func TestSyslog(t *testing.T) {
	agenttest.Binary(t)
	s := vlstore.Start(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(syslogConfig(filepath.Join(dir, "data"), addr, addr, s.URL)), 0o600))
	a := agenttest.Start(t, cfg, agenttest.Options{Name: "sluice"})

	var c net.Conn
	require.Eventually(t, func() bool {
		var err error
		c, err = net.Dial("tcp", addr)
		return err == nil
	}, 30*time.Second, 20*time.Millisecond, "the agent's syslog port did not open")
	defer c.Close()
	octet := func(m string) string { return strconv.Itoa(len(m)) + " " + m }
	long := "<14>1 2026-03-10T12:00:02Z h1 app - - - " + strings.Repeat("L", 9000)
	_, err := c.Write([]byte(
		octet(`<165>1 2026-03-10T12:00:00.123456Z web-1 payments 4242 ID47 [meta seq="1"] e2e five424 tcp`) +
			"<13>Mar 10 12:00:01 db-2 postgres[77]: e2e three164 tcp\n" +
			octet(`<14>1 2026-03-10T12:00:03Z h1 app - - - {"level":"warn","msg":"e2e json body"}`) +
			octet(long) +
			"e2e not syslog at all\n"))
	require.NoError(t, err)
	u, err := net.Dial("udp", addr)
	require.NoError(t, err)
	defer u.Close()
	_, err = u.Write([]byte("<86>Mar 10 12:00:04 sshd[9]: e2e udp without hostname"))
	require.NoError(t, err)

	const want = 6
	waitForCount(t, s, a, want, 60*time.Second)
	rows := mustQueryAll(t, s)
	require.Len(t, rows, want)
	byMsg := map[string]map[string]string{}
	for _, r := range rows {
		require.Equal(t, "127.0.0.1", r["source_ip"], "%v", r)
		key := r["_msg"]
		if r["msg"] != "" {
			key = r["msg"]
		}
		byMsg[key[:min(len(key), 30)]] = r
	}
	get := func(msg string) map[string]string {
		t.Helper()
		r, ok := byMsg[msg[:min(len(msg), 30)]]
		require.True(t, ok, "no row for %q in %v", msg, rows)
		return r
	}
	r := get("e2e five424 tcp")
	require.Equal(t, "2026-03-10T12:00:00.123456Z", r["_time"])
	require.Equal(t, "local4", r["syslog.facility"])
	require.Equal(t, "notice", r["syslog.severity"])
	require.Equal(t, "web-1", r["syslog.hostname"])
	require.Equal(t, "payments", r["syslog.app_name"])
	require.Equal(t, "4242", r["syslog.proc_id"])
	require.Equal(t, "ID47", r["syslog.msg_id"])
	require.Equal(t, `[meta seq="1"]`, r["syslog.structured_data"])
	require.Empty(t, r["sluice.malformed"])

	r = get("e2e three164 tcp")
	require.Equal(t, "user", r["syslog.facility"])
	require.Equal(t, "db-2", r["syslog.hostname"])
	require.Equal(t, "postgres", r["syslog.app_name"])
	require.Equal(t, "77", r["syslog.proc_id"])
	require.True(t, strings.HasSuffix(r["_time"], "-03-10T12:00:01Z"), r["_time"])

	r = get("e2e json body")
	require.Equal(t, "warn", r["level"], "the JSON body is merged by the json transform")
	require.Equal(t, "app", r["syslog.app_name"])

	r = get(strings.Repeat("L", 30))
	require.Equal(t, "true", r["sluice.truncated"])
	require.Len(t, r["_msg"], 8<<10-len("<14>1 2026-03-10T12:00:02Z h1 app - - - "))

	r = get("e2e not syslog at all")
	require.Equal(t, "true", r["sluice.malformed"])
	require.Equal(t, "true", r["syslog.no_timestamp"])
	require.Empty(t, r["syslog.facility"])

	r = get("e2e udp without hostname")
	require.Equal(t, "authpriv", r["syslog.facility"])
	require.Equal(t, "info", r["syslog.severity"])
	require.Equal(t, "sshd", r["syslog.app_name"])
	require.Empty(t, r["syslog.hostname"], "no hostname in the message: none invented")

	require.Equal(t, 0, a.Stop(t))
}
