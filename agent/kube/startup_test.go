package kube

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

// slowSource is an API server that answers the first list only when the
// test says so.
type slowSource struct {
	pods []*corev1.Pod
	sync chan struct{} // closed: the list arrives
}

func (s *slowSource) run(ctx context.Context, h handler) error {
	select {
	case <-s.sync:
		h.replace(s.pods)
		h.synced()
	case <-ctx.Done():
	}
	<-ctx.Done()
	return nil
}

func (s *slowSource) get(context.Context, string, string) (*corev1.Pod, error) { return nil, nil }

// startSlow runs an enricher on a slowSource until the test ends.
func startSlow(t *testing.T, syncTimeout, lookupWait time.Duration) (*Enricher, *slowSource) {
	t.Helper()
	k := testConfig()
	k.SyncTimeout, k.LookupWait = config.Duration(syncTimeout), config.Duration(lookupWait)
	e, err := newEnricher(Options{Config: k, NodeName: node})
	require.NoError(t, err)
	src := &slowSource{pods: []*corev1.Pod{testPod("payments", "api-1", "uid-1")}, sync: make(chan struct{})}
	e.src = src
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, src
}

// enrichAsync enriches b on another goroutine, as a worker does.
func enrichAsync(e *Enricher, b *record.Batch) <-chan bool {
	out := make(chan bool, 1)
	go func() { out <- e.Enrich(b) }()
	return out
}

// TestEnrichWaitsForFirstSync: the agent reads from its start; a record
// read before the cache's first sync waits for it and is enriched when
// the list arrives, not shipped bare.
func TestEnrichWaitsForFirstSync(t *testing.T) {
	e, src := startSlow(t, time.Minute, time.Minute)
	b := batchFor("payments", "api-1", "api", "aaaa1111bbbb2222")
	defer b.Discard()
	got := enrichAsync(e, b)
	require.Error(t, e.Ready())
	close(src.sync)
	select {
	case ok := <-got:
		require.True(t, ok)
	case <-time.After(15 * time.Second):
		t.Fatal("the record did not go when the cache synced")
	}
	require.Equal(t, "uid-1", metaOf(t, b)["pod_id"])
	require.NoError(t, e.Ready())
}

// TestEnrichAfterSyncTimeout: an API server that does not answer holds
// records up to sync_timeout in all, then they ship with the names from
// the file path at once — no lookup_wait per pod (a minute here, which
// the test would wait out) — until the cache syncs; then they are
// enriched again.
func TestEnrichAfterSyncTimeout(t *testing.T) {
	e, src := startSlow(t, 50*time.Millisecond, time.Minute)
	for _, pod := range []string{"api-1", "api-2", "api-3"} {
		b := batchFor("payments", pod, "api", "")
		require.True(t, e.Enrich(b))
		require.Equal(t, `{"from":"path"}`, string(b.Kubernetes()))
		b.Discard()
	}
	require.EqualValues(t, 3, e.stats.unknown.Load())
	require.Zero(t, e.stats.fetchNotFound.Load()+e.stats.fetchErrors.Load()+e.stats.fetchFound.Load(), "no per-pod lookups before the cache syncs")

	close(src.sync)
	require.Eventually(t, func() bool { return e.isSynced.Load() }, 15*time.Second, 5*time.Millisecond)
	b := batchFor("payments", "api-1", "api", "aaaa1111bbbb2222")
	defer b.Discard()
	require.True(t, e.Enrich(b))
	require.Equal(t, "uid-1", metaOf(t, b)["pod_id"])
}

// TestEnrichReleasedAtShutdown: records waiting for the first sync go,
// with the names from the file path, when the agent shuts down.
func TestEnrichReleasedAtShutdown(t *testing.T) {
	e, _ := startSlow(t, time.Hour, time.Minute)
	b := batchFor("payments", "api-1", "api", "")
	defer b.Discard()
	got := enrichAsync(e, b)
	e.Release()
	select {
	case ok := <-got:
		require.True(t, ok)
	case <-time.After(15 * time.Second):
		t.Fatal("Release did not end the wait")
	}
	require.Equal(t, `{"from":"path"}`, string(b.Kubernetes()))
}
