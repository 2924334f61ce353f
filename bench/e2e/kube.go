package e2e

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicelog/sluice/bench/workload"
	"github.com/sluicelog/sluice/internal/kubetest"
)

// nodeName is the agent's node_name in the bench config and the node of
// the workload's pods.
const nodeName = "bench-node"

// startKube runs a real kube-apiserver and etcd (bin/kube, `make
// kube-tools`) holding one running pod per workload file, on the agent's
// node, so the agent enriches every record from its informer cache. It
// returns the kubernetes section of the agent config and a stop func.
func startKube(ctx context.Context, spec workload.Spec, logf func(string, ...any)) (string, func()) {
	prog := kubetest.NewProgram(ctx, logf)
	c := kubetest.Start(prog)
	for f := range spec.Files {
		name := workload.PodName(f)
		c.CreatePod(prog, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: workload.Namespace, Name: name,
				Labels:      map[string]string{"app": "bench", "app.kubernetes.io/name": "bench", "file": strconv.Itoa(f)},
				Annotations: map[string]string{"team": "bench"},
			},
			Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "app", Image: "registry.example/bench:1"}}},
		})
		c.UpdatePodStatus(prog, workload.Namespace, name, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{
				Name: "app", Image: "registry.example/bench:1", ImageID: "registry.example/bench@sha256:0",
				ContainerID: "containerd://" + workload.ContainerID(f),
			}}
		})
	}
	kubeconfig := c.WriteKubeconfig(prog, c.AdminToken)
	return fmt.Sprintf("kubernetes: { enabled: true, kubeconfig: %q, annotations: true }", kubeconfig), prog.Close
}
