package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/bench/sink"
	"github.com/sluicelog/sluice/bench/workload"
)

// Files far longer than their window of unacknowledged batches, with
// bulk bodies (sized from memory_limit) larger than every window
// together: nothing fills a body, so each one left to its flush_interval
// (10 s here) moves the files one window per interval, and three
// quarters of the lines would take about 90 s. They are stored within
// 30 s: a worker that finds the ring empty while files wait for acks
// sends what it holds. The batch a file cuts at its end is not a backlog
// and waits for the interval as any young data does, also when it finds
// its window full (with an interval of an hour the test then waited an
// hour for the file's last lines, 1 run in 10); every record is stored
// once.
func TestWindowsSmallerThanBodiesDeliverWithoutFlushInterval(t *testing.T) {
	d := newTestDir(t)
	spec := workload.Spec{Files: 2, Records: 20_000, Seed: 1}
	require.NoError(t, spec.Write(d.logs))
	s := sink.New(spec)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	raw := fmt.Sprintf(`node_name: test-node
data_dir: %q
memory_limit: 256MiB
workers: 2
shutdown_timeout: 30s
http: { listen: "127.0.0.1:0" }
inputs:
  - { name: containers, type: container_logs, paths: ["%s/*.log"], start_at: head }
kubernetes: { enabled: false }
transforms:
  - { type: json, field: log }
outputs:
  - name: es
    type: elasticsearch
    urls: [%q]
    index: "logs-{kubernetes.namespace_name}-%%Y.%%m.%%d"
    bulk: { flush_interval: 10s, workers: 2, compress: false }
`, d.data, d.logs, srv.URL)
	a, err := New(parseConfig(t, raw), &lineBuffer{}, slog.New(slog.NewTextHandler(testLog{t}, nil)))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	// Two windows hold about 3,200 of the 40,000 lines.
	require.Eventually(t, func() bool { return s.Report().Unique >= int64(spec.Total())*3/4 }, 30*time.Second, 5*time.Millisecond,
		"the files moved a window per flush_interval")
	// The files are read to their end; what they handed over last waits
	// for the interval, and goes at shutdown.
	require.Eventually(t, func() bool { return a.Status().Inputs[0].Records == int64(spec.Total()) }, 2*time.Minute, 5*time.Millisecond)
	t.Logf("before shutdown: %s", s.Report())
	cancel()
	require.NoError(t, <-done)
	r := s.Report()
	require.True(t, r.OK(), r.String())
}
