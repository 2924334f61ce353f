package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
)

const cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// lineBuffer is a console output's stdout: it counts the lines written
// and, when failAfter > 0, fails every write after that many.
type lineBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	lines     int
	writes    int
	failAfter int
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	if b.failAfter > 0 && b.writes > b.failAfter {
		return 0, errors.New("stdout is gone")
	}
	b.lines += bytes.Count(p, []byte{'\n'})
	return b.buf.Write(p)
}

func (b *lineBuffer) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lines
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testDir is a test's logs and data folders.
type testDir struct {
	root, logs, data string
}

func newTestDir(t *testing.T) testDir {
	t.Helper()
	root := t.TempDir()
	d := testDir{root: root, logs: filepath.Join(root, "logs"), data: filepath.Join(root, "data")}
	require.NoError(t, os.MkdirAll(d.logs, 0o755))
	return d
}

// yaml is a config tailing glob (relative to the logs folder) into a
// console output; http adds keys to the http map.
func (d testDir) yaml(glob, http string) string {
	return fmt.Sprintf(`node_name: test-node
data_dir: %q
memory_limit: 64MiB
workers: 2
checkpoint_interval: 50ms
shutdown_timeout: 5s
http: { listen: "127.0.0.1:0" %s }
inputs:
  - { name: containers, type: container_logs, paths: [%q], start_at: head, poll_interval: 20ms }
kubernetes: { enabled: false }
outputs:
  - { name: stdout, type: console }
`, d.data, http, filepath.Join(d.logs, glob))
}

func parseConfig(t *testing.T, raw string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(raw), func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	return cfg
}

// logPath is a kubelet-named file in the logs folder.
func (d testDir) logPath(pod, ns, container string) string {
	return filepath.Join(d.logs, fmt.Sprintf("%s_%s_%s-%s.log", pod, ns, container, cid))
}

// writeCRI appends CRI lines with the given messages.
func writeCRI(t *testing.T, path string, msgs ...string) {
	t.Helper()
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("2026-11-25T10:00:00.123456789Z stdout F ")
		b.WriteString(m)
		b.WriteByte('\n')
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = f.WriteString(b.String())
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func numbered(prefix string, from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s %d", prefix, from+i)
	}
	return out
}

// runAgent builds the agent of raw (with opts after WithVersion) and runs
// it until the test ends; it returns the agent and the base URL of its
// API.
func runAgent(t *testing.T, raw string, out io.Writer, opts ...Option) (*Agent, string) {
	t.Helper()
	opts = append([]Option{WithVersion("test-1"), WithRevision("0123abcd")}, opts...)
	a, err := New(parseConfig(t, raw), out, slog.New(slog.NewTextHandler(testLog{t}, nil)), opts...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("agent did not stop within 20s")
		}
	})
	base := "http://" + a.Addr().String()
	require.Eventually(t, func() bool { return a.readiness() == nil }, 10*time.Second, time.Millisecond)
	return a, base
}

// testLog sends the agent's log to t.Log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func httpGet(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}
