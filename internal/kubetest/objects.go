package kubetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// reqCtx bounds one helper's API calls; it also ends with the test.
func reqCtx(t TB) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), requestTimeout)
}

// EnsureNamespace creates the namespace unless it exists. No
// controller-manager runs, so a namespace is never finalized away.
func (c *Cluster) EnsureNamespace(t TB, name string) {
	t.Helper()
	ctx, cancel := reqCtx(t)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	_, err := c.Client().CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("kubetest: create namespace %s: %v", name, err)
	}
}

// ServiceAccountToken creates the namespace and the ServiceAccount unless
// they exist, and returns a token for it from the TokenRequest API (the
// serviceaccounts/token subresource, what a kubelet mounts into a pod).
// The identity is system:serviceaccount:NAMESPACE:NAME and has no RBAC
// permissions until the test binds some.
func (c *Cluster) ServiceAccountToken(t TB, namespace, name string) string {
	t.Helper()
	c.EnsureNamespace(t, namespace)
	ctx, cancel := reqCtx(t)
	defer cancel()
	sas := c.Client().CoreV1().ServiceAccounts(namespace)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := sas.Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("kubetest: create serviceaccount %s/%s: %v", namespace, name, err)
	}
	tr, err := sas.CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: new(int64(3600))},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubetest: token for serviceaccount %s/%s: %v", namespace, name, err)
	}
	return tr.Status.Token
}

// CreatePod creates a pod, in namespace "default" when it names none, after
// creating its namespace unless it exists. Set spec.nodeName to place it on
// a node: no scheduler runs, and the node need not exist as an object.
func (c *Cluster) CreatePod(t TB, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	pod = pod.DeepCopy()
	if pod.Namespace == "" {
		pod.Namespace = metav1.NamespaceDefault
	}
	c.EnsureNamespace(t, pod.Namespace)
	ctx, cancel := reqCtx(t)
	defer cancel()
	created, err := c.Client().CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubetest: create pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	return created
}

// UpdatePodStatus reads the pod, lets mutate change it and writes its
// status subresource back, retrying on a conflict: what a kubelet does.
// Only status changes are kept.
func (c *Cluster) UpdatePodStatus(t TB, namespace, name string, mutate func(*corev1.Pod)) *corev1.Pod {
	t.Helper()
	ctx, cancel := reqCtx(t)
	defer cancel()
	pods := c.Client().CoreV1().Pods(namespace)
	var updated *corev1.Pod
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get: %w", err)
		}
		mutate(pod)
		updated, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("kubetest: update status of pod %s/%s: %v", namespace, name, err)
	}
	return updated
}

// SetPodRunning gives the pod the status a kubelet reports for a running
// pod: phase Running, Ready, and a running status for every container with
// a containerd container ID and an image digest. The IDs derive from the
// pod's UID and the container's name, so a pod recreated under the same
// name gets new ones, as it would on a node.
func (c *Cluster) SetPodRunning(t TB, namespace, name string) *corev1.Pod {
	t.Helper()
	return c.UpdatePodStatus(t, namespace, name, func(pod *corev1.Pod) {
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		pod.Status.Phase = corev1.PodRunning
		pod.Status.StartTime = &now
		pod.Status.Conditions = nil
		for _, typ := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
			pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{
				Type: typ, Status: corev1.ConditionTrue, LastTransitionTime: now,
			})
		}
		pod.Status.ContainerStatuses = nil
		for _, ctr := range pod.Spec.Containers {
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
				Name:        ctr.Name,
				Image:       ctr.Image,
				ImageID:     imageRepo(ctr.Image) + "@sha256:" + digest("image", ctr.Image),
				ContainerID: "containerd://" + digest("container", string(pod.UID), ctr.Name),
				Ready:       true,
				Started:     new(true),
				State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
			})
		}
	})
}

// digest is a stable 64-hex-digit ID, the form of a container ID or an
// image digest.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// imageRepo drops the tag of an image reference ("nginx:1.27" -> "nginx"):
// an image ID names the repository and the digest.
func imageRepo(image string) string {
	if i := strings.LastIndexByte(image, ':'); i > strings.LastIndexByte(image, '/') {
		return image[:i]
	}
	return image
}
