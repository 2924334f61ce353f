package kube

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

const node = "node-1"

func testConfig() config.Kubernetes {
	k := config.Default().Kubernetes
	k.Annotations = true
	k.LookupWait = config.Duration(2 * time.Second)
	return k
}

func boolp(b bool) *bool { return &b }

// testPod is a pod of a Deployment, running, with its container started.
func testPod(ns, name, uid string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, UID: types.UID(uid),
			Labels:            map[string]string{"app": "api", "pod-template-hash": "7d9f8c6b5"},
			Annotations:       map[string]string{"team": "payments"},
			CreationTimestamp: metav1.NewTime(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)),
			OwnerReferences:   []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "api-7d9f8c6b5", Controller: boolp(true)}},
		},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "api", Image: "repo/api:1.2"}, {Name: "proxy", Image: "envoy:1.30"}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "api", ContainerID: "containerd://aaaa1111bbbb2222", ImageID: "repo/api@sha256:01"},
				{Name: "proxy", ContainerID: "containerd://cccc3333dddd4444", ImageID: "envoy@sha256:02"},
			},
		},
	}
}

// newTestEnricher runs an enricher on a fake clientset until the test ends.
func newTestEnricher(t *testing.T, k config.Kubernetes, objs ...*corev1.Pod) (*Enricher, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset()
	for _, p := range objs {
		_, err := client.CoreV1().Pods(p.Namespace).Create(context.Background(), p, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	e, err := newEnricher(Options{Config: k, NodeName: node, KnownParser: func(s string) bool { return s == "logfmt" || s == "nginx" }})
	require.NoError(t, err)
	e.src = newAPIServerSourceFor(client, node, k.NamespaceLabels)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("enricher did not stop")
		}
	})
	require.True(t, e.WaitSynced(context.Background()), "cache did not sync")
	return e, client
}

func batchFor(ns, pod, container, id string) *record.Batch {
	src := &record.Source{Namespace: ns, Pod: pod, Container: container, ContainerID: id, Meta: []byte(`{"from":"path"}`)}
	b := record.NewBatch(src, nil)
	b.Add(record.Record{}, []byte("line"))
	return b
}

func metaOf(t *testing.T, b *record.Batch) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b.Kubernetes(), &m), "%s", b.Kubernetes())
	return m
}

func TestEnrichFields(t *testing.T) {
	e, _ := newTestEnricher(t, testConfig(), testPod("payments", "api-7d9f8c6b5-x2x9q", "uid-1"))
	b := batchFor("payments", "api-7d9f8c6b5-x2x9q", "api", "aaaa1111bbbb2222")
	defer b.Discard()
	require.True(t, e.Enrich(b))
	require.Equal(t, map[string]any{
		"namespace_name":     "payments",
		"pod_name":           "api-7d9f8c6b5-x2x9q",
		"pod_id":             "uid-1",
		"container_name":     "api",
		"container_image":    "repo/api:1.2",
		"container_image_id": "repo/api@sha256:01",
		"container_id":       "aaaa1111bbbb2222",
		"host":               node,
		"labels":             map[string]any{"app": "api", "pod-template-hash": "7d9f8c6b5"},
		"annotations":        map[string]any{"team": "payments"},
		"owner":              map[string]any{"kind": "Deployment", "name": "api"},
	}, metaOf(t, b))
	// The same bytes for every batch of the container: spliced, not rebuilt.
	b2 := batchFor("payments", "api-7d9f8c6b5-x2x9q", "api", "")
	defer b2.Discard()
	require.True(t, e.Enrich(b2))
	require.Same(t, &b.Meta[0], &b2.Meta[0])

	b3 := batchFor("payments", "api-7d9f8c6b5-x2x9q", "proxy", "cccc3333dddd4444")
	defer b3.Discard()
	require.True(t, e.Enrich(b3))
	m := metaOf(t, b3)
	require.Equal(t, "envoy:1.30", m["container_image"])
	require.Equal(t, "cccc3333dddd4444", m["container_id"])
	require.Equal(t, int64(3), e.stats.enriched.Load())
}

