package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/sluicelog/sluice/internal/kubetest"
)

// applyTimeout bounds each call to the API server.
const applyTimeout = 30 * time.Second

// objects is everything the kustomization rendered, the Namespace first,
// in the order kubectl applies them (RBAC before the workload using it).
func (b *bundle) objects() []runtime.Object {
	var out []runtime.Object
	add := func(o runtime.Object) { out = append(out, o) }
	for _, o := range b.namespaces {
		add(o)
	}
	for _, o := range b.accounts {
		add(o)
	}
	for _, o := range b.roles {
		add(o)
	}
	for _, o := range b.bindings {
		add(o)
	}
	for _, o := range b.configMaps {
		add(o)
	}
	for _, o := range b.secrets {
		add(o)
	}
	for _, o := range b.services {
		add(o)
	}
	for _, o := range b.daemonSets {
		add(o)
	}
	for _, o := range b.serviceMonitors {
		add(o)
	}
	for _, o := range b.podMonitors {
		add(o)
	}
	for _, o := range b.rules {
		add(o)
	}
	return out
}

// applier applies objects the way `kubectl apply --server-side` does: a
// dynamic client, the REST mapping from the server's discovery, and the
// server's strict field validation.
type applier struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newApplier(t *testing.T, c *kubetest.Cluster) *applier {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(c.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
}

// unstructuredOf is the object as it goes over the wire, without what the
// typed structs always serialise but the manifests never set.
func unstructuredOf(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
	return u, nil
}

func (a *applier) resource(u *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := u.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: no REST mapping: %w", gvk, err)
	}
	if m.Scope.Name() == "namespace" {
		if u.GetNamespace() == "" {
			return nil, fmt.Errorf("%s %s: namespaced but has no namespace", gvk.Kind, u.GetName())
		}
		return a.dyn.Resource(m.Resource).Namespace(u.GetNamespace()), nil
	}
	return a.dyn.Resource(m.Resource), nil
}

// apply sends obj with server-side apply, first as a dry run and then for
// real, with strict field validation: an unknown or duplicate field is an
// error, not a silent drop.
func (a *applier) apply(ctx context.Context, obj runtime.Object) error {
	u, err := unstructuredOf(obj)
	if err != nil {
		return err
	}
	what := u.GetKind() + " " + u.GetName()
	res, err := a.resource(u)
	if err != nil {
		return err
	}
	body, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	force := true
	for _, dry := range [][]string{{metav1.DryRunAll}, nil} {
		ctx, cancel := context.WithTimeout(ctx, applyTimeout)
		_, err := res.Patch(ctx, u.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{
			FieldManager: "kubectl", Force: &force, DryRun: dry, FieldValidation: "Strict",
		})
		cancel()
		if err != nil {
			return fmt.Errorf("apply %s (dry run %v): %w", what, dry != nil, err)
		}
	}
	return nil
}

// stored checks that the server holds obj as rendered: every field the
// manifest sets is there with the same value (the server adds defaults).
func (a *applier) stored(ctx context.Context, obj runtime.Object) error {
	u, err := unstructuredOf(obj)
	if err != nil {
		return err
	}
	res, err := a.resource(u)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, applyTimeout)
	defer cancel()
	got, err := res.Get(ctx, u.GetName(), metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("%s %s: read back: %w", u.GetKind(), u.GetName(), err)
	}
	if got.GetUID() == "" {
		return fmt.Errorf("%s %s: no uid", u.GetKind(), u.GetName())
	}
	return subset(u.Object, got.Object, u.GetKind()+" "+u.GetName())
}

