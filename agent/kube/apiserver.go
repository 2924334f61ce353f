package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/sluicelog/sluice/agent/config"
)

// apiServerSource watches this node's pods through the API server. The
// reflector under the informer relists with backoff after a 410 Gone, an
// API server restart or a network error; nothing here needs to.
type apiServerSource struct {
	client          kubernetes.Interface
	node            string
	namespaceLabels bool
}

// RESTConfig loads the client config: the kubeconfig file when set, else
// the pod's service account. It returns ErrUnavailable outside a cluster.
func RESTConfig(kubeconfig, userAgent string) (*rest.Config, error) {
	var rc *rest.Config
	var err error
	if kubeconfig != "" {
		if rc, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
		}
	} else if rc, err = rest.InClusterConfig(); err != nil {
		if errors.Is(err, rest.ErrNotInCluster) {
			return nil, ErrUnavailable
		}
		return nil, fmt.Errorf("in-cluster config: %w", err)
	}
	rc.UserAgent = userAgent
	// Protobuf costs the API server and us less CPU than JSON for pods.
	rc.ContentType = "application/vnd.kubernetes.protobuf"
	rc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	// The watch is one long request; direct GETs are rate-limited by the
	// enricher. These bound anything else.
	rc.QPS, rc.Burst = 5, 10
	return rc, nil
}

func newAPIServerSource(k config.Kubernetes, node, userAgent string, logger *slog.Logger) (*apiServerSource, error) {
	rc, err := RESTConfig(k.Kubeconfig, userAgent)
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	// client-go's reflector reports watch errors through klog, a process
	// global that running informers read: set it once.
	klogOnce.Do(func() { klog.SetSlogLogger(logger) })
	return newAPIServerSourceFor(client, node, k.NamespaceLabels), nil
}

var klogOnce sync.Once

func newAPIServerSourceFor(client kubernetes.Interface, node string, namespaceLabels bool) *apiServerSource {
	return &apiServerSource{client: client, node: node, namespaceLabels: namespaceLabels}
}

func (s *apiServerSource) run(ctx context.Context, h handler) error {
	// Pods and namespaces need separate factories: the server refuses a
	// spec.nodeName field selector on namespaces.
	pods := informers.NewSharedInformerFactoryWithOptions(s.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", s.node).String()
		}),
		informers.WithTransform(func(obj any) (any, error) {
			if p, ok := obj.(*corev1.Pod); ok {
				return slim(p), nil
			}
			return obj, nil
		}))
	defer pods.Shutdown()
	podInf := pods.Core().V1().Pods().Informer()
	_, err := podInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if p, ok := obj.(*corev1.Pod); ok {
				h.upsert(p)
			}
		},
		UpdateFunc: func(_, obj any) {
			if p, ok := obj.(*corev1.Pod); ok {
				h.upsert(p)
			}
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				h.remove(p)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("pod informer: %w", err)
	}
	synced := []toolscache.InformerSynced{podInf.HasSynced}

	if s.namespaceLabels {
		nss := informers.NewSharedInformerFactoryWithOptions(s.client, 0,
			informers.WithTransform(func(obj any) (any, error) {
				if n, ok := obj.(*corev1.Namespace); ok {
					return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n.Name, ResourceVersion: n.ResourceVersion, Labels: n.Labels}}, nil
				}
				return obj, nil
			}))
		defer nss.Shutdown()
		nsInf := nss.Core().V1().Namespaces().Informer()
		set := func(obj any) {
			if n, ok := obj.(*corev1.Namespace); ok {
				h.namespaceLabels(n.Name, n.Labels)
			}
		}
		if _, err := nsInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    set,
			UpdateFunc: func(_, obj any) { set(obj) },
		}); err != nil {
			return fmt.Errorf("namespace informer: %w", err)
		}
		synced = append(synced, nsInf.HasSynced)
		nss.Start(ctx.Done())
	}
	pods.Start(ctx.Done())
	if toolscache.WaitForCacheSync(ctx.Done(), synced...) {
		h.synced()
	}
	<-ctx.Done()
	return nil
}

func (s *apiServerSource) get(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	p, err := s.client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get pod %s/%s: %w", namespace, name, err)
	}
	if p.Spec.NodeName != s.node {
		// Same name, another node: not the pod that wrote our file.
		return nil, nil
	}
	return slim(p), nil
}
