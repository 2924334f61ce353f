package config

import (
	"strings"
	"time"

	"github.com/sluicelog/sluice/internal/redact"
)

// Kubernetes configures metadata enrichment (agent/kube).
type Kubernetes struct {
	Enabled bool `yaml:"enabled"`
	// Source is where pods come from: apiserver (a watch on this node's
	// pods) or kubelet (the node's kubelet /pods, polled).
	Source string `yaml:"source"`
	// Kubeconfig is a kubeconfig file; "" means in-cluster (service account).
	Kubeconfig string `yaml:"kubeconfig"`

	Labels      bool `yaml:"labels"`
	Annotations bool `yaml:"annotations"`
	// Include and exclude lists of label and annotation keys, as globs
	// (* is any run of characters, '/' included: app.kubernetes.io/*). An
	// empty include list keeps all.
	IncludeLabels      []string `yaml:"include_labels"`
	ExcludeLabels      []string `yaml:"exclude_labels"`
	IncludeAnnotations []string `yaml:"include_annotations"`
	ExcludeAnnotations []string `yaml:"exclude_annotations"`
	// NamespaceLabels adds kubernetes.namespace_labels; only then are
	// namespaces watched.
	NamespaceLabels bool `yaml:"namespace_labels"`

	// DeletedPodTTL keeps a deleted pod's metadata for the lines still
	// being read from its files.
	DeletedPodTTL Duration `yaml:"deleted_pod_ttl"`
	// LookupWait is how long records of a pod not yet in the cache wait
	// for it (a direct GET is made meanwhile); after that they ship with
	// the names from the file path.
	LookupWait Duration `yaml:"lookup_wait"`
	// SyncTimeout bounds the wait for the first full list at start-up;
	// the agent then starts anyway and /readyz reports the cache unsynced.
	SyncTimeout Duration `yaml:"sync_timeout"`

	Kubelet Kubelet `yaml:"kubelet"`
}

// Kubelet is the local kubelet's read-only pod list (source: kubelet).
type Kubelet struct {
	URL                string   `yaml:"url"`
	Interval           Duration `yaml:"interval"`
	TokenFile          string   `yaml:"token_file"`
	CAFile             string   `yaml:"ca_file"`
	InsecureSkipVerify bool     `yaml:"insecure_skip_verify"`
}

func defaultKubernetes() Kubernetes {
	return Kubernetes{
		Enabled:       true,
		Source:        "apiserver",
		Labels:        true,
		DeletedPodTTL: Duration(5 * time.Minute),
		LookupWait:    Duration(2 * time.Second),
		SyncTimeout:   Duration(30 * time.Second),
		Kubelet: Kubelet{
			Interval:  Duration(10 * time.Second),
			TokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
			CAFile:    "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
		},
	}
}

func validateKubernetes(p *problems, k Kubernetes) {
	at := func(key ...any) []any { return append([]any{"kubernetes"}, key...) }
	if !k.Enabled {
		return
	}
	if k.Kubeconfig != "" {
		if _, err := readFile(k.Kubeconfig); err != nil {
			p.add("%v", at("kubeconfig"), err)
		}
	}
	switch k.Source {
	case "apiserver":
	case "kubelet":
		u := k.Kubelet.URL
		switch {
		case u == "":
			p.add("must be set for source kubelet (e.g. https://${NODE_IP}:10250 with NODE_IP from status.hostIP)", at("kubelet", "url"))
		case !httpURL(u):
			p.add("must start with https:// (or http://), got %q", at("kubelet", "url"), redact.URL(u))
		}
		if k.Kubelet.Interval.Duration() < 100*time.Millisecond {
			p.add("must be at least 100ms", at("kubelet", "interval"))
		}
		// What the kubelet source reads: the token on every poll (a
		// missing one sends none, and the kubelet answers 401), the CA
		// at start (kube.New).
		checkKubeletToken(p, k.Kubelet.TokenFile, at("kubelet", "token_file"))
		if !k.Kubelet.InsecureSkipVerify {
			checkCAFile(p, k.Kubelet.CAFile, at("kubelet", "ca_file"))
		}
	default:
		p.add("must be apiserver or kubelet, got %q", at("source"), k.Source)
	}
	if k.DeletedPodTTL < 0 {
		p.add("must not be negative", at("deleted_pod_ttl"))
	}
	if k.LookupWait < 0 {
		p.add("must not be negative", at("lookup_wait"))
	}
	if k.SyncTimeout.Duration() < time.Millisecond {
		p.add("must be at least 1ms", at("sync_timeout"))
	}
}

// checkKubeletToken checks the token the kubelet source sends. It reads
// it again on every poll; without it the poll goes without a token, and
// the kubelet answers 401 every time.
func checkKubeletToken(p *problems, path string, at []any) {
	if path == "" || p.offline {
		return
	}
	b, err := readFile(path)
	switch {
	case err != nil:
		p.add("%v; the kubelet refuses a pod list without a token (token_file: \"\" for a kubelet that takes none)", at, err)
	case strings.TrimSpace(string(b)) == "":
		p.add("file %s is empty", at, path)
	}
}
