package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicelog/sluice/internal/kubetest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// TestPreviousFromStore: with a store, `logs --previous` prints the lines
// of the container instances the pods' statuses name as last terminated
// (their container ids, as a real kube-apiserver reports them), read
// from what a real agent shipped to a real VictoriaLogs: not the current
// instance's, not another pod's.
func TestPreviousFromStore(t *testing.T) {
	requireBinaries(t)
	c := kubetest.Start(t)
	store := vlstore.Start(t)
	a := startAgent(t, agentOpts{node: "node-a", store: store})

	for _, name := range []string{"api-1", "web-1"} {
		c.CreatePod(t, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
			Spec:       corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "app", Image: "registry.example/" + name + ":1"}}},
		})
	}
	api := a.fileOf(t, c.SetPodRunning(t, "shop", "api-1"), "app")
	web := a.fileOf(t, c.SetPodRunning(t, "shop", "web-1"), "app")
	// api-1's app crashed once: its previous instance's file, by its id.
	oldID := strings.Repeat("0c", 32)
	c.UpdatePodStatus(t, "shop", "api-1", func(p *corev1.Pod) {
		p.Status.ContainerStatuses[0].RestartCount = 1
		p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 2, ContainerID: "containerd://" + oldID}
	})
	crashed := &podFile{path: filepath.Join(a.dir, fmt.Sprintf("api-1_shop_app-%s.log", oldID)), ns: "shop", pod: "api-1", container: "app"}
	crashed.write(t, "starting", "panic: nil map")
	api.write(t, "starting again", "serving")
	web.write(t, "web serving")
	waitStored(t, store, 5)

	env := cliEnv("KUBECONFIG="+c.WriteKubeconfig(t, c.AdminToken), "SLUICE_ES_URL="+store.URL)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-n", "shop", "--previous"}, []string{"shop/api-1 app │ starting", "shop/api-1 app │ panic: nil map"}},
		{[]string{"-n", "shop", "-p", "--tail", "1"}, []string{"shop/api-1 app │ panic: nil map"}},
		{[]string{"-n", "shop", "-p", "web-"}, nil},
		{[]string{"-n", "shop", "api-1"}, []string{"shop/api-1 app │ starting", "shop/api-1 app │ panic: nil map", "shop/api-1 app │ starting again", "shop/api-1 app │ serving"}},
	} {
		out, stderr, code := runCLI(t, env, tc.args...)
		require.Equal(t, 0, code, "%v: %s", tc.args, stderr)
		require.Empty(t, stderr, "%v", tc.args)
		require.Equal(t, tc.want, splitLines(out), "%v", tc.args)
	}
}
