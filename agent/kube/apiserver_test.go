package kube

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/kubetest"
)

// applyDeployRBAC creates the Namespace, ServiceAccount, ClusterRole and
// binding of deploy/base in the cluster, as `kubectl apply -k deploy/`
// would, and returns a kubeconfig for that service account.
func applyDeployRBAC(t *testing.T, c *kubetest.Cluster) string {
	t.Helper()
	base := filepath.Join("..", "..", "deploy", "base")
	c.ApplyRBACFiles(t, "sluice", filepath.Join(base, "namespace.yaml"), filepath.Join(base, "rbac.yaml"))
	return c.WriteKubeconfig(t, c.ServiceAccountToken(t, "sluice", "sluice"))
}

func podOn(ns, name, node string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1.0"}},
		},
	}
}

func runEnricher(t *testing.T, k config.Kubernetes, node string) *Enricher {
	t.Helper()
	e, err := New(Options{Config: k, NodeName: node, UserAgent: "sluice-test"})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Error("enricher did not stop")
		}
	})
	return e
}

// The enricher against a real kube-apiserver and etcd, authenticated as
// the service account that deploy/ binds: only this node's pods are
// cached; late and deleted pods are enriched; an API server restart is
// survived; without the ClusterRole nothing is readable.
func TestAPIServer(t *testing.T) {
	c := kubetest.Start(t)
	kubeconfig := applyDeployRBAC(t, c)

	mine := c.CreatePod(t, podOn("payments", "api-1", "node-a", map[string]string{"app": "api"}))
	c.SetPodRunning(t, "payments", "api-1")
	c.CreatePod(t, podOn("payments", "other-1", "node-b", map[string]string{"app": "other"}))
	c.SetPodRunning(t, "payments", "other-1")

	k := config.Default().Kubernetes
	k.Kubeconfig = kubeconfig
	k.LookupWait = config.Duration(10 * time.Second)
	k.SyncTimeout = config.Duration(20 * time.Second)
	e := runEnricher(t, k, "node-a")
	require.True(t, e.WaitSynced(context.Background()), "cache did not sync against the API server")
	require.NoError(t, e.Ready())

	// Only node-a's pods are cached: the field selector works server-side.
	live, deleted := e.cache.counts()
	require.Equal(t, [2]int{1, 0}, [2]int{live, deleted})
	require.Nil(t, e.cache.get(podKey{"payments", "other-1"}))

	running, err := c.Client().CoreV1().Pods("payments").Get(context.Background(), "api-1", metav1.GetOptions{})
	require.NoError(t, err)
	st := running.Status.ContainerStatuses[0]
	enrich := func(ns, pod string) map[string]any {
		t.Helper()
		b := batchFor(ns, pod, "app", "")
		defer b.Discard()
		require.True(t, e.Enrich(b))
		return metaOf(t, b)
	}
	require.Equal(t, map[string]any{
		"namespace_name":     "payments",
		"pod_name":           "api-1",
		"pod_id":             string(mine.UID),
		"container_name":     "app",
		"container_image":    "registry.example/app:1.0",
		"container_image_id": st.ImageID,
		"container_id":       trimRuntime(st.ContainerID),
		"host":               "node-a",
		"labels":             map[string]any{"app": "api"},
	}, enrich("payments", "api-1"))

	// A file whose pod is created after its first lines were read.
	got := make(chan map[string]any, 1)
	notFound := e.stats.fetchNotFound.Load()
	go func() {
		b := batchFor("payments", "late-1", "app", "")
		defer b.Discard()
		e.Enrich(b)
		var m map[string]any
		_ = json.Unmarshal(b.Kubernetes(), &m)
		got <- m
	}()
	// Once the direct GET has found nothing, the lines wait for the watch.
	require.Eventually(t, func() bool { return e.stats.fetchNotFound.Load() > notFound }, 10*time.Second, time.Millisecond)
	late := c.CreatePod(t, podOn("payments", "late-1", "node-a", nil))
	select {
	case m := <-got:
		require.Equal(t, string(late.UID), m["pod_id"])
	case <-time.After(15 * time.Second):
		t.Fatal("lines of a late pod were not released")
	}

	// A deleted pod's lines are still enriched (deleted_pod_ttl 5m).
	require.NoError(t, c.Client().CoreV1().Pods("payments").Delete(context.Background(), "api-1", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}))
	require.Eventually(t, func() bool { _, d := e.cache.counts(); return d == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, string(mine.UID), enrich("payments", "api-1")["pod_id"])

	// The watch survives an API server restart and sees pods made after it.
	c.RestartAPIServer(t)
	after := c.CreatePod(t, podOn("payments", "after-restart", "node-a", map[string]string{"app": "new"}))
	require.Eventually(t, func() bool { return e.cache.get(podKey{"payments", "after-restart"}) != nil }, 30*time.Second, 20*time.Millisecond,
		"the watch did not resume after the API server restart")
	require.Equal(t, string(after.UID), enrich("payments", "after-restart")["pod_id"])
	require.Nil(t, e.cache.get(podKey{"payments", "other-1"}))
	require.Zero(t, e.stats.fetchErrors.Load())

	// RBAC for real: a service account without the binding cannot list pods,
	// so its cache never syncs and /readyz says so.
	k2 := k
	k2.Kubeconfig = c.WriteKubeconfig(t, c.ServiceAccountToken(t, "sluice", "unbound"))
	k2.SyncTimeout = config.Duration(2 * time.Second)
	e2 := runEnricher(t, k2, "node-a")
	require.False(t, e2.WaitSynced(context.Background()))
	require.ErrorContains(t, e2.Ready(), "not synced")
	b := batchFor("payments", "after-restart", "app", "")
	defer b.Discard()
	require.True(t, e2.Enrich(b))
	require.Equal(t, `{"from":"path"}`, string(b.Kubernetes()), "unreadable pods: names from the path")
}
