package elasticsearch

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/pipeline"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

// baseTime is the time of the test records: 2026-11-25T10:00:00Z.
var baseTime = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// testConfig is an output config with short waits, so fault tests finish
// quickly.
func testConfig(url string) config.Output {
	ids := true
	o := config.Output{
		Name:    "es-test",
		Type:    "elasticsearch",
		URLs:    []string{url},
		Index:   "logs-{kubernetes.namespace_name}-%Y.%m.%d",
		IDs:     &ids,
		Bulk:    config.Bulk{MaxBytes: 5 << 20, FlushInterval: config.Duration(time.Second), Workers: 2},
		Retry:   config.Retry{Initial: config.Duration(time.Millisecond), Max: config.Duration(20 * time.Millisecond)},
		Timeout: config.Duration(5 * time.Second),
	}
	// Defaults config.Parse fills and New leaves to it.
	o.IdleTimeout = config.Duration(90 * time.Second)
	o.DeadLetterIndex = "sluice-dead-letter"
	return o
}

func testSource(pod string) *record.Source {
	return &record.Source{
		Input:       "containers",
		Path:        "/var/log/containers/" + pod + "_payments_api-0123.log",
		Namespace:   "payments",
		Pod:         pod,
		Container:   "api",
		ContainerID: "0123",
		Meta:        []byte(`{"namespace_name":"payments","pod_name":"` + pod + `","container_name":"api"}`),
		IDSeed:      []byte("node-1/dev=1/ino=" + pod + "/gen=0"),
	}
}

// testDoc is the document of record n: what a worker would have encoded.
func testDoc(src *record.Source, n int) string {
	ts := baseTime.Add(time.Duration(n) * time.Millisecond).Format(time.RFC3339Nano)
	return `{"@timestamp":"` + ts + `","stream":"stdout","log":"line ` + strconv.Itoa(n) +
		`","n":` + strconv.Itoa(n) + `,"kubernetes":` + string(src.Meta) + `}`
}

// newTestBatch builds a batch of records first..first+count-1 from src,
// with documents from doc (testDoc when nil).
func newTestBatch(src *record.Source, acker record.Acker, seq uint64, first, count int, doc func(n int) string) *record.Batch {
	if doc == nil {
		doc = func(n int) string { return testDoc(src, n) }
	}
	b := record.NewBatch(src, acker)
	b.Seq = seq
	for n := first; n < first+count; n++ {
		b.Add(record.Record{
			Time:   baseTime.Add(time.Duration(n) * time.Millisecond).UnixNano(),
			Offset: int64(n) * 100,
			Stream: stream.Stdout,
		}, []byte("line "+strconv.Itoa(n)))
		b.Docs = append(b.Docs, doc(n)...)
		b.DocEnds = append(b.DocEnds, int32(len(b.Docs)))
	}
	b.End = int64(first+count) * 100
	return b
}

// idOf returns the document id the output gives record n of src.
func idOf(src *record.Source, n int) string {
	r := record.Record{Offset: int64(n) * 100, Line: []byte("line " + strconv.Itoa(n))}
	return string(record.AppendID(nil, src, &r))
}

// ackRecorder is a record.Acker that remembers every ack, by batch Seq,
// and runs check (if set) at the moment of each ack.
type ackRecorder struct {
	mu    sync.Mutex
	acks  map[uint64]int
	check func(seq uint64) error
	errs  []error
}

func newAckRecorder() *ackRecorder { return &ackRecorder{acks: map[uint64]int{}} }

func (a *ackRecorder) Ack(b *record.Batch) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.acks[b.Seq]++
	if a.check != nil {
		if err := a.check(b.Seq); err != nil {
			a.errs = append(a.errs, fmt.Errorf("ack of batch %d: %w", b.Seq, err))
		}
	}
}

func (a *ackRecorder) count(seq uint64) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acks[seq]
}

// waitAcked waits until each of seqs is acked, then checks that each was
// acked exactly once, nothing else was acked, and every check passed.
func (a *ackRecorder) waitAcked(t *testing.T, seqs ...uint64) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, s := range seqs {
			require.Positive(c, a.count(s), "batch %d not acked", s)
		}
	}, hangWait, 5*time.Millisecond)
	a.mu.Lock()
	defer a.mu.Unlock()
	require.Empty(t, a.errs)
	want := map[uint64]int{}
	for _, s := range seqs {
		want[s] = 1
	}
	require.Equal(t, want, a.acks, "every batch acked exactly once")
}

// startOutput builds the output and runs it until the test ends.
func startOutput(t *testing.T, cfg config.Output) *Output {
	t.Helper()
	o, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	runOutput(t, o)
	return o
}

func runOutput(t *testing.T, o *Output) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancel")
		}
	})
}

// hangWait bounds waits on the output: long enough for a 2-core machine
// under -race and heavy load (10 s was not), short of the package timeout.
const hangWait = time.Minute

// write hands batches to a writer the way a pipeline worker does: Write,
// then drop the worker's own reference, then Flush everything.
func write(t *testing.T, w pipeline.Writer, batches ...*record.Batch) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangWait)
	defer cancel()
	for _, b := range batches {
		require.NoError(t, w.Write(ctx, b))
		b.Done()
	}
	require.NoError(t, w.Flush(ctx, true))
}

// testWriter sends log output to t.Log, so it shows with -v or on failure.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}
