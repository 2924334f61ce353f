package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// followingStreams is how many follow=true requests the kubelet serves.
func (k *fakeKubelet) followingStreams() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.following
}

func (k *fakeKubelet) waitFollowing(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return k.followingStreams() == n }, 30*time.Second, 20*time.Millisecond,
		"want %d pods/log follow streams open at the kubelet", n)
}

// TestFollowThroughKubernetesAPI: with no sluice agents installed, `logs
// -f` says so and follows through a real kube-apiserver's pods/log, one
// follow stream per container (proxied to the node's kubelet endpoint),
// as kubectl logs -f and stern do: lines from the moment it starts, pods
// that start later picked up through the watch, a workload's pods only
// for deploy/NAME, and with --since the history before, joined without a
// gap or a duplicate.
func TestFollowThroughKubernetesAPI(t *testing.T) {
	requireBinaries(t)
	kc := startKubeletCluster(t, t.TempDir())
	labels, rsRef := kc.deployment(t, "shop", "api")
	api := kc.pod(t, "shop", "api-7d9f-aaaaa", labels, rsRef, "app", "sidecar")
	web := kc.pod(t, "shop", "web-1", map[string]string{"app": "web"}, nil, "nginx")
	t0 := time.Now().Add(-time.Minute)
	api["app"].writeAt(t, t0, "before start")
	api["sidecar"].writeAt(t, t0.Add(time.Millisecond), "side before")
	web["nginx"].writeAt(t, t0, "web before")
	env := cliEnv("KUBECONFIG=" + kc.WriteKubeconfig(t, kc.AdminToken))

	all := startCLI(t, env, "-f", "-n", "shop")
	kc.kubelet.waitFollowing(t, 3)
	dep := startCLI(t, env, "-f", "-n", "shop", "deploy/api", "--since", "1h")
	kc.kubelet.waitFollowing(t, 5)

	api["app"].write(t, "api 1")
	web["nginx"].write(t, "web 1")
	api["sidecar"].write(t, "side 1")
	api["app"].write(t, "api 2")
	// A pod that starts later: the watch brings it to both.
	late := kc.pod(t, "shop", "api-7d9f-bbbbb", labels, rsRef, "app")["app"]
	late.write(t, "late 1")
	kc.kubelet.waitFollowing(t, 7)
	late.write(t, "late 2")

	const (
		api1, api2   = "shop/api-7d9f-aaaaa app │ api 1", "shop/api-7d9f-aaaaa app │ api 2"
		side1, web1  = "shop/api-7d9f-aaaaa sidecar │ side 1", "shop/web-1 nginx │ web 1"
		late1, late2 = "shop/api-7d9f-bbbbb app │ late 1", "shop/api-7d9f-bbbbb app │ late 2"
		before       = "shop/api-7d9f-aaaaa app │ before start"
		sideBefore   = "shop/api-7d9f-aaaaa sidecar │ side before"
	)
	all.waitFor(t, api1, api2, side1, web1, late1, late2)
	dep.waitFor(t, api1, api2, side1, late1, late2)
	require.Equal(t, 0, dep.interrupt(t))

	// The API server goes away and comes back: every stream breaks and is
	// opened again from its last line's time, so what was written
	// meanwhile comes once and nothing comes twice.
	kc.StopAPIServer(t)
	api["app"].write(t, "while down")
	kc.StartAPIServer(t)
	api["app"].write(t, "after")
	// A container restarts: the watch brings its new instance.
	newID := strings.Repeat("f", 64)
	kc.UpdatePodStatus(t, "shop", "web-1", func(p *corev1.Pod) {
		st := &p.Status.ContainerStatuses[0]
		st.RestartCount, st.ContainerID = 1, "containerd://"+newID
	})
	restarted := &podFile{path: filepath.Join(kc.dir, "web-1_shop_nginx-"+newID+".log")}
	restarted.write(t, "web again")
	const (
		whileDown, after = "shop/api-7d9f-aaaaa app │ while down", "shop/api-7d9f-aaaaa app │ after"
		webAgain         = "shop/web-1 nginx │ web again"
	)
	all.waitFor(t, whileDown, after, webAgain)
	require.Equal(t, 0, all.interrupt(t))

	got := all.lines()
	require.ElementsMatch(t, []string{api1, api2, side1, web1, late1, late2, whileDown, after, webAgain}, got, "from the start of logs -f on, each line once")
	inOrder(t, got, api1, api2)
	inOrder(t, got, api2, whileDown)
	inOrder(t, got, whileDown, after)
	inOrder(t, got, late1, late2)
	// The breaks are said, once per container and kind of failure.
	require.Contains(t, all.stderr.String(), `level=WARN msg="container log stream broke; retrying" container=shop/api-7d9f-aaaaa/app`)
	require.True(t, strings.HasPrefix(all.stderr.String(), `level=INFO msg="no sluice agents found (no running pod in namespace sluice matches app.kubernetes.io/name=sluice,app.kubernetes.io/component=agent): following through the Kubernetes API instead, one pods/log stream per container, as kubectl logs -f does"`+"\n"), all.stderr.String())

	got = dep.lines()
	require.Equal(t, `level=INFO msg="no sluice agents found (no running pod in namespace sluice matches app.kubernetes.io/name=sluice,app.kubernetes.io/component=agent): following through the Kubernetes API instead, one pods/log stream per container, as kubectl logs -f does"`+"\n", dep.stderr.String())
	require.ElementsMatch(t, []string{before, sideBefore, api1, api2, side1, late1, late2}, got, "deploy/api: history, then live, each line once")
	require.Equal(t, []string{before, sideBefore}, got[:2], "history first, oldest first")
	inOrder(t, got, api1, api2)
	inOrder(t, got, late1, late2)

	// The streams end with the CLI.
	kc.kubelet.waitFollowing(t, 0)
}

// inOrder fails unless a comes before b in lines.
func inOrder(t *testing.T, lines []string, a, b string) {
	t.Helper()
	require.Less(t, slices.Index(lines, a), slices.Index(lines, b), "%q before %q", a, b)
}
