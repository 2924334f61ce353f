package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicelog/sluice/internal/kubetest"
	"github.com/sluicelog/sluice/internal/testcert"
)

// kubeletCluster is a real kube-apiserver with one Node, node-a, whose
// kubelet endpoint is a fakeKubelet on 127.0.0.1 serving the log files
// of dir: pods/log goes through the API server to it, as in a cluster.
type kubeletCluster struct {
	*kubetest.Cluster
	kubelet *fakeKubelet
	dir     string
}

func startKubeletCluster(t *testing.T, dir string) *kubeletCluster {
	t.Helper()
	cert, key := testcert.Write(t, t.TempDir())
	k := newFakeKubelet(t, dir, cert, key)
	// The API server checks the kubelet's serving certificate; it finds
	// the kubelet at the node's InternalIP (--kubelet-preferred-address-
	// types) and status.daemonEndpoints.kubeletEndpoint.Port.
	c := kubetest.Start(t, kubetest.WithAPIServerFlags("--kubelet-certificate-authority="+cert))
	ctx := t.Context()
	node, err := c.Client().CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = k.port(t)
	_, err = c.Client().CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	require.NoError(t, err)
	return &kubeletCluster{Cluster: c, kubelet: k, dir: dir}
}

// pod creates a running pod on node-a with containers named cs and
// returns each container's current log file.
func (kc *kubeletCluster) pod(t *testing.T, ns, name string, labels map[string]string, owner *metav1.OwnerReference, cs ...string) map[string]*podFile {
	t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}, Spec: corev1.PodSpec{NodeName: "node-a"}}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	for _, c := range cs {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "registry.example/" + c + ":1"})
	}
	kc.CreatePod(t, p)
	running := kc.SetPodRunning(t, ns, name)
	a := &agent{dir: kc.dir}
	files := map[string]*podFile{}
	for _, c := range cs {
		files[c] = a.fileOf(t, running, c)
	}
	return files
}

// deployment creates Deployment name and its ReplicaSet name-7d9f, as
// the controllers would, and returns the labels and the owner reference
// of the ReplicaSet's pods.
func (kc *kubeletCluster) deployment(t *testing.T, ns, name string) (map[string]string, *metav1.OwnerReference) {
	t.Helper()
	ctx, cs := t.Context(), kc.Client()
	kc.EnsureNamespace(t, ns)
	ctrl := true
	labels := map[string]string{"app": name, "pod-template-hash": "7d9f"}
	dep, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "x"}}}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	rs, err := cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-7d9f", Labels: labels, OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: dep.UID, Controller: &ctrl}}},
		Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "x"}}}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	return labels, &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &ctrl}
}

// writeAt appends CRI lines stamped at, one nanosecond apart.
func (f *podFile) writeAt(t *testing.T, at time.Time, lines ...string) {
	t.Helper()
	appendCRI(t, f.path, at, lines...)
}

func appendCRI(t *testing.T, path string, at time.Time, lines ...string) {
	t.Helper()
	var b strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&b, "%s stdout F %s\n", at.Add(time.Duration(i)).UTC().Format(time.RFC3339Nano), l)
	}
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = fh.WriteString(b.String())
	require.NoError(t, err)
	require.NoError(t, fh.Close())
}

