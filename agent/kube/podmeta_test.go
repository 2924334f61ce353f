package kube

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodMeta answers from the cache without waiting: a pod's labels and
// annotations (fair_share's sluice.io/weight), nothing for a pod not
// cached, and a pod's change once the watch brings it.
func TestPodMeta(t *testing.T) {
	p := testPod("shop", "api-1", "uid-1")
	p.Labels = map[string]string{"app": "api"}
	p.Annotations = map[string]string{"sluice.io/weight": "7"}
	e, client := newTestEnricher(t, testConfig(), p)
	lbls, ann, ok := e.PodMeta("shop", "api-1")
	require.True(t, ok)
	require.Equal(t, "api", lbls["app"])
	require.Equal(t, "7", ann["sluice.io/weight"])
	_, _, ok = e.PodMeta("shop", "nope")
	require.False(t, ok, "not cached: no wait, no answer")

	p.Annotations["sluice.io/weight"] = "3"
	_, err := client.CoreV1().Pods("shop").Update(context.Background(), p, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, ann, ok := e.PodMeta("shop", "api-1")
		return ok && ann["sluice.io/weight"] == "3"
	}, 10*time.Second, 5*time.Millisecond)
}
