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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/kubetest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// The built agent with fair_share by pod takes each key's weight from the
// real kube-apiserver's pods, as the status page shows it: the annotation
// sluice.io/weight, else the first label_weights selector the labels
// match, else default_weight; an annotation that is not a weight is
// warned about once (naming the pod and the value) and the pod's key
// takes the configured weight. Every line of every pod is stored once.
// Nothing here depends on how fast the machine is: the weights are read
// from the status page once the pods are cached.
func TestFairShareWeightsFromKubernetes(t *testing.T) {
	agenttest.Binary(t)
	store := vlstore.Start(t)
	c := kubetest.Start(t)
	base := filepath.Join("..", "deploy", "base")
	c.ApplyRBACFiles(t, "sluice", filepath.Join(base, "namespace.yaml"), filepath.Join(base, "rbac.yaml"))
	kubeconfig := c.WriteKubeconfig(t, c.ServiceAccountToken(t, "sluice", "sluice"))

	dir := t.TempDir()
	logs := filepath.Join(dir, "containers")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	pods := []kubePod{
		{name: "heavy-0", annotations: map[string]string{"sluice.io/weight": "8"}},
		{name: "gold-0", labels: map[string]string{"tier": "gold"}},
		{name: "typo-0", labels: map[string]string{"tier": "gold"}, annotations: map[string]string{"sluice.io/weight": "lots"}},
		{name: "plain-0"},
	}
	const lines = 40
	for _, p := range pods {
		c.CreatePod(t, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: p.name, Labels: p.labels, Annotations: p.annotations},
			Spec:       corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "app", Image: "registry.example/" + p.name + ":1"}}},
		})
		running := c.SetPodRunning(t, "shop", p.name)
		id := strings.TrimPrefix(running.Status.ContainerStatuses[0].ContainerID, "containerd://")
		name := p.name
		writeCRI(t, filepath.Join(logs, p.name+"_shop_app-"+id+".log"), lines, func(i int) string { return fmt.Sprintf("%s line %d", name, i) })
	}

	ac := agentConfig(configParams{DataDir: filepath.Join(dir, "data"), Paths: []string{filepath.Join(logs, "*.log")}, StoreURL: store.URL})
	ac.Kubernetes.Enabled, ac.Kubernetes.Kubeconfig = true, kubeconfig
	ac.Inputs[0].FairShare = &config.FairShare{
		By: "pod", DefaultWeight: 2,
		LabelWeights: []config.LabelWeight{{Selector: "tier=gold", Weight: 3}},
	}
	a := agenttest.Start(t, agenttest.WriteConfig(t, dir, ac), agenttest.Options{Name: "agent"})
	api := a.APIURL(t, 1)

	want := map[string]int{"shop/heavy-0": 8, "shop/gold-0": 3, "shop/typo-0": 3, "shop/plain-0": 2}
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		var st struct {
			Inputs []struct {
				FairShare *struct {
					Keys []struct {
						Key    string `json:"key"`
						Weight int    `json:"weight"`
					} `json:"keys"`
				} `json:"fair_share"`
			} `json:"inputs"`
		}
		getJSONc(ct, api+"/api/v1/status", &st)
		require.Len(ct, st.Inputs, 1)
		require.NotNil(ct, st.Inputs[0].FairShare)
		got := map[string]int{}
		for _, k := range st.Inputs[0].FairShare.Keys {
			got[k.Key] = k.Weight
		}
		require.Equal(ct, want, got)
	}, 30*time.Second, 50*time.Millisecond)

	waitForCount(t, store, a, lines*len(pods), 30*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	rows, err := store.Query(ctx, "*")
	require.NoError(t, err)
	byPod := map[string]map[string]int{}
	for _, r := range rows {
		if byPod[r["kubernetes.pod_name"]] == nil {
			byPod[r["kubernetes.pod_name"]] = map[string]int{}
		}
		byPod[r["kubernetes.pod_name"]][r["_msg"]]++
	}
	for _, p := range pods {
		require.Len(t, byPod[p.name], lines, p.name)
		for line, n := range byPod[p.name] {
			require.Equal(t, 1, n, "%s: %q stored once", p.name, line)
		}
	}
	require.Equal(t, 1, a.Stderr.Count("is not a weight"), "one warning for typo-0: %s", agenttest.Tail(a.Stderr.String(), 20))
	require.Contains(t, a.Stderr.String(), "typo-0")
	require.Contains(t, a.Stderr.String(), "lots")
	require.Equal(t, 0, a.Stop(t))
}

// getJSONc is getJSON inside EventuallyWithT.
func getJSONc(c *assert.CollectT, url string, v any) {
	resp, err := http.Get(url)
	require.NoError(c, err)
	defer resp.Body.Close()
	require.Equal(c, http.StatusOK, resp.StatusCode, url)
	require.NoError(c, json.NewDecoder(resp.Body).Decode(v))
}