func TestLabelAndAnnotationFilters(t *testing.T) {
	k := testConfig()
	k.IncludeLabels = []string{"app*", "team"}
	k.ExcludeLabels = []string{"app.kubernetes.io/version"}
	k.Annotations = false
	p := testPod("ns", "p", "u")
	p.Labels = map[string]string{"app": "a", "app.kubernetes.io/name": "n", "app.kubernetes.io/version": "v", "team": "t", "other": "o"}
	e, _ := newTestEnricher(t, k, p)
	b := batchFor("ns", "p", "api", "")
	defer b.Discard()
	require.True(t, e.Enrich(b))
	m := metaOf(t, b)
	require.Equal(t, map[string]any{"app": "a", "app.kubernetes.io/name": "n", "team": "t"}, m["labels"])
	require.NotContains(t, m, "annotations")

	k.Labels = false
	e2, _ := newTestEnricher(t, k, p)
	b2 := batchFor("ns", "p", "api", "")
	defer b2.Discard()
	require.True(t, e2.Enrich(b2))
	require.NotContains(t, metaOf(t, b2), "labels")
}

func TestOwners(t *testing.T) {
	created := time.Date(2026, 11, 26, 10, 0, 3, 0, time.UTC)
	minutes := created.Unix() / 60
	f := func(kind, name string, labels map[string]string, wantKind, wantName string) {
		t.Helper()
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Labels: labels, CreationTimestamp: metav1.NewTime(created),
			OwnerReferences: []metav1.OwnerReference{
				{Kind: "Node", Name: "not-the-controller"},
				{Kind: kind, Name: name, Controller: boolp(true)},
			},
		}}
		k, n := owner(p)
		require.Equal(t, [2]string{wantKind, wantName}, [2]string{k, n})
	}
	f("ReplicaSet", "web-5d8f7c", map[string]string{"pod-template-hash": "5d8f7c"}, "Deployment", "web")
	f("ReplicaSet", "web-5d8f7c", nil, "ReplicaSet", "web-5d8f7c") // a bare ReplicaSet
	f("StatefulSet", "db", nil, "StatefulSet", "db")
	f("DaemonSet", "sluice", nil, "DaemonSet", "sluice")
	f("Job", "backup-"+itoa(minutes), nil, "CronJob", "backup")
	f("Job", "migrate-20261126", nil, "Job", "migrate-20261126") // a date, not a schedule near the pod's creation
	f("Job", "once", nil, "Job", "once")
	k, n := owner(&corev1.Pod{})
	require.Equal(t, "", k+n)
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestAnnotationsSteerThePipeline(t *testing.T) {
	quiet := testPod("ns", "quiet", "u1")
	quiet.Annotations = map[string]string{AnnotationExclude: "true"}
	sidecar := testPod("ns", "mixed", "u2")
	sidecar.Annotations = map[string]string{
		AnnotationParser:                "logfmt",
		AnnotationParser + "-proxy":     "nginx",
		AnnotationExclude + "-proxy":    "false",
		AnnotationExclude + "-sidecar2": "true",
	}
	bad := testPod("ns", "bad", "u3")
	bad.Annotations = map[string]string{AnnotationParser: "no-such"}
	e, _ := newTestEnricher(t, testConfig(), quiet, sidecar, bad)

	b := batchFor("ns", "quiet", "api", "")
	defer b.Discard()
	require.False(t, e.Enrich(b), "sluice.io/exclude drops the pod's logs")
	require.Equal(t, int64(1), e.stats.excluded.Load())

	b = batchFor("ns", "mixed", "api", "")
	defer b.Discard()
	require.True(t, e.Enrich(b))
	require.Equal(t, "logfmt", b.Parser)
	b = batchFor("ns", "mixed", "proxy", "")
	defer b.Discard()
	require.True(t, e.Enrich(b))
	require.Equal(t, "nginx", b.Parser, "a per-container annotation wins")

	b = batchFor("ns", "bad", "api", "")
	defer b.Discard()
	require.True(t, e.Enrich(b))
	require.Equal(t, "", b.Parser, "an unknown parser is ignored: the config's parsers apply")
}

