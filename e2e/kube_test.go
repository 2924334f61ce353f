package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/kubetest"
	"github.com/sluicelog/sluice/internal/promtest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// kubePod is a pod of the enrichment test and the log file of its
// container "app", named as the kubelet names it.
type kubePod struct {
	name        string
	labels      map[string]string
	annotations map[string]string
	owner       *metav1.OwnerReference
	node        string
}

// writeCRI appends n CRI lines, line(i) for i in [0, n), to path.
func writeCRI(t *testing.T, path string, n int, line func(i int) string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	defer f.Close()
	now := time.Now().UTC()
	for i := range n {
		_, err := fmt.Fprintf(f, "%s stdout F %s\n", now.Add(time.Duration(i)).Format(time.RFC3339Nano), line(i))
		require.NoError(t, err)
	}
}

// The agent binary enriches container logs from a real kube-apiserver,
// as the service account deploy/ binds: the kubernetes.* fields of the
// pods, the owner, the sluice.io/exclude and sluice.io/parser annotations,
// and a pod created after its log file.
func TestKubernetesEnrichment(t *testing.T) {
	agenttest.Binary(t)
	store := vlstore.Start(t)
	c := kubetest.Start(t)
	base := filepath.Join("..", "deploy", "base")
	c.ApplyRBACFiles(t, "sluice", filepath.Join(base, "namespace.yaml"), filepath.Join(base, "rbac.yaml"))
	kubeconfig := c.WriteKubeconfig(t, c.ServiceAccountToken(t, "sluice", "sluice"))

	dir := t.TempDir()
	logs := filepath.Join(dir, "containers")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	ctrl := true
	pods := []kubePod{
		{name: "web-5d8f7c-x2x9q", labels: map[string]string{"app": "web", "pod-template-hash": "5d8f7c"},
			owner: &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d8f7c", UID: "rs-uid", Controller: &ctrl}},
		{name: "quiet-0", labels: map[string]string{"app": "quiet"}, annotations: map[string]string{"sluice.io/exclude": "true"}},
		{name: "fmt-0", labels: map[string]string{"app": "fmt"}, annotations: map[string]string{"sluice.io/parser": "logfmt"}},
		{name: "elsewhere-0", labels: map[string]string{"app": "elsewhere"}, node: "another-node"},
	}
	files := map[string]string{}
	for _, p := range pods {
		node := p.node
		if node == "" {
			node = nodeName
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: p.name, Labels: p.labels, Annotations: p.annotations},
			Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app", Image: "registry.example/" + p.name + ":1"}}},
		}
		if p.owner != nil {
			pod.OwnerReferences = []metav1.OwnerReference{*p.owner}
		}
		c.CreatePod(t, pod)
		running := c.SetPodRunning(t, "shop", p.name)
		id := strings.TrimPrefix(running.Status.ContainerStatuses[0].ContainerID, "containerd://")
		files[p.name] = filepath.Join(logs, p.name+"_shop_app-"+id+".log")
	}
	writeCRI(t, files["web-5d8f7c-x2x9q"], 20, func(i int) string { return fmt.Sprintf(`{"msg":"web","n":%d}`, i) })
	writeCRI(t, files["quiet-0"], 30, func(i int) string { return fmt.Sprintf("quiet line %d", i) })
	writeCRI(t, files["fmt-0"], 10, func(i int) string { return fmt.Sprintf(`level=warn msg="disk full" n=%d`, i) })
	// A pod on another node whose file is here anyway (a stale mount, a
	// test): its lines ship with the names from the path.
	writeCRI(t, files["elsewhere-0"], 5, func(i int) string { return fmt.Sprintf("elsewhere line %d", i) })
	// A log file whose pod does not exist yet.
	lateFile := filepath.Join(logs, "late-0_shop_app-"+strings.Repeat("ab", 32)+".log")
	writeCRI(t, lateFile, 7, func(i int) string { return fmt.Sprintf("late line %d", i) })

	ac := agentConfig(configParams{DataDir: filepath.Join(dir, "data"), Paths: []string{filepath.Join(logs, "*.log")}, StoreURL: store.URL})
	ac.Kubernetes.Enabled, ac.Kubernetes.Kubeconfig = true, kubeconfig
	ac.Kubernetes.LookupWait = config.Duration(5 * time.Second)
	cfgPath := agenttest.WriteConfig(t, dir, ac)
	a := agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent"})

	// The late pod arrives after the agent has looked it up and not found
	// it: two direct lookups come back not_found, late-0's and that of
	// elsewhere-0 (another node's pod counts as not found).
	api := a.APIURL(t, 1)
	require.Eventually(t, func() bool {
		return metricValue(t, api, "sluice_kubernetes_pod_fetches_total", "result", "not_found") >= 2
	}, 30*time.Second, 20*time.Millisecond)
	late := c.CreatePod(t, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "late-0", Labels: map[string]string{"app": "late"}},
		Spec:       corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "app", Image: "registry.example/late:1"}}},
	})

	waitForCount(t, store, a, 20+10+5+7, 60*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	rows, err := store.Query(ctx, "*")
	require.NoError(t, err)
	byPod := map[string][]map[string]string{}
	for _, r := range rows {
		byPod[r["kubernetes.pod_name"]] = append(byPod[r["kubernetes.pod_name"]], r)
	}
	require.Len(t, byPod["web-5d8f7c-x2x9q"], 20)
	require.Len(t, byPod["fmt-0"], 10)
	require.Len(t, byPod["elsewhere-0"], 5)
	require.Len(t, byPod["late-0"], 7)
	require.Empty(t, byPod["quiet-0"], "sluice.io/exclude: true")

	web, err := c.Client().CoreV1().Pods("shop").Get(ctx, "web-5d8f7c-x2x9q", metav1.GetOptions{})
	require.NoError(t, err)
	for _, r := range byPod["web-5d8f7c-x2x9q"] {
		require.Equal(t, "shop", r["kubernetes.namespace_name"])
		require.Equal(t, string(web.UID), r["kubernetes.pod_id"])
		require.Equal(t, "app", r["kubernetes.container_name"])
		require.Equal(t, "registry.example/web-5d8f7c-x2x9q:1", r["kubernetes.container_image"])
		require.Equal(t, web.Status.ContainerStatuses[0].ImageID, r["kubernetes.container_image_id"])
		require.Equal(t, strings.TrimPrefix(web.Status.ContainerStatuses[0].ContainerID, "containerd://"), r["kubernetes.container_id"])
		require.Equal(t, nodeName, r["kubernetes.host"])
		require.Equal(t, "web", r["kubernetes.labels.app"])
		require.Equal(t, "Deployment", r["kubernetes.owner.kind"])
		require.Equal(t, "web", r["kubernetes.owner.name"])
		require.Equal(t, "web", r["msg"], "the JSON line is merged")
	}
	for _, r := range byPod["fmt-0"] {
		require.Equal(t, "warn", r["level"], "sluice.io/parser: logfmt")
		require.Equal(t, "disk full", r["msg"])
		require.Equal(t, "fmt", r["kubernetes.labels.app"])
	}
	for _, r := range byPod["elsewhere-0"] {
		require.Empty(t, r["kubernetes.pod_id"], "another node's pod is not cached: names from the path only")
		require.Equal(t, "shop", r["kubernetes.namespace_name"])
	}
	for _, r := range byPod["late-0"] {
		require.Equal(t, string(late.UID), r["kubernetes.pod_id"], "a pod created after its file")
		require.Equal(t, "late", r["kubernetes.labels.app"])
	}

	require.Equal(t, 200, getStatus(t, api+"/readyz"))
	mfs := promtest.Scrape(t, api)
	require.Equal(t, 30.0, promtest.Value(t, mfs, "sluice_kubernetes_records_total", "result", "excluded"))
	require.Equal(t, 5.0, promtest.Value(t, mfs, "sluice_kubernetes_records_total", "result", "unknown_pod"))
	require.Equal(t, 37.0, promtest.Value(t, mfs, "sluice_kubernetes_records_total", "result", "enriched"))
	require.Equal(t, 1.0, promtest.Value(t, mfs, "sluice_kubernetes_cache_synced"))
	require.Equal(t, 4.0, promtest.Value(t, mfs, "sluice_kubernetes_cache_pods", "state", "live"), "three pods and the late one; not the other node's")
	var st struct {
		Kubernetes struct {
			PodsFrom string `json:"pods_from"`
			Synced   bool   `json:"synced"`
			Pods     int    `json:"pods"`
		} `json:"kubernetes"`
	}
	getJSON(t, api+"/api/v1/status", &st)
	require.True(t, st.Kubernetes.Synced)
	require.Equal(t, 4, st.Kubernetes.Pods)
	require.Equal(t, "api server watch on node "+nodeName, st.Kubernetes.PodsFrom)
	require.Equal(t, 0, a.Stop(t))
}

// getJSON decodes the JSON body of a GET that must answer 200.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}
