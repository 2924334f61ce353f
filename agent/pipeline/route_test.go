package pipeline

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/transform"
)

func parseFilters(t *testing.T, transforms, outputs string) *config.Config {
	t.Helper()
	raw := "data_dir: /tmp/x\ninputs:\n  - { name: containers, type: container_logs, paths: [/x/*.log] }\n  - { name: syslog, type: syslog, tcp: 127.0.0.1:5140 }\n" +
		"transforms:\n  - { type: json }\n" + transforms + "outputs:\n" + outputs
	cfg, err := config.Parse([]byte(raw), func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	return cfg
}

// Each output takes the batches its match selects and acks them on its
// own; a batch is acked once every output that took it is done; a batch
// no output takes is counted and acked; records dropped by a transform
// never reach an output, but their batch is still acked.
func TestRoutesAndFilters(t *testing.T) {
	cfg := parseFilters(t, `  - { type: drop, field: level, pattern: "^debug$" }
`, `  - { name: apps, type: console, match: { inputs: [containers], namespaces: ["*"] } }
  - { name: legacy, type: console, match: { inputs: [syslog] } }
  - { name: payments, type: console, match: { namespaces: [payments] } }
`)
	apps, legacy, pay := &heldOutput{}, &heldOutput{}, &heldOutput{}
	p := New(document.New(cfg.Transforms, func() int64 { return 1 }), []Output{apps, legacy, pay}, 2, 1<<20, slog.New(slog.DiscardHandler))
	chain, err := transform.New(cfg.Transforms, transform.Options{})
	require.NoError(t, err)
	p.SetTransforms(chain)
	routes := make([]*transform.Match, len(cfg.Outputs))
	for i, o := range cfg.Outputs {
		routes[i], err = transform.NewMatch(o.Match)
		require.NoError(t, err)
	}
	p.SetRoutes(routes)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, context.Background()) }()

	acked := map[string]*atomic.Int64{}
	push := func(src *record.Source, lines ...string) {
		n := &atomic.Int64{}
		acked[src.Input+"/"+src.Namespace] = n
		bt := record.NewBatch(src, record.AckerFunc(func(*record.Batch) { n.Add(1) }))
		for _, l := range lines {
			bt.Add(record.Record{Time: 1}, []byte(l))
		}
		require.NoError(t, p.Push(context.Background(), bt))
	}
	push(&record.Source{Input: "containers", Namespace: "payments", Pod: "api"}, `{"level":"info","msg":"p1"}`, `{"level":"debug","msg":"p2"}`)
	push(&record.Source{Input: "containers", Namespace: "web", Pod: "web"}, `{"level":"info","msg":"w1"}`)
	push(&record.Source{Input: "syslog"}, `s1`, `s2`)
	push(&record.Source{Input: "containers"}, `no namespace: no route`)
	push(&record.Source{Input: "containers", Namespace: "kube-system", Pod: "dns"}, `{"level":"debug","msg":"all dropped"}`)

	count := func(o *heldOutput) int { o.mu.Lock(); defer o.mu.Unlock(); return len(o.docs) }
	require.Eventually(t, func() bool { return count(apps) == 2 && count(legacy) == 2 && count(pay) == 1 }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return acked["containers/"].Load() == 1 && acked["containers/kube-system"].Load() == 1 }, 5*time.Second, time.Millisecond,
		"unrouted and fully dropped batches are acked at once")
	require.Equal(t, int64(1), p.Unrouted())

	apps.release()
	legacy.release()
	require.Eventually(t, func() bool { return acked["syslog/"].Load() == 1 && acked["containers/web"].Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	require.Zero(t, acked["containers/payments"].Load(), "the payments output still holds it")
	pay.release()
	require.Equal(t, int64(1), acked["containers/payments"].Load())
	require.Contains(t, pay.docs[0], `"msg":"p1"`)
	require.Zero(t, p.MemoryUsed())
	cancel()
	require.NoError(t, <-done)
}

// A batch pushed with its documents encoded (a throttle summary) is
// neither enriched nor encoded again.
func TestEncodedBatchesPassAsTheyAre(t *testing.T) {
	o := &heldOutput{}
	p := New(document.New(nil, func() int64 { return 1 }), []Output{o}, 1, 1<<20, slog.New(slog.DiscardHandler))
	p.SetEnricher(enrichFunc(func(b *record.Batch) bool { t.Error("enriched"); return true }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, context.Background()) }()
	bt := record.NewBatch(&record.Source{Path: transform.SummaryPath}, nil)
	bt.Add(record.Record{Offset: -1}, []byte("summary"))
	bt.Docs = append(bt.Docs, `{"log":"as built"}`...)
	bt.DocEnds = append(bt.DocEnds, int32(len(bt.Docs)))
	require.NoError(t, p.Push(context.Background(), bt))
	require.Eventually(t, func() bool { o.mu.Lock(); defer o.mu.Unlock(); return len(o.docs) == 1 }, 5*time.Second, time.Millisecond)
	require.Equal(t, `{"log":"as built"}`, o.docs[0])
	o.release()
	cancel()
	require.NoError(t, <-done)
}