// A pod the watch has not delivered when its first lines are read: the
// lines wait, and ship enriched once the pod arrives.
func TestPodArrivesAfterItsFile(t *testing.T) {
	e, client := newTestEnricher(t, testConfig())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Once the direct GET has found nothing, the lines wait for the watch.
		for deadline := time.Now().Add(10 * time.Second); e.stats.fetchNotFound.Load() == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Error("the lines never asked the API server for their pod")
				break
			}
		}
		_, err := client.CoreV1().Pods("late").Create(context.Background(), testPod("late", "p", "u"), metav1.CreateOptions{})
		require.NoError(t, err)
	}()
	b := batchFor("late", "p", "api", "aaaa1111bbbb2222")
	defer b.Discard()
	start := time.Now()
	require.True(t, e.Enrich(b))
	wg.Wait()
	require.Equal(t, "late", metaOf(t, b)["namespace_name"])
	require.Contains(t, metaOf(t, b), "pod_id", "from the cache, not the path")
	require.Less(t, time.Since(start), 2*time.Second, "did not wait for lookup_wait once the pod came")
}

// A pod that never appears: its lines wait lookup_wait once, then ship
// with the names from the path, and later batches do not wait again.
func TestUnknownPodShipsWithPathNames(t *testing.T) {
	k := testConfig()
	k.LookupWait = config.Duration(100 * time.Millisecond)
	e, _ := newTestEnricher(t, k)
	b := batchFor("ns", "ghost", "c", "")
	defer b.Discard()
	require.True(t, e.Enrich(b))
	require.Equal(t, map[string]any{"from": "path"}, metaOf(t, b))
	require.Equal(t, int64(1), e.stats.fetchNotFound.Load(), "one direct GET")

	start := time.Now()
	for range 50 {
		b := batchFor("ns", "ghost", "c", "")
		require.True(t, e.Enrich(b))
		b.Discard()
	}
	require.Less(t, time.Since(start), 100*time.Millisecond, "a known miss does not wait again")
	require.Equal(t, int64(1), e.stats.fetchNotFound.Load(), "nor GET again")
	require.Equal(t, int64(51), e.stats.unknown.Load())
}

// A deleted pod's lines are still enriched for deleted_pod_ttl.
func TestDeletedPodKeptForTTL(t *testing.T) {
	k := testConfig()
	k.DeletedPodTTL = config.Duration(300 * time.Millisecond)
	k.LookupWait = 0
	e, client := newTestEnricher(t, k, testPod("ns", "p", "u"))
	require.NoError(t, client.CoreV1().Pods("ns").Delete(context.Background(), "p", metav1.DeleteOptions{}))
	require.Eventually(t, func() bool { _, d := e.cache.counts(); return d == 1 }, 5*time.Second, 5*time.Millisecond)

	b := batchFor("ns", "p", "api", "")
	defer b.Discard()
	require.True(t, e.Enrich(b))
	require.Equal(t, "u", metaOf(t, b)["pod_id"], "deleted but within the TTL")

	require.Eventually(t, func() bool { l, d := e.cache.counts(); return l+d == 0 }, 5*time.Second, 10*time.Millisecond)
	b2 := batchFor("ns", "p", "api", "")
	defer b2.Discard()
	require.True(t, e.Enrich(b2))
	require.Equal(t, map[string]any{"from": "path"}, metaOf(t, b2), "forgotten after the TTL")
}