// subset reports the first value of want that got lacks or holds
// differently. Lists must match element by element.
func subset(want, got any, at string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: server has %T, rendered a map", at, got)
		}
		for k, v := range w {
			gv, ok := g[k]
			if !ok {
				if isEmpty(v) {
					continue
				}
				return fmt.Errorf("%s.%s: rendered %v, the server dropped it", at, k, v)
			}
			if err := subset(v, gv, at+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: server has %v, rendered %v", at, got, want)
		}
		for i := range w {
			if err := subset(w[i], g[i], fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		return nil
	default:
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return fmt.Errorf("%s: server has %v, rendered %v", at, got, want)
		}
		return nil
	}
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// createOperatorSecrets creates what the operator creates before applying
// (kustomization.yaml: kubectl create secret generic ...), the Secrets the
// bundle mounts but does not render.
func createOperatorSecrets(t *testing.T, cs kubernetes.Interface, b *bundle) {
	t.Helper()
	ns := b.ds().Namespace
	for _, v := range b.ds().Spec.Template.Spec.Volumes {
		if v.Secret == nil || b.secret(v.Secret.SecretName) != nil {
			continue
		}
		data, ok := operatorSecrets[v.Secret.SecretName]
		if !ok {
			t.Fatalf("volume %s: Secret %s is neither rendered nor one the operator is told to create", v.Name, v.Secret.SecretName)
		}
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: v.Secret.SecretName, Namespace: ns}, StringData: data}
		ctx, cancel := context.WithTimeout(t.Context(), applyTimeout)
		_, err := cs.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{})
		cancel()
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create the operator's Secret %s: %v", s.Name, err)
		}
	}
}

// applyBundle applies every rendered object, the Namespace first and the
// operator's Secrets right after it, and checks the server stored each one
// as rendered and that what the pods reference exists on the server.
func applyBundle(t *testing.T, c *kubetest.Cluster, a *applier, b *bundle) {
	t.Helper()
	objs := b.objects()
	if len(objs) == 0 || objs[0].GetObjectKind().GroupVersionKind().Kind != "Namespace" {
		t.Fatal("the Namespace must come first")
	}
	for i, o := range objs {
		if err := a.apply(t.Context(), o); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			createOperatorSecrets(t, c.Client(), b)
		}
	}
	for _, o := range objs {
		if err := a.stored(t.Context(), o); err != nil {
			t.Error(err)
		}
	}
	checkReferences(t, c.Client(), b)
}

// checkReferences reads the DaemonSet and the Service back from the server
// and checks that what they point at is there.
func checkReferences(t *testing.T, cs kubernetes.Interface, b *bundle) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), applyTimeout)
	defer cancel()
	r := b.ds()
	ds, err := cs.AppsV1().DaemonSets(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := ds.Spec.Template
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(tmpl.Labels)) {
		t.Errorf("DaemonSet selector %v does not match its pod labels %v (%v)", ds.Spec.Selector, tmpl.Labels, err)
	}
	if tmpl.Spec.ServiceAccountName != b.accounts[0].Name {
		t.Errorf("stored pod template runs as %q", tmpl.Spec.ServiceAccountName)
	}
	if _, err := cs.CoreV1().ServiceAccounts(ds.Namespace).Get(ctx, tmpl.Spec.ServiceAccountName, metav1.GetOptions{}); err != nil {
		t.Errorf("service account of the pods: %v", err)
	}
	if got, want := tmpl.Spec.Containers[0].Image, b.agent().Image; got != want {
		t.Errorf("stored image %s, rendered %s", got, want)
	}
	for _, v := range tmpl.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			if _, err := cs.CoreV1().ConfigMaps(ds.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{}); err != nil {
				t.Errorf("volume %s: %v", v.Name, err)
			}
		case v.Secret != nil:
			s, err := cs.CoreV1().Secrets(ds.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
			if err != nil {
				t.Errorf("volume %s: %v", v.Name, err)
				continue
			}
			// The keys the config reads from this mount are in it.
			for file := range b.secretFiles() {
				for _, m := range tmpl.Spec.Containers[0].VolumeMounts {
					if m.Name == v.Name && filepath.Dir(file) == m.MountPath {
						if len(s.Data[filepath.Base(file)]) == 0 {
							t.Errorf("Secret %s on the server has no %s", s.Name, filepath.Base(file))
						}
					}
				}
			}
		}
	}
	for _, from := range tmpl.Spec.Containers[0].EnvFrom {
		if from.ConfigMapRef != nil {
			if _, err := cs.CoreV1().ConfigMaps(ds.Namespace).Get(ctx, from.ConfigMapRef.Name, metav1.GetOptions{}); err != nil {
				t.Errorf("envFrom: %v", err)
			}
		}
	}
	rs := b.syslogService()
	if rs == nil {
		return
	}
	svc, err := cs.CoreV1().Services(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(tmpl.Labels)) {
		t.Errorf("stored Service selector %v misses the DaemonSet's pods %v", svc.Spec.Selector, tmpl.Labels)
	}
	for _, p := range svc.Spec.Ports {
		found := slices.ContainsFunc(tmpl.Spec.Containers[0].Ports, func(cp corev1.ContainerPort) bool {
			return cp.Name == p.TargetPort.StrVal && cp.Protocol == p.Protocol
		})
		if !found {
			t.Errorf("Service port %s targets %s/%s, not a port of the stored pod template", p.Name, p.TargetPort.String(), p.Protocol)
		}
	}
	if svc.Spec.InternalTrafficPolicy == nil || *svc.Spec.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyLocal {
		t.Errorf("stored internalTrafficPolicy %v", svc.Spec.InternalTrafficPolicy)
	}
}

