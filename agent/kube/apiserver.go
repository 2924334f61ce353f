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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/sluicelog/sluice/agent/config"
)

// apiServerSource watches this node's pods through the API server. The
// reflector under the informer relists with backoff after a 410 Gone, an
// API server restart or a network error; nothing here needs to.
//
// It talks to the API server through a REST client for core/v1 only, not
// client-go's clientset and informer factory: those link every API group
// into the agent, and their initialisation alone added ~9 MB of resident
// memory on every node.
type apiServerSource struct {
	pods       toolscache.ListerWatcher
	namespaces toolscache.ListerWatcher // nil unless namespace labels are on
	getPod     func(ctx context.Context, namespace, name string) (*corev1.Pod, error)
	node       string
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

// coreV1Client is a REST client for /api/v1 that decodes core/v1 objects.
func coreV1Client(rc *rest.Config) (*rest.RESTClient, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("core/v1 scheme: %w", err)
	}
	cfg := rest.CopyConfig(rc)
	cfg.APIPath = "/api"
	cfg.GroupVersion = &corev1.SchemeGroupVersion
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	client, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return client, nil
}

func newAPIServerSource(k config.Kubernetes, node, userAgent string, logger *slog.Logger) (*apiServerSource, error) {
	rc, err := RESTConfig(k.Kubeconfig, userAgent)
	if err != nil {
		return nil, err
	}
	client, err := coreV1Client(rc)
	if err != nil {
		return nil, err
	}
	// client-go's reflector reports watch errors through klog, a process
	// global that running informers read: set it once.
	klogOnce.Do(func() { klog.SetSlogLogger(logger) })
	s := &apiServerSource{
		node: node,
		pods: toolscache.NewListWatchFromClient(client, "pods", metav1.NamespaceAll,
			fields.OneTermEqualSelector("spec.nodeName", node)),
		getPod: func(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
			var p corev1.Pod
			err := client.Get().Namespace(namespace).Resource("pods").Name(name).Do(ctx).Into(&p)
			return &p, err
		},
	}
	if k.NamespaceLabels {
		// Its own list-watch: the server refuses a spec.nodeName field
		// selector on namespaces.
		s.namespaces = toolscache.NewListWatchFromClient(client, "namespaces", metav1.NamespaceAll, fields.Everything())
	}
	return s, nil
}

var klogOnce sync.Once

func (s *apiServerSource) run(ctx context.Context, h handler) error {
	podInf := toolscache.NewSharedIndexInformer(s.pods, &corev1.Pod{}, 0, toolscache.Indexers{})
	if err := podInf.SetTransform(func(obj any) (any, error) {
		if p, ok := obj.(*corev1.Pod); ok {
			return slim(p), nil
		}
		return obj, nil
	}); err != nil {
		return fmt.Errorf("pod informer: %w", err)
	}
	podReg, err := podInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
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
	informers := []toolscache.SharedIndexInformer{podInf}
	// A registration has synced once its handler has seen the first list;
	// the informer's own HasSynced can be true before that, and a record
	// enriched then would miss its namespace's labels.
	synced := []toolscache.InformerSynced{podReg.HasSynced}

	if s.namespaces != nil {
		nsInf := toolscache.NewSharedIndexInformer(s.namespaces, &corev1.Namespace{}, 0, toolscache.Indexers{})
		if err := nsInf.SetTransform(func(obj any) (any, error) {
			if n, ok := obj.(*corev1.Namespace); ok {
				return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n.Name, ResourceVersion: n.ResourceVersion, Labels: n.Labels}}, nil
			}
			return obj, nil
		}); err != nil {
			return fmt.Errorf("namespace informer: %w", err)
		}
		set := func(obj any) {
			if n, ok := obj.(*corev1.Namespace); ok {
				h.namespaceLabels(n.Name, n.Labels)
			}
		}
		nsReg, err := nsInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    set,
			UpdateFunc: func(_, obj any) { set(obj) },
		})
		if err != nil {
			return fmt.Errorf("namespace informer: %w", err)
		}
		informers = append(informers, nsInf)
		synced = append(synced, nsReg.HasSynced)
	}

	var wg sync.WaitGroup
	for _, inf := range informers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inf.RunWithContext(ctx)
		}()
	}
	defer wg.Wait()
	if toolscache.WaitForCacheSync(ctx.Done(), synced...) {
		h.synced()
	}
	<-ctx.Done()
	return nil
}

func (s *apiServerSource) get(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	p, err := s.getPod(ctx, namespace, name)
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