// A StatefulSet pod deleted and recreated under its name: each file's
// container id finds its own pod.
func TestRecreatedPodSameName(t *testing.T) {
	k := testConfig()
	k.LookupWait = 0
	e, client := newTestEnricher(t, k, testPod("db", "db-0", "old"))
	ctx := context.Background()
	require.NoError(t, client.CoreV1().Pods("db").Delete(ctx, "db-0", metav1.DeleteOptions{}))
	fresh := testPod("db", "db-0", "new")
	fresh.Status.ContainerStatuses[0].ContainerID = "containerd://eeee5555ffff6666"
	_, err := client.CoreV1().Pods("db").Create(ctx, fresh, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { l, d := e.cache.counts(); return l == 1 && d == 1 }, 5*time.Second, 5*time.Millisecond)

	for id, uid := range map[string]string{"aaaa1111bbbb2222": "old", "eeee5555ffff6666": "new", "": "new"} {
		b := batchFor("db", "db-0", "api", id)
		require.True(t, e.Enrich(b))
		require.Equal(t, uid, metaOf(t, b)["pod_id"], "container id %q", id)
		b.Discard()
	}
}

// A restarted container: the previous instance's file keeps its own id.
func TestRestartedContainer(t *testing.T) {
	p := testPod("ns", "p", "u")
	p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ContainerID: "containerd://0000aaaa0000bbbb"}
	k := testConfig()
	k.LookupWait = 0
	e, _ := newTestEnricher(t, k, p)
	for _, id := range []string{"0000aaaa0000bbbb", "aaaa1111bbbb2222"} {
		b := batchFor("ns", "p", "api", id)
		require.True(t, e.Enrich(b))
		require.Equal(t, id, metaOf(t, b)["container_id"])
		b.Discard()
	}
}

func TestNamespaceLabels(t *testing.T) {
	k := testConfig()
	k.NamespaceLabels = true
	k.LookupWait = 0
	client := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns", Labels: map[string]string{"tier": "gold"}}})
	_, err := client.CoreV1().Pods("ns").Create(context.Background(), testPod("ns", "p", "u"), metav1.CreateOptions{})
	require.NoError(t, err)
	e, err := newEnricher(Options{Config: k, NodeName: node})
	require.NoError(t, err)
	e.src = newAPIServerSourceFor(client, node, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.Run(ctx) //nolint:errcheck // stopped by cancel
	require.True(t, e.WaitSynced(ctx))
	enrich := func() map[string]any {
		b := batchFor("ns", "p", "api", "")
		defer b.Discard()
		require.True(t, e.Enrich(b))
		return metaOf(t, b)
	}
	require.Equal(t, map[string]any{"tier": "gold"}, enrich()["namespace_labels"])
	_, err = client.CoreV1().Namespaces().Update(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns", Labels: map[string]string{"tier": "silver"}}}, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return enrich()["namespace_labels"].(map[string]any)["tier"] == "silver"
	}, 5*time.Second, 10*time.Millisecond)
}

// Records from syslog or an unnamed file pass through untouched.
func TestNonPodSourcesUntouched(t *testing.T) {
	e, _ := newTestEnricher(t, testConfig())
	b := record.NewBatch(&record.Source{Input: "syslog"}, nil)
	defer b.Discard()
	b.Add(record.Record{}, []byte("x"))
	require.True(t, e.Enrich(b))
	require.Nil(t, b.Meta)
	require.Equal(t, int64(0), e.stats.unknown.Load()+e.stats.enriched.Load())
}

func TestNewWithoutCluster(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	_, err := New(Options{Config: testConfig(), NodeName: node})
	require.ErrorIs(t, err, ErrUnavailable)
	_, err = New(Options{Config: testConfig()})
	require.ErrorContains(t, err, "node_name is empty")
	k := testConfig()
	k.Kubeconfig = "/nonexistent/kubeconfig"
	_, err = New(Options{Config: k, NodeName: node})
	require.ErrorContains(t, err, "/nonexistent/kubeconfig")
}

