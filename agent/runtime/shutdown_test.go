package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/checkpoint"
)

func TestExitCode(t *testing.T) {
	other := errors.New("data_dir unwritable")
	cut := fmt.Errorf("%w: 10 bytes left", ErrDeliveryCut)
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{other, 1},
		{cut, 3},
		{errors.Join(cut, ErrDeliveryCut), 3},
		{errors.Join(cut, other), 1},
		{fmt.Errorf("agent: %w", other), 1},
	} {
		require.Equal(t, c.want, ExitCode(c.err), "%v", c.err)
	}
}

// blackhole accepts bulk requests and never answers them (a store behind
// a dead proxy): only the client's cancellation ends a request.
type blackhole struct {
	*httptest.Server
	requests atomic.Int64
}

func startBlackhole(t *testing.T) *blackhole {
	t.Helper()
	b := &blackhole{}
	stop := make(chan struct{})
	b.Server = httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b.requests.Add(1)
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(func() { close(stop); b.Close() })
	return b
}

// The output hangs with a backlog: workers wait to hand bodies over and
// the senders wait for answers. Cancelling Run's context must still end
// Run at shutdown_timeout, with ErrDeliveryCut, and save no checkpoint
// past what was acknowledged (nothing).
func TestRunCutsDeliveryAtShutdownTimeout(t *testing.T) {
	d := newTestDir(t)
	bh := startBlackhole(t)
	const timeout = time.Second
	raw := fmt.Sprintf(`node_name: test-node
data_dir: %q
memory_limit: 32MiB
workers: 2
checkpoint_interval: 50ms
shutdown_timeout: 1s
http: { listen: "127.0.0.1:0" }
inputs:
  - { name: containers, type: container_logs, paths: [%q], start_at: head, poll_interval: 20ms }
kubernetes: { enabled: false }
outputs:
  - name: es
    type: elasticsearch
    urls: [%q]
    index: "logs-{kubernetes.namespace_name}-%%Y.%%m.%%d"
    bulk: { max_bytes: 4KiB, flush_interval: 50ms, workers: 2 }
    retry: { initial: 50ms, max: 200ms }
`, d.data, filepath.Join(d.logs, "*.log"), bh.URL)
	path := d.logPath("api-0", "payments", "api")
	writeCRI(t, path, numbered("backlog line", 0, 2000)...)

	a, err := New(parseConfig(t, raw), &lineBuffer{}, slog.New(slog.NewTextHandler(testLog{t}, nil)))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	// Both senders hold a request the server never answers, and the
	// workers hold full bodies they cannot hand over.
	require.Eventually(t, func() bool {
		return bh.requests.Load() >= 2 && a.pipe.MemoryUsed() > 0
	}, 30*time.Second, 5*time.Millisecond)

	cancel()
	start := time.Now()
	var runErr error
	select {
	case runErr = <-done:
	case <-time.After(timeout + 10*time.Second):
		t.Fatal("Run did not return after shutdown_timeout with the output hanging")
	}
	took := time.Since(start)
	t.Logf("Run returned %v after the context ended (shutdown_timeout %v): %v", took, timeout, runErr)
	require.Less(t, took, timeout+2*time.Second)
	require.GreaterOrEqual(t, took, timeout, "delivery was cut before shutdown_timeout")
	require.ErrorIs(t, runErr, ErrDeliveryCut)
	require.Equal(t, ExitCut, ExitCode(runErr))

	store, err := checkpoint.Open(d.data)
	require.NoError(t, err, "the data_dir lock is released")
	defer store.Close()
	for k, e := range store.Entries() {
		require.Zero(t, e.Offset, "checkpoint %s moved though the server acknowledged nothing", k)
	}
}
