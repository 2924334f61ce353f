package kafka

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

// The broker of these tests is franz-go's kfake: an in-process Kafka
// cluster that speaks the real wire protocol (produce, metadata, SASL,
// TLS, idempotent producer state, per-topic max.message.bytes), on
// 127.0.0.1 only.
func cluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(3, "logs")}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// outputConfig is a checked kafka output config for brokers.
func outputConfig(t *testing.T, brokers []string, edit func(*config.Output)) config.Output {
	t.Helper()
	oc := config.Output{Name: "kafka", Type: "kafka"}
	oc.Brokers, oc.Topic = brokers, "logs"
	oc.Retry = config.Retry{Initial: config.Duration(20 * time.Millisecond), Max: config.Duration(200 * time.Millisecond)}
	if edit != nil {
		edit(&oc)
	}
	config.DefaultOutput(&oc)
	return oc
}

// start builds and runs an output; the test's cleanup stops it.
func start(t *testing.T, oc config.Output) *Output {
	t.Helper()
	o, err := New(oc, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	require.NoError(t, err)
	runOutput(t, o)
	return o
}

func runOutput(t *testing.T, o *Output) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// acks counts the batches acknowledged.
type acks struct {
	n    atomic.Int64
	mu   sync.Mutex
	seqs []uint64
}

func (a *acks) Ack(b *record.Batch) {
	a.n.Add(1)
	a.mu.Lock()
	a.seqs = append(a.seqs, b.Seq)
	a.mu.Unlock()
}

// source is a file of a pod whose metadata carries uid.
func source(pod, uid string) *record.Source {
	return &record.Source{
		Input: "containers", Path: "/var/log/containers/" + pod + ".log",
		Namespace: "payments", Pod: pod, Container: "api",
		Meta:   []byte(`{"namespace_name":"payments","pod_name":"` + pod + `","pod_id":"` + uid + `"}`),
		IDSeed: []byte("node-1/" + pod),
	}
}

// batch returns a batch of n lines of src from offset off, with each
// line's document encoded as the pipeline would have.
func batch(src *record.Source, a record.Acker, seq uint64, off int64, n, size int) *record.Batch {
	b := record.NewBatch(src, a)
	b.Seq = seq
	for i := range n {
		line := fmt.Sprintf("%s line %d ", src.Pod, off+int64(i))
		line += strings.Repeat("x", max(size-len(line), 0))
		b.Add(record.Record{Offset: (off + int64(i)) * 1000, Time: time.Now().UnixNano()}, []byte(line))
		b.Docs = append(b.Docs, `{"log":"`+line+`"}`+"\n"...)
		b.DocEnds = append(b.DocEnds, int32(len(b.Docs)))
	}
	return b
}

// write hands b to a writer as a worker does, then lets go of the
// worker's own reference (NewBatch's).
func write(t *testing.T, w interface {
	Write(context.Context, *record.Batch) error
}, b *record.Batch) {
	t.Helper()
	require.NoError(t, w.Write(context.Background(), b))
	b.Done()
}

// message is a record read back from Kafka.
type message struct {
	topic     string
	partition int32
	offset    int64
	key       string
	value     string
	headers   map[string]string
}

// consume reads every record of topics until want records arrived or the
// deadline passed.
func consume(t *testing.T, brokers []string, want int, topics []string, opts ...kgo.Opt) []message {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50 * time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []message
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) {
			m := message{topic: r.Topic, partition: r.Partition, offset: r.Offset, key: string(r.Key), value: string(r.Value), headers: map[string]string{}}
			for _, h := range r.Headers {
				m.headers[h.Key] = string(h.Value)
			}
			out = append(out, m)
		})
	}
	return out
}

// waitFor polls cond (observable state) until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// syncBuffer is a bytes.Buffer the output's goroutines may log into.
type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}