func BenchmarkEnrich(b *testing.B) {
	e, err := newEnricher(Options{Config: testConfig(), NodeName: node})
	require.NoError(b, err)
	for i := range 100 {
		e.upsert(testPod("ns", "pod-"+itoa(int64(i)), "uid-"+itoa(int64(i))))
	}
	batch := batchFor("ns", "pod-42", "api", "aaaa1111bbbb2222")
	defer batch.Discard()
	b.ReportAllocs()
	for b.Loop() {
		if !e.Enrich(batch) {
			b.Fatal("dropped")
		}
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pat, s string
		want   bool
	}{
		{"app", "app", true}, {"app", "apps", false}, {"app*", "app.kubernetes.io/name", true},
		{"*/name", "app.kubernetes.io/name", true}, {"*/name", "name", false}, {"a?c", "abc", true},
		{"*", "", true}, {"", "", true}, {"", "x", false}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
		{"*.io/*", "helm.sh/chart", false}, {"**x", "x", true},
	} {
		require.Equal(t, c.want, glob(c.pat, c.s), "%q ~ %q", c.pat, c.s)
	}
}

// enrichBatchRecords is how many records a batch of the benchmarks holds
// (a 64 KiB read of ~1 KiB lines).
const enrichBatchRecords = 64

// BenchmarkEnrichSplice is the enrichment of one batch as the pipeline does
// it: one cache lookup per batch, then the pre-serialised object spliced
// into each record's document. Reported per record.
func BenchmarkEnrichSplice(b *testing.B) {
	e, err := newEnricher(Options{Config: testConfig(), NodeName: node})
	require.NoError(b, err)
	for i := range 100 {
		e.upsert(testPod("ns", "pod-"+itoa(int64(i)), "uid-"+itoa(int64(i))))
	}
	batch := batchFor("ns", "pod-42", "api", "aaaa1111bbbb2222")
	defer batch.Discard()
	dst := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		e.Enrich(batch)
		dst = dst[:0]
		for range enrichBatchRecords {
			dst = append(dst, `,"kubernetes":`...)
			dst = append(dst, batch.Meta...)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*enrichBatchRecords), "ns/record")
}

// BenchmarkEnrichMapBaseline is the common way for comparison: a pod
// cache under a read lock, looked up per record, and the metadata built as
// a map and marshalled into each record.
func BenchmarkEnrichMapBaseline(b *testing.B) {
	var mu sync.RWMutex
	pods := map[string]*corev1.Pod{}
	for i := range 100 {
		p := testPod("ns", "pod-"+itoa(int64(i)), "uid-"+itoa(int64(i)))
		pods[p.Namespace+"/"+p.Name] = p
	}
	src := &record.Source{Namespace: "ns", Pod: "pod-42", Container: "api"}
	dst := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		dst = dst[:0]
		for range enrichBatchRecords {
			mu.RLock()
			p := pods[src.Namespace+"/"+src.Pod]
			mu.RUnlock()
			m := map[string]any{
				"namespace_name": p.Namespace, "pod_name": p.Name, "pod_id": string(p.UID),
				"container_name": src.Container, "container_image": p.Spec.Containers[0].Image,
				"container_id": p.Status.ContainerStatuses[0].ContainerID, "host": p.Spec.NodeName,
				"labels": p.Labels, "annotations": p.Annotations,
			}
			raw, _ := json.Marshal(m)
			dst = append(dst, `,"kubernetes":`...)
			dst = append(dst, raw...)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*enrichBatchRecords), "ns/record")
}

// The tap's label selectors match the pod's own labels, all of them, even
// when the config ships none (labels: false) or leaves some out.
func TestEnrichLabelsForTap(t *testing.T) {
	k := testConfig()
	k.Labels = false
	e, _ := newTestEnricher(t, k, testPod("payments", "api-7d9f8c6b5-x2x9q", "uid-1"))
	b := batchFor("payments", "api-7d9f8c6b5-x2x9q", "api", "aaaa1111bbbb2222")
	defer b.Discard()
	require.True(t, e.Enrich(b))
	require.NotContains(t, metaOf(t, b), "labels")
	require.Equal(t, map[string]string{"app": "api", "pod-template-hash": "7d9f8c6b5"}, b.Labels)
}
