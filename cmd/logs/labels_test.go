package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicelog/sluice/internal/kubetest"
)

// TestLabelSelectorsLive: pods with labels on two nodes, known to a real
// kube-apiserver; each node's agent enriches its records from it, and
// `logs -f -l` prints exactly the lines of the pods the selector picks,
// equality-based and set-based, as kubectl -l would pick them. The
// agents are tapped with --agent: a real kube-apiserver refuses to proxy
// to pods on loopback addresses (TestLiveThroughAPIServer covers the
// proxy with an imitation).
func TestLabelSelectorsLive(t *testing.T) {
	requireBinaries(t)
	c := kubetest.Start(t)
	base := filepath.Join("..", "..", "deploy", "base")
	c.ApplyRBACFiles(t, "sluice", filepath.Join(base, "namespace.yaml"), filepath.Join(base, "rbac.yaml"))
	kc := c.WriteKubeconfig(t, c.ServiceAccountToken(t, "sluice", "sluice"))

	type spec struct {
		name, node string
		labels     map[string]string
	}
	specs := []spec{
		{"api-1", "node-a", map[string]string{"app": "api", "tier": "backend"}},
		{"api-2", "node-b", map[string]string{"app": "api", "tier": "backend", "canary": "true"}},
		{"web-1", "node-a", map[string]string{"app": "web", "tier": "frontend"}},
		{"db-1", "node-b", map[string]string{"app": "db", "tier": "data"}},
		{"bare-1", "node-b", nil},
	}
	agents := map[string]*agent{
		"node-a": startAgent(t, agentOpts{node: "node-a", kubeconfig: kc}),
		"node-b": startAgent(t, agentOpts{node: "node-b", kubeconfig: kc}),
	}
	files := map[string]*podFile{}
	for _, s := range specs {
		c.CreatePod(t, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: s.name, Labels: s.labels},
			Spec:       corev1.PodSpec{NodeName: s.node, Containers: []corev1.Container{{Name: "app", Image: "registry.example/" + s.name + ":1"}}},
		})
		files[s.name] = agents[s.node].fileOf(t, c.SetPodRunning(t, "shop", s.name), "app")
	}

	// A witness without a selector shows when every line has passed the
	// agents' taps: what the selective tail has not shown by then, it
	// was not sent.
	tapURLs := []string{"--agent", agents["node-a"].url, "--agent", agents["node-b"].url}
	witness := startCLI(t, cliEnv(), append([]string{"-f"}, tapURLs...)...)
	connected := 1
	for _, a := range agents {
		a.WaitLog(t, "tap client connected", connected)
	}
	for _, tc := range []struct {
		selector string
		want     []string
	}{
		{"app=api", []string{"api-1", "api-2"}},
		{"app in (web, db)", []string{"web-1", "db-1"}},
		{"tier notin (backend, data)", []string{"web-1", "bare-1"}},
		{"app=api,!canary", []string{"api-1"}},
		{"tier", []string{"api-1", "api-2", "web-1", "db-1"}},
		{"!app", []string{"bare-1"}},
	} {
		cl := startCLI(t, cliEnv(), append([]string{"-f", "-l", tc.selector}, tapURLs...)...)
		connected++
		for _, a := range agents {
			a.WaitLog(t, "tap client connected", connected)
		}
		var all, want []string
		for _, s := range specs {
			line := tc.selector + " from " + s.name
			files[s.name].write(t, line)
			all = append(all, "shop/"+s.name+" app │ "+line)
			if slices.Contains(tc.want, s.name) {
				want = append(want, all[len(all)-1])
			}
		}
		witness.waitFor(t, all...)
		cl.waitFor(t, want...)
		require.Equal(t, 0, cl.interrupt(t))
		require.ElementsMatch(t, want, cl.lines(), "-l %q", tc.selector)
	}
	require.Equal(t, 0, witness.interrupt(t))
}