// TestApply applies the base, then the example overlay over it (an
// operator switching to it), to a real kube-apiserver; then checks the
// rendered RBAC as the rendered ServiceAccount, and runs the agent as that
// account with the ConfigMap's config.
func TestApply(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd, kube-apiserver and the agent")
	}
	c := kubetest.Start(t)
	a := newApplier(t, c)

	base := render(t, ".", nil)
	base.external = map[string]bool{"sluice-es": true, "sluice-tap-token": true}
	applyBundle(t, c, a, base)

	overlay := render(t, "examples/es-apikey-tls", overlayFiles)
	overlay.external = map[string]bool{"sluice-tap-token": true}
	applyBundle(t, c, a, overlay)
	if t.Failed() {
		t.FailNow()
	}

	token := c.ServiceAccountToken(t, base.accounts[0].Namespace, base.accounts[0].Name)
	checkRBAC(t, c, base, token)
	runAgent(t, c, a, base, token)
}

// checkRBAC calls the API server as the rendered ServiceAccount: what the
// enrichment calls succeeds cluster-wide, and nothing else is allowed.
func checkRBAC(t *testing.T, c *kubetest.Cluster, b *bundle, token string) {
	t.Helper()
	pod := c.CreatePod(t, testPod("rbac-probe", "shop", "node-x"))
	cs, err := kubernetes.NewForConfig(c.TokenConfig(token))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), applyTimeout)
	defer cancel()
	short := int64(1)
	allowed := map[string]func() error{
		"list pods in all namespaces": func() error {
			_, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=node-x"})
			return err
		},
		"watch pods in all namespaces": func() error {
			w, err := cs.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{TimeoutSeconds: &short})
			if err == nil {
				w.Stop()
			}
			return err
		},
		"get a pod": func() error {
			_, err := cs.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
			return err
		},
		"list namespaces": func() error {
			_, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			return err
		},
		"watch namespaces": func() error {
			w, err := cs.CoreV1().Namespaces().Watch(ctx, metav1.ListOptions{TimeoutSeconds: &short})
			if err == nil {
				w.Stop()
			}
			return err
		},
		"get a namespace": func() error {
			_, err := cs.CoreV1().Namespaces().Get(ctx, "shop", metav1.GetOptions{})
			return err
		},
	}
	for name, call := range allowed {
		if err := call(); err != nil {
			t.Errorf("as the ServiceAccount, %s: %v", name, err)
		}
	}
	ns := b.ds().Namespace
	forbidden := map[string]func() error{
		"list secrets": func() error {
			_, err := cs.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
			return err
		},
		"get the ES Secret": func() error {
			_, err := cs.CoreV1().Secrets(ns).Get(ctx, "sluice-es", metav1.GetOptions{})
			return err
		},
		"list configmaps": func() error {
			_, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			return err
		},
		"create a pod": func() error {
			_, err := cs.CoreV1().Pods("shop").Create(ctx, testPod("evil", "shop", "node-x"), metav1.CreateOptions{})
			return err
		},
		"delete a pod": func() error {
			return cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
		},
		"patch a pod": func() error {
			_, err := cs.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
			return err
		},
		"read pod logs": func() error {
			return cs.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{}).Do(ctx).Error()
		},
		"list nodes": func() error {
			_, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			return err
		},
		"list daemonsets": func() error {
			_, err := cs.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{})
			return err
		},
		"create a namespace": func() error {
			_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "evil"}}, metav1.CreateOptions{})
			return err
		},
	}
	for name, call := range forbidden {
		if err := call(); !apierrors.IsForbidden(err) {
			t.Errorf("as the ServiceAccount, %s: want Forbidden, got %v", name, err)
		}
	}
}

func testPod(name, namespace, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "app", Image: "registry.example/" + name + ":1.0"}},
		},
	}
}
