package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
)

// The hostile HTTP tests play a pod on the node that attacks the agent's
// port, against the built binary, and read what it costs from /proc.
// SLUICE_E2E_HOSTILE_BIN=path runs them against another build (e.g. an
// older commit, for the before/after figures of bench/RESULTS.md).

// hostileAgent is an agent with a console output and one container_logs
// input over dir/logs.
type hostileAgent struct {
	*agenttest.Agent
	logs string
	base string // http://127.0.0.1:port
}

// startHostileAgent runs the agent with http.listen set to listen, under
// wrap (e.g. prlimit) when given.
func startHostileAgent(t *testing.T, listen string, wrap ...string) *hostileAgent {
	t.Helper()
	bin := agenttest.Binary(t)
	if b := os.Getenv("SLUICE_E2E_HOSTILE_BIN"); b != "" {
		bin = b
	}
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	c := agenttest.Config(dir)
	c.NodeName, c.HTTP.Listen = nodeName, listen
	c.CheckpointInterval = config.Default().CheckpointInterval
	c.Inputs = []config.Input{agenttest.ContainerLogs(filepath.Join(logs, "*.log"))}
	c.Outputs = []config.Output{agenttest.Console()}
	path := agenttest.WriteConfig(t, dir, c)

	// The console output is dropped: the tests count documents on /metrics.
	a := agenttest.Start(t, path, agenttest.Options{Bin: bin, Wrap: wrap, Stdout: io.Discard})
	h := &hostileAgent{Agent: a, logs: logs, base: a.URL(t)}
	require.Eventually(t, func() bool { return h.probe(t, "/readyz", 2*time.Second) == http.StatusOK }, 30*time.Second, 20*time.Millisecond)
	return h
}

func (h *hostileAgent) pid() int { return h.Pid() }

// addr is host:port of the API.
func (h *hostileAgent) addr() string { return strings.TrimPrefix(h.base, "http://") }

// probe GETs path on a new connection within timeout, as the kubelet
// does; 0 when there is no answer in time.
func (h *hostileAgent) probe(t *testing.T, path string, timeout time.Duration) int {
	t.Helper()
	c := http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(h.base + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sent is the documents the console output has written.
func (h *hostileAgent) sent(t require.TestingT) float64 {
	return metricValue(t, h.base, "sluice_output_documents_total", "output", "stdout", "result", "sent")
}

// writeLines writes n CRI lines of about size bytes to a new container
// log file.
func (h *hostileAgent) writeLines(t *testing.T, name string, n, size int) {
	t.Helper()
	f, err := os.Create(filepath.Join(h.logs, name+"_hostile_c-0123456789abcdef.log"))
	require.NoError(t, err)
	w := bufio.NewWriterSize(f, 1<<20)
	pad := strings.Repeat("lorem ipsum ", max(size/12, 1))
	for i := range n {
		_, err = fmt.Fprintf(w, "2026-12-06T10:00:00.%09dZ stdout F %s line %d %s\n", i%1e9, name, i, pad)
		require.NoError(t, err)
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
}

// waitSent waits until the agent has shipped want documents.
func (h *hostileAgent) waitSent(t *testing.T, want float64, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	require.Eventually(t, func() bool {
		h.RequireRunning(t)
		return h.sent(t) >= want
	}, timeout, 10*time.Millisecond, "%v documents shipped", want)
	return time.Since(start)
}

// fds is the number of descriptors the agent has open.
func (h *hostileAgent) fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(h.pid()) + "/fd")
	require.NoError(t, err)
	return len(ents)
}

// rssKiB is the agent's resident memory now.
func (h *hostileAgent) rssKiB(t *testing.T) int64 {
	t.Helper()
	v, err := procMemKiB(h.pid(), "VmRSS")
	require.NoError(t, err)
	return v
}

// dial opens a connection to the API and sends head; it is closed when
// the test ends.
func (h *hostileAgent) dial(t *testing.T, head string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", h.addr(), 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	if head != "" {
		_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, _ = c.Write([]byte(head)) // the agent may refuse and close it mid-write
	}
	return c
}
