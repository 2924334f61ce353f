package transform

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

// podMetaJSON is a pod's serialised "kubernetes" object, as agent/kube
// writes it.
const podMetaJSON = `{"namespace_name":"payments","pod_name":"api-1","container_name":"api","host":"node-1","labels":{"app":"api","app.kubernetes.io/name":"api","tier":"web","replicas":"3"}}`

// parse builds a config with the given transforms (YAML list items,
// indented by two spaces) and outputs.
func parse(t *testing.T, transforms string) *config.Config {
	t.Helper()
	raw := "data_dir: /tmp/x\ninputs:\n  - { name: containers, type: container_logs, paths: [/x/*.log] }\n  - { name: syslog, type: syslog, tcp: 127.0.0.1:5140 }\n" +
		"outputs: [{ name: o, type: console }]\ntransforms:\n  - { type: json }\n" + transforms
	cfg, err := config.Parse([]byte(raw), func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	return cfg
}

// fakeClock is a monotonic clock the test moves.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() int64              { return c.ns.Load() }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

type fixture struct {
	t     *testing.T
	cfg   *config.Config
	enc   *document.Encoder
	chain *Chain
	w     *Worker
	clock *fakeClock
}

func newFixture(t *testing.T, transforms string) *fixture {
	t.Helper()
	f := &fixture{t: t, cfg: parse(t, transforms), clock: &fakeClock{}}
	f.enc = document.New(f.cfg.Transforms, func() int64 { return 1 })
	var err error
	f.chain, err = New(f.cfg.Transforms, Options{
		Now:       f.clock.now,
		WallNow:   func() time.Time { return time.Unix(1_800_000_000, 0).UTC() },
		LookupEnv: func(k string) (string, bool) { return map[string]string{"CLUSTER": "prod-eu"}[k], k == "CLUSTER" },
	})
	require.NoError(t, err)
	f.w = f.chain.NewWorker()
	return f
}

var apiSource = &record.Source{Input: "containers", Namespace: "payments", Pod: "api-1", Container: "api", Meta: []byte(podMetaJSON)}

// batch encodes lines as a batch of src.
func (f *fixture) batch(src *record.Source, lines ...string) *record.Batch {
	b := record.NewBatch(src, nil)
	for i, l := range lines {
		b.Add(record.Record{Time: 1, Offset: int64(i * 100), Stream: stream.Stdout}, []byte(l))
	}
	f.enc.EncodeBatch(b)
	return b
}

// run encodes and transforms lines and returns the documents left.
func (f *fixture) run(src *record.Source, lines ...string) []string {
	b := f.batch(src, lines...)
	f.w.Transform(b)
	return docsOf(f.t, b)
}

func docsOf(t *testing.T, b *record.Batch) []string {
	t.Helper()
	require.Len(t, b.DocEnds, len(b.Records))
	out := make([]string, len(b.Records))
	for i := range b.Records {
		out[i] = string(b.Doc(i))
	}
	return out
}

// logs picks the "msg" or "log" member of each document, for short
// assertions.
func logs(docs []string) []string {
	var out []string
	for _, d := range docs {
		for _, k := range []string{`"msg":"`, `"log":"`} {
			if i := strings.Index(d, k); i >= 0 {
				rest := d[i+len(k):]
				out = append(out, rest[:strings.IndexByte(rest, '"')])
				break
			}
		}
	}
	return out
}

func (f *fixture) stats(name string) StepStats {
	for _, s := range f.chain.Stats() {
		if s.Name == name {
			return s
		}
	}
	f.t.Fatalf("no transform %s", name)
	return StepStats{}
}

// sink collects summary batches like the pipeline's Push.
type sink struct {
	mu   sync.Mutex
	docs []string
	srcs []*record.Source
}

func (s *sink) Push(_ context.Context, b *record.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range b.Records {
		s.docs = append(s.docs, string(b.Doc(i)))
	}
	s.srcs = append(s.srcs, b.Source)
	b.Done()
	return nil
}
