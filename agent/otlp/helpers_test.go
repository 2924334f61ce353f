package otlp

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/pipeline"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
	"github.com/sluicelog/sluice/internal/otlptest"
)

// baseTime is the time of the test records: 2026-11-25T10:00:00Z.
var baseTime = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func testConfig(endpoint string) config.Output {
	o := config.Output{
		Name: "otlp-test", Type: "otlp",
		OTLP:  config.OTLP{Endpoint: endpoint},
		Bulk:  config.Bulk{FlushInterval: config.Duration(time.Second), Workers: 2, Compress: true},
		Retry: config.Retry{Initial: config.Duration(time.Millisecond), Max: config.Duration(20 * time.Millisecond)},
	}
	config.DefaultOutput(&o)
	return o
}

func testSource(pod string) *record.Source {
	return &record.Source{
		Input: "containers", Path: "/var/log/containers/" + pod + "_payments_api-0123.log",
		Namespace: "payments", Pod: pod, Container: "api", ContainerID: "0123",
		Meta: []byte(`{"namespace_name":"payments","pod_name":"` + pod + `","pod_id":"uid-` + pod +
			`","container_name":"api","container_image":"repo/api:1.2","container_id":"containerd://0123","host":"node-1","labels":{"app":"api"}}`),
		IDSeed: []byte("node-1/dev=1/ino=" + pod + "/gen=0"),
	}
}

// testDoc is record n's document as a worker encodes it: a JSON line
// merged at the top level (level, msg, a number) for even n, a plain
// line for odd n.
func testDoc(src *record.Source, n int) string {
	ts := baseTime.Add(time.Duration(n) * time.Millisecond).Format(time.RFC3339Nano)
	if n%2 == 0 {
		return `{"@timestamp":"` + ts + `","stream":"stdout","level":"warn","msg":"line ` + strconv.Itoa(n) +
			`","n":` + strconv.Itoa(n) + `,"ok":true,"kubernetes":` + string(src.Meta) + `}`
	}
	return `{"@timestamp":"` + ts + `","stream":"stderr","log":"line ` + strconv.Itoa(n) + `","kubernetes":` + string(src.Meta) + `}`
}

func newTestBatch(src *record.Source, acker record.Acker, first, count int) *record.Batch {
	b := record.NewBatch(src, acker)
	for n := first; n < first+count; n++ {
		b.Add(record.Record{
			Time: baseTime.Add(time.Duration(n) * time.Millisecond).UnixNano(), Offset: int64(n) * 100, Stream: stream.Stdout,
		}, []byte("line "+strconv.Itoa(n)))
		b.Docs = append(b.Docs, testDoc(src, n)...)
		b.DocEnds = append(b.DocEnds, int32(len(b.Docs)))
	}
	return b
}

// write hands b to w as a pipeline worker does: the worker's own
// reference is dropped after Write.
func write(t *testing.T, w pipeline.Writer, b *record.Batch) {
	t.Helper()
	require.NoError(t, w.Write(context.Background(), b))
	b.Done()
}

// acks counts acknowledged batches.
type acks struct{ n atomic.Int64 }

func (a *acks) Ack(*record.Batch) { a.n.Add(1) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// running starts o and stops it at the end of the test.
func running(t *testing.T, o *Output) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startReceiver runs the Collector's own OTLP receiver (internal/otlptest).
func startReceiver(t *testing.T, flags ...string) *otlptest.Receiver {
	t.Helper()
	return otlptest.Start(t, flags...)
}
