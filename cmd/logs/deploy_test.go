package main

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFollowDeploymentLive: `logs -f deploy/api` resolves the Deployment
// through a real kube-apiserver and prints, live, exactly the lines of
// the pods it owns (through its ReplicaSet), as the agent enriched them
// from the same API server: not those of a pod with the same labels and
// no owner, nor another app's. The agent is tapped with --agent: a real
// kube-apiserver refuses to proxy to pods on loopback addresses.
func TestFollowDeploymentLive(t *testing.T) {
	requireBinaries(t)
	dir := t.TempDir()
	kc := startKubeletCluster(t, dir)
	base := filepath.Join("..", "..", "deploy", "base")
	kc.ApplyRBACFiles(t, "sluice", filepath.Join(base, "namespace.yaml"), filepath.Join(base, "rbac.yaml"))
	a := startAgent(t, agentOpts{node: "node-a", dir: dir, kubeconfig: kc.WriteKubeconfig(t, kc.ServiceAccountToken(t, "sluice", "sluice"))})

	labels, rsRef := kc.deployment(t, "shop", "api")
	api := kc.pod(t, "shop", "api-7d9f-aaaaa", labels, rsRef, "app", "sidecar")
	stray := kc.pod(t, "shop", "api-stray", map[string]string{"app": "api"}, nil, "app")
	web := kc.pod(t, "shop", "web-1", map[string]string{"app": "web"}, nil, "nginx")

	env := cliEnv("KUBECONFIG=" + kc.WriteKubeconfig(t, kc.AdminToken))
	witness := startCLI(t, env, "-f", "-n", "shop", "--agent", a.url)
	a.WaitLog(t, "tap client connected", 1)
	c := startCLI(t, env, "-f", "-n", "shop", "deploy/api", "--agent", a.url)
	a.WaitLog(t, "tap client connected", 2)

	var all []string
	for i, f := range []*podFile{api["app"], api["sidecar"], stray["app"], web["nginx"], api["app"]} {
		line := "line " + string(rune('a'+i))
		f.write(t, line)
		all = append(all, "shop/"+f.pod+" "+f.container+" │ "+line)
	}
	witness.waitFor(t, all...)
	want := []string{all[0], all[1], all[4]}
	c.waitFor(t, want...)
	require.Equal(t, 0, c.interrupt(t))
	got := c.lines()
	require.ElementsMatch(t, want, got, "deploy/api: its own pods' lines")
	require.Less(t, slices.Index(got, all[0]), slices.Index(got, all[4]), "in order within a container")
	require.Empty(t, c.stderr.String())
	require.Equal(t, 0, witness.interrupt(t))
}

// TestAgentReadsBeforeCacheSync: an agent whose API server refuses it
// (no RBAC binding yet) reads its files from the start — it does not
// wait out sync_timeout (an hour here) with its files closed. What it
// read waits for the pod cache, /readyz says why, and at shutdown it is
// delivered with the names from the file path.
func TestAgentReadsBeforeCacheSync(t *testing.T) {
	requireBinaries(t)
	dir := t.TempDir()
	kc := startKubeletCluster(t, dir)
	kc.EnsureNamespace(t, "sluice")
	unbound := kc.WriteKubeconfig(t, kc.ServiceAccountToken(t, "sluice", "unbound"))
	a := startAgent(t, agentOpts{node: "node-a", dir: dir, kubeconfig: unbound, syncTimeout: time.Hour})
	f := kc.pod(t, "shop", "api-1", map[string]string{"app": "api"}, nil, "app")["app"]
	f.write(t, "before the cache", "still waiting")

	require.Eventually(t, func() bool {
		return a.Metric(t, "sluice_files_open") == 1 && a.Metric(t, "sluice_input_records_total") == 2
	}, 30*time.Second, 20*time.Millisecond, "the agent did not read its file before the pod cache synced")
	resp, err := http.Get(a.url + "/readyz")
	require.NoError(t, err)
	body := make([]byte, 512)
	n, _ := resp.Body.Read(body)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Contains(t, string(body[:n]), "kubernetes: pod cache not synced")
	require.NotContains(t, a.Stdout.String(), "before the cache", "records waited for the cache")

	require.Equal(t, 0, a.Stop(t))
	out := a.Stdout.String()
	for _, l := range []string{"before the cache", "still waiting"} {
		require.Contains(t, out, l, "delivered at shutdown")
	}
	require.Contains(t, out, `"pod_name":"api-1"`)
	require.NotContains(t, out, `"labels"`, "no metadata: the names from the file path")
	require.True(t, strings.Contains(a.Stderr.String(), "forbidden"), "the agent logs the refusal")
}