// TestHistoryFromKubernetesAPI: with no store configured, history comes
// from pods/log through a real kube-apiserver and the kubelet endpoint of
// the pods' node, with the options kubectl logs passes (sinceTime,
// tailLines, previous, timestamps); workloads resolve to their pods by
// owner references; completion asks the same API server.
func TestHistoryFromKubernetesAPI(t *testing.T) {
	requireBinaries(t)
	kc := startKubeletCluster(t, t.TempDir())

	// deploy/api -> ReplicaSet api-7d9f -> pod api-7d9f-aaaaa; api-stray
	// has the same labels and no owner.
	labels, rsRef := kc.deployment(t, "shop", "api")
	api := kc.pod(t, "shop", "api-7d9f-aaaaa", labels, rsRef, "app", "sidecar")
	stray := kc.pod(t, "shop", "api-stray", map[string]string{"app": "api"}, nil, "app")
	web := kc.pod(t, "shop", "web-1", map[string]string{"app": "web"}, nil, "nginx")
	other := kc.pod(t, "other", "x-1", map[string]string{"app": "api"}, nil, "app")
	// web-1's nginx restarted: its previous instance's file.
	kc.UpdatePodStatus(t, "shop", "web-1", func(p *corev1.Pod) {
		p.Status.ContainerStatuses[0].RestartCount = 1
		p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, ContainerID: "containerd://" + strings.Repeat("e", 64)}
	})

	now := time.Now()
	api["app"].writeAt(t, now.Add(-2*time.Hour), "old api")
	api["app"].writeAt(t, now.Add(-10*time.Minute), "api 1", "api 2", "api 3")
	api["sidecar"].writeAt(t, now.Add(-9*time.Minute), "side 1")
	stray["app"].writeAt(t, now.Add(-8*time.Minute), "stray 1")
	web["nginx"].writeAt(t, now.Add(-7*time.Minute), "web 1", "web 2")
	appendCRI(t, web["nginx"].path+".previous", now.Add(-20*time.Minute), "web crashed")
	other["app"].writeAt(t, now.Add(-6*time.Minute), "other 1")

	kubeconfig := kc.WriteKubeconfig(t, kc.AdminToken)
	env := cliEnv("KUBECONFIG=" + kubeconfig)
	const (
		api1, api2, api3 = "shop/api-7d9f-aaaaa app │ api 1", "shop/api-7d9f-aaaaa app │ api 2", "shop/api-7d9f-aaaaa app │ api 3"
		oldAPI           = "shop/api-7d9f-aaaaa app │ old api"
		side1            = "shop/api-7d9f-aaaaa sidecar │ side 1"
		stray1           = "shop/api-stray app │ stray 1"
		web1, web2       = "shop/web-1 nginx │ web 1", "shop/web-1 nginx │ web 2"
		other1           = "other/x-1 app │ other 1"
	)
	const sinceStray = "<8m30s before the writes>"
	for _, tc := range []struct {
		args []string
		want []string
	}{
		// The last hour, every container, oldest first across them.
		{[]string{"-n", "shop"}, []string{api1, api2, api3, side1, stray1, web1, web2}},
		{[]string{"-n", "shop", "--tail", "1"}, []string{api3, side1, stray1, web2}},
		{[]string{"-n", "shop", "--tail", "2", "-c", "^app$"}, []string{api2, api3, stray1}},
		{[]string{"-n", "shop", "--since", "1d", "-c", "app"}, []string{oldAPI, api1, api2, api3, stray1}},
		{[]string{"-n", "shop", "--since", sinceStray}, []string{stray1, web1, web2}},
		{[]string{"-n", "shop", "deploy/api"}, []string{api1, api2, api3, side1}},
		{[]string{"-n", "shop", "deploy/api", "-E", "side"}, []string{api1, api2, api3}},
		{[]string{"-A", "-l", "app in (api)", "-e", "api [12]", "--exclude-pod", "stray"}, []string{api3, side1, other1}},
		{[]string{"-A", "-i", "1$", "-i", "crashed"}, []string{api1, side1, stray1, web1, other1}},
		{[]string{"-n", "shop", "--previous"}, []string{"shop/web-1 nginx │ web crashed"}},
		{[]string{"-n", "shop", "--node", "node-b"}, nil},
	} {
		for i, a := range tc.args {
			if a == sinceStray {
				// 8m30s before the lines were written, however long the
				// cases before took: at load 40 they took more than the
				// 30 s between stray 1 and side 1, and stray 1 fell out.
				tc.args[i] = strconv.Itoa(int((time.Since(now) + 8*time.Minute + 30*time.Second).Seconds())) + "s"
			}
		}
		out, stderr, code := runCLI(t, env, tc.args...)
		require.Equal(t, 0, code, "%v: %s", tc.args, stderr)
		require.Empty(t, stderr, "%v", tc.args)
		require.Equal(t, tc.want, splitLines(out), "%v", tc.args)
	}

	// What reached the kubelet: kubectl's parameters.
	kc.kubelet.mu.Lock()
	reqs := strings.Join(kc.kubelet.requests, "\n")
	kc.kubelet.mu.Unlock()
	require.Contains(t, reqs, "api-7d9f-aaaaa/app?limitBytes=16777216&tailLines=1&timestamps=true")
	require.Contains(t, reqs, "web-1/nginx?limitBytes=16777216&previous=true&sinceTime=")
	require.Regexp(t, `api-stray/app\?limitBytes=16777216&sinceTime=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\dZ&timestamps=true`, reqs)

	// --template and --timestamps in a zone.
	out, _, code := runCLI(t, env, "-n", "shop", "web-1", "--template", "{{.NodeName}} {{.PodName}}/{{.ContainerName}} {{.Message}}")
	require.Equal(t, 0, code)
	require.Equal(t, "node-a web-1/nginx web 1\nnode-a web-1/nginx web 2\n", out)
	out, _, code = runCLI(t, env, "-n", "shop", "web-1", "--timestamps", "--timezone", "Asia/Tokyo", "--template", "kubectl", "--tail", "1")
	require.Equal(t, 0, code)
	ts := now.Add(-7*time.Minute + 1).In(mustZone(t, "Asia/Tokyo")).Format("2006-01-02T15:04:05.000000000Z07:00")
	require.Equal(t, ts+" web 2\n", out)

	// RBAC: a user who may not read pods gets one line.
	nobody := kc.WriteKubeconfig(t, kc.ServiceAccountToken(t, "shop", "nobody"))
	_, stderr, code := runCLI(t, cliEnv("KUBECONFIG="+nobody), "-n", "shop")
	require.Equal(t, 1, code)
	require.Equal(t, `logs: forbidden by RBAC: list pods in namespace shop: pods is forbidden: User "system:serviceaccount:shop:nobody" cannot list resource "pods" in API group "" in the namespace "shop"`+"\n", stderr)
	_, stderr, code = runCLI(t, env, "-n", "shop", "deploy/nope")
	require.Equal(t, 1, code)
	require.Equal(t, "logs: Deployment nope in namespace shop not found\n", stderr)

	// Completion asks the API server, as the shell scripts do.
	words, directive := completions(t, env, "-n", "")
	require.Subset(t, words, []string{"other", "shop"})
	require.Equal(t, ":4", directive, "no file completion")
	words, _ = completions(t, env, "-n", "shop", "")
	require.Equal(t, []string{"api-7d9f-aaaaa", "api-stray", "web-1"}, words)
	words, _ = completions(t, env, "-n", "shop", "w")
	require.Equal(t, []string{"web-1"}, words)
	words, _ = completions(t, env, "-o", "")
	require.Equal(t, []string{"text", "json", "raw"}, words)
	words, _ = completions(t, env, "--context", "")
	require.Equal(t, []string{"kubetest"}, words)
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}
