package kubetest

import (
	"bytes"
	"os"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

// ApplyRBACFiles creates the Namespaces, ServiceAccounts, ClusterRoles and
// ClusterRoleBindings of YAML files (documents split by "---" lines), as
// an operator's `kubectl apply` would; a ServiceAccount without a
// namespace goes into namespace (kustomize's namespace: field).
func (c *Cluster) ApplyRBACFiles(t TB, namespace string, paths ...string) {
	t.Helper()
	ctx, cancel := reqCtx(t)
	defer cancel()
	client := c.Client()
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("kubetest: %v", err)
		}
		for _, doc := range bytes.Split(raw, []byte("\n---\n")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
			if err != nil {
				t.Fatalf("kubetest: decode %s: %v", path, err)
			}
			switch o := obj.(type) {
			case *corev1.Namespace:
				_, err = client.CoreV1().Namespaces().Create(ctx, o, metav1.CreateOptions{})
			case *corev1.ServiceAccount:
				if o.Namespace == "" {
					o.Namespace = namespace
				}
				c.EnsureNamespace(t, o.Namespace)
				_, err = client.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
			case *rbacv1.ClusterRole:
				_, err = client.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
			case *rbacv1.ClusterRoleBinding:
				_, err = client.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
			default:
				t.Fatalf("kubetest: %s: %T is not an RBAC object", path, obj)
			}
			if err != nil {
				t.Fatalf("kubetest: create from %s: %v", path, err)
			}
		}
	}
}
