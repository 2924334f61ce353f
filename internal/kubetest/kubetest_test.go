package kubetest

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func testPod(name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "apps", Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "main", Image: "registry.example/" + name + ":1.0"}},
		},
	}
}

func TestPodsOnNodes(t *testing.T) {
	c := Start(t)
	for _, p := range []*corev1.Pod{testPod("web", "node-a"), testPod("db", "node-b")} {
		c.CreatePod(t, p)
		c.SetPodRunning(t, p.Namespace, p.Name)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	list, err := c.Client().CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", "node-a").String(),
	})
	if err != nil {
		t.Fatalf("list pods on node-a: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "web" {
		t.Fatalf("pods on node-a: got %d %v, want exactly web", len(list.Items), podNames(list.Items))
	}
	pod := list.Items[0]
	if pod.Status.Phase != corev1.PodRunning || len(pod.Status.ContainerStatuses) != 1 {
		t.Fatalf("web status: phase %q, %d container statuses", pod.Status.Phase, len(pod.Status.ContainerStatuses))
	}
	cs := pod.Status.ContainerStatuses[0]
	if !strings.HasPrefix(cs.ContainerID, "containerd://") || len(cs.ContainerID) != len("containerd://")+64 {
		t.Errorf("containerID %q, want containerd:// and 64 hex digits", cs.ContainerID)
	}
	if want := "registry.example/web@sha256:"; !strings.HasPrefix(cs.ImageID, want) {
		t.Errorf("imageID %q, want prefix %q", cs.ImageID, want)
	}
	if cs.State.Running == nil || !cs.Ready {
		t.Errorf("container state %+v ready %v, want running and ready", cs.State, cs.Ready)
	}
}

func TestServiceAccountRBAC(t *testing.T) {
	c := Start(t)
	const ns, name = "logging", "sluice"
	token := c.ServiceAccountToken(t, ns, name)

	// The token reaches the server through a kubeconfig file, the way the
	// agent's -kubeconfig flag would load it.
	cfg, err := clientcmd.BuildConfigFromFlags("", c.WriteKubeconfig(t, token))
	if err != nil {
		t.Fatalf("load kubeconfig: %v", err)
	}
	sa, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("clientset: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	_, err = sa.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("list pods without a binding: got %v, want Forbidden", err)
	}
	if !strings.Contains(err.Error(), "system:serviceaccount:"+ns+":"+name) {
		t.Errorf("Forbidden names another user: %v", err)
	}

	admin := c.Client().RbacV1()
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "sluice-pod-reader"},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"},
		}},
	}
	if _, err := admin.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create clusterrole: %v", err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "sluice-pod-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}},
	}
	if _, err := admin.ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create clusterrolebinding: %v", err)
	}

	// The RBAC authorizer reads roles from an informer, so the grant takes
	// effect a moment after the write.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = sa.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsForbidden(err) || time.Now().After(deadline) {
			t.Fatalf("list pods after the binding: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The role grants pods only.
	if _, err := sa.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list namespaces: got %v, want Forbidden", err)
	}
}

func TestRestartAPIServer(t *testing.T) {
	c := Start(t)
	client := c.Client()
	c.CreatePod(t, testPod("before", "node-a"))

	// A node-filtered pod informer, as the agent runs one: it has to
	// reconnect to the restarted server on its own.
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", "node-a").String()
		}))
	podInformer := factory.Core().V1().Pods().Informer()
	stop := make(chan struct{})
	defer func() {
		close(stop)
		factory.Shutdown()
	}()
	factory.Start(stop)
	syncCtx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), podInformer.HasSynced) {
		t.Fatal("pod informer did not sync")
	}

	c.RestartAPIServer(t)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := client.CoreV1().Pods("apps").Get(ctx, "before", metav1.GetOptions{}); err != nil {
		t.Fatalf("get pod after restart: %v", err)
	}
	c.CreatePod(t, testPod("after", "node-a"))
	c.CreatePod(t, testPod("elsewhere", "node-b"))

	// The reflector backs off up to several seconds while the server is
	// down before it watches again.
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, exists, err := podInformer.GetStore().GetByKey("apps/after")
		if err != nil {
			t.Fatalf("informer store: %v", err)
		}
		if exists {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pod created after the restart never reached the informer")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, exists, _ := podInformer.GetStore().GetByKey("apps/elsewhere"); exists {
		t.Error("informer filtered to node-a holds a pod of node-b")
	}
}

func TestMissingBinaries(t *testing.T) {
	t.Setenv("KUBE_BIN_DIR", t.TempDir())
	_, err := findBinaries()
	if err == nil || !strings.Contains(err.Error(), "make kube-tools") {
		t.Fatalf("findBinaries in an empty dir: %v, want a hint to run `make kube-tools`", err)
	}
}

func podNames(pods []corev1.Pod) []string {
	var names []string
	for _, p := range pods {
		names = append(names, p.Namespace+"/"+p.Name)
	}
	return names
}
