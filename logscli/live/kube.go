package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// tokenHeader is the agent's alternative to Authorization for its token
// (agent/httpapi.TokenHeader; not imported, to keep the CLI small).
const tokenHeader = "X-Sluice-Token"

// KubeOptions say how to find the agents through the user's kubeconfig.
type KubeOptions struct {
	Kubeconfig string // --kubeconfig; "" = $KUBECONFIG, then ~/.kube/config
	Context    string // --context; "" = the current context
	Namespace  string // the agents' namespace (deploy/base: sluice)
	Selector   string // the agents' pod label selector
	Port       int    // the agents' HTTP port; 0 = the container port named "http", else 2020
	Node       string // only the agent of this node (--node); "" = all
	// Token is the agents' tap token, sent as X-Sluice-Token: the API
	// server strips Authorization (the user's own credentials) before
	// proxying, and passes other headers through.
	Token string
}

// DefaultAgentSelector matches the DaemonSet of deploy/base.
const DefaultAgentSelector = "app.kubernetes.io/name=sluice,app.kubernetes.io/component=agent"

// Kube finds agent pods with the API server and reaches their taps
// through its pod proxy, with the user's credentials: RBAC decides (list
// pods and get pods/proxy in the agents' namespace), and no agent port is
// exposed.
type Kube struct {
	opts   KubeOptions
	cs     kubernetes.Interface
	server string
	// ContextNamespace is the namespace the kubeconfig context sets, or ""
	// when it sets none.
	ContextNamespace string
}

// ErrNoKubeconfig: there is no kubeconfig to read.
var ErrNoKubeconfig = errors.New("no kubeconfig found: set KUBECONFIG or --kubeconfig, or give an agent with --agent URL")

// LoadKube reads the kubeconfig as kubectl does (--kubeconfig, else
// $KUBECONFIG, else ~/.kube/config; --context).
func LoadKube(o KubeOptions) (*Kube, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.Context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, ErrNoKubeconfig
		}
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	// Streams last as long as the user watches.
	cfg.Timeout = 0
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	k := &Kube{opts: o, cs: cs, server: cfg.Host}
	if raw, err := cc.RawConfig(); err == nil {
		name := o.Context
		if name == "" {
			name = raw.CurrentContext
		}
		if c, ok := raw.Contexts[name]; ok {
			k.ContextNamespace = c.Namespace
		}
	}
	return k, nil
}

// NewKube uses a client built elsewhere (tests).
func NewKube(cs kubernetes.Interface, o KubeOptions) *Kube {
	return &Kube{opts: o, cs: cs}
}

// Targets lists the agents that can serve a tap now: running pods with an
// IP. A terminating pod stays until it is gone; its agent streams until it
// exits.
func (k *Kube) Targets(ctx context.Context, query url.Values) ([]Target, error) {
	return k.TargetsAt(ctx, "tap", query)
}

// TargetsAt is Targets for the agents' /api/v1/ endpoint named api (tap,
// status).
func (k *Kube) TargetsAt(ctx context.Context, api string, query url.Values) ([]Target, error) {
	pods, err := k.cs.CoreV1().Pods(k.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: k.opts.Selector})
	if err != nil {
		return nil, k.explain(fmt.Sprintf("list agent pods in namespace %s", k.opts.Namespace), err)
	}
	var out []Target
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" ||
			k.opts.Node != "" && p.Spec.NodeName != k.opts.Node {
			continue
		}
		out = append(out, k.target(p, api, query))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// target is a pod's endpoint api (tap, status) through
// /api/v1/namespaces/NS/pods/NAME:PORT/proxy.
func (k *Kube) target(p *corev1.Pod, api string, query url.Values) Target {
	port := k.opts.Port
	if port == 0 {
		port = httpPort(p)
	}
	// The pod's UID keeps a recreated pod of the same name apart.
	name := p.Name + "@" + p.Spec.NodeName + "#" + string(p.UID)
	if p.Spec.NodeName == "" {
		name = p.Name + "#" + string(p.UID)
	}
	pod := p.Name
	return Target{
		Name: name,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			req := k.cs.CoreV1().RESTClient().Get().
				Namespace(k.opts.Namespace).Resource("pods").
				Name(pod+":"+strconv.Itoa(port)).
				SubResource("proxy").Suffix("api", "v1", api)
			for key, vs := range query {
				for _, v := range vs {
					req = req.Param(key, v)
				}
			}
			if k.opts.Token != "" {
				req = req.SetHeader(tokenHeader, k.opts.Token)
			}
			rc, err := req.Stream(ctx)
			if err != nil {
				return nil, k.explain(api+" of agent "+pod+" through the API server", err)
			}
			return rc, nil
		},
	}
}

// httpPort is the agent container's port named "http", as deploy/base
// names it, else 2020.
func httpPort(p *corev1.Pod) int {
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == "http" && cp.ContainerPort > 0 {
				return int(cp.ContainerPort)
			}
		}
	}
	return 2020
}

// explain words an API error for the user; RBAC and credential refusals
// are fatal.
func (k *Kube) explain(what string, err error) error {
	switch {
	case apierrors.IsForbidden(err):
		return &FatalError{fmt.Errorf("forbidden by RBAC: %s: %s", what, statusMessage(err))}
	case apierrors.IsUnauthorized(err):
		return &FatalError{fmt.Errorf("unauthorized: the API server refused the kubeconfig's credentials (%s)", what)}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func statusMessage(err error) string {
	var s apierrors.APIStatus
	if errors.As(err, &s) {
		return s.Status().Message
	}
	return err.Error()
}

// Client is the clientset of the user's kubeconfig.
func (k *Kube) Client() kubernetes.Interface { return k.cs }

// PodNames lists the names of the pods of namespace ns ("" = all), for
// completion.
func (k *Kube) PodNames(ctx context.Context, ns string) ([]string, error) {
	pods, err := k.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, k.explain("list pods", err)
	}
	out := make([]string, 0, len(pods.Items))
	for i := range pods.Items {
		out = append(out, pods.Items[i].Name)
	}
	return out, nil
}

// Contexts lists the contexts of the kubeconfig (--kubeconfig, else
// $KUBECONFIG, else ~/.kube/config), for completion.
func Contexts(kubeconfig string) ([]string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	raw, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).RawConfig()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(raw.Contexts))
	for name := range raw.Contexts {
		out = append(out, name)
	}
	return out, nil
}
