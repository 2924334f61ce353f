// Package otlptest runs test/otlpreceiver, the OpenTelemetry Collector's
// own OTLP receiver (go.opentelemetry.io/collector/receiver/otlpreceiver)
// with a recording consumer, for the otlp output's tests. The receiver is
// its own module, so its dependencies stay out of sluice's go.mod: bin/
// holds it after `make tools`, otherwise it is built once per test binary
// (a cache hit after the first build).
package otlptest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// Receiver is a running test/otlpreceiver.
type Receiver struct {
	// Endpoint is its OTLP/HTTP logs URL.
	Endpoint string
	out      string

	mu   sync.Mutex
	read int64       // bytes of out decoded into got
	got  []plog.Logs // the exports decoded so far
}

var binary = sync.OnceValues(func() (string, error) {
	root := agenttest.ModuleRoot()
	if p := filepath.Join(root, "bin", "otlpreceiver"); regular(p) {
		return p, nil
	}
	dir, err := os.MkdirTemp("", "otlpreceiver")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "otlpreceiver")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(root, "test", "otlpreceiver")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build test/otlpreceiver: %w\n%s", err, out)
	}
	return bin, nil
})

func regular(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// Start runs the receiver on a free loopback port until the test ends.
// flags: -throttle N -retry-after D (the first N exports are answered
// 429 with Retry-After), -reject N (the next N are answered 400).
func Start(t testing.TB, flags ...string) *Receiver {
	t.Helper()
	bin, err := binary()
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "received.ndjson")
	for attempt := 0; ; attempt++ {
		addr := freeAddr(t)
		cmd := exec.Command(bin, append([]string{"-listen", addr, "-out", out}, flags...)...)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if strings.TrimSpace(line) == "ready" {
			t.Cleanup(func() {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				_ = cmd.Wait()
			})
			return &Receiver{Endpoint: "http://" + addr + "/v1/logs", out: out}
		}
		_ = cmd.Wait()
		if attempt == 2 { // the port was taken between freeAddr and the listen, thrice
			t.Fatalf("otlpreceiver did not start: %s", stderr.String())
		}
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// Received decodes every export the receiver accepted, in order. Each
// call decodes only the exports that came since the last one, so tests
// can poll it.
func (r *Receiver) Received(t testing.TB) []plog.Logs {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := os.Open(r.out)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Seek(r.read, io.SeekStart)
	require.NoError(t, err)
	raw, err := io.ReadAll(f)
	require.NoError(t, err)
	var u plog.JSONUnmarshaler
	for {
		line, rest, ok := bytes.Cut(raw, []byte("\n"))
		if !ok {
			break // a line being written: read it next time
		}
		raw = rest
		r.read += int64(len(line)) + 1
		if len(line) == 0 {
			continue
		}
		ld, err := u.UnmarshalLogs(line)
		require.NoError(t, err)
		r.got = append(r.got, ld)
	}
	return r.got[:len(r.got):len(r.got)]
}

// Count is the number of log records received.
func (r *Receiver) Count(t testing.TB) int {
	t.Helper()
	n := 0
	for _, ld := range r.Received(t) {
		n += ld.LogRecordCount()
	}
	return n
}

// Each calls f with every record received and its resource's attributes.
func (r *Receiver) Each(t testing.TB, f func(resource map[string]any, lr plog.LogRecord)) {
	t.Helper()
	for _, ld := range r.Received(t) {
		for i := range ld.ResourceLogs().Len() {
			rl := ld.ResourceLogs().At(i)
			res := rl.Resource().Attributes().AsRaw()
			for j := range rl.ScopeLogs().Len() {
				recs := rl.ScopeLogs().At(j).LogRecords()
				for k := range recs.Len() {
					f(res, recs.At(k))
				}
			}
		}
	}
}
