package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestKubernetes_Success(t *testing.T) {
	f := func(raw string, vars map[string]string, check func(k Kubernetes)) {
		t.Helper()
		cfg, err := Parse([]byte(httpBase+raw), env(vars))
		require.NoError(t, err)
		check(cfg.Kubernetes)
	}
	f("", nil, func(k Kubernetes) {
		require.True(t, k.Enabled)
		require.Equal(t, "apiserver", k.Source)
		require.True(t, k.Labels)
		require.False(t, k.Annotations)
		require.Equal(t, 5*time.Minute, k.DeletedPodTTL.D())
		require.Equal(t, 2*time.Second, k.LookupWait.D())
	})
	f(`kubernetes:
  source: kubelet
  kubelet: { url: "https://${NODE_IP}:10250", interval: 5s, insecure_skip_verify: true }
  annotations: true
  include_labels: ["app.kubernetes.io/*", team]
  exclude_annotations: ["kubectl.kubernetes.io/*"]
  namespace_labels: true
  deleted_pod_ttl: 1m
`, map[string]string{"NODE_IP": "10.0.0.7"}, func(k Kubernetes) {
		require.Equal(t, "kubelet", k.Source)
		require.Equal(t, "https://10.0.0.7:10250", k.Kubelet.URL)
		require.Equal(t, 5*time.Second, k.Kubelet.Interval.D())
		require.True(t, k.Kubelet.InsecureSkipVerify)
		require.Equal(t, "/var/run/secrets/kubernetes.io/serviceaccount/token", k.Kubelet.TokenFile)
		require.Equal(t, []string{"app.kubernetes.io/*", "team"}, k.IncludeLabels)
		require.True(t, k.NamespaceLabels)
		require.Equal(t, time.Minute, k.DeletedPodTTL.D())
	})
	// Off: nothing else is checked.
	f("kubernetes: { enabled: false, source: nonsense }\n", nil, func(k Kubernetes) { require.False(t, k.Enabled) })
}

func TestKubernetes_Failure(t *testing.T) {
	f := func(raw, wantErr string) {
		t.Helper()
		_, err := Parse([]byte(httpBase+raw), env(nil))
		require.ErrorContains(t, err, wantErr)
	}
	f("kubernetes: { source: etcd }\n", `kubernetes.source (line 6): must be apiserver or kubelet, got "etcd"`)
	f("kubernetes: { source: kubelet }\n", "kubernetes.kubelet.url (line 6): must be set for source kubelet")
	f("kubernetes: { source: kubelet, kubelet: { url: \"10.0.0.1:10250\" } }\n", "kubernetes.kubelet.url (line 6): must start with https://")
	f("kubernetes: { source: kubelet, kubelet: { url: \"https://x:10250\", interval: 1ms } }\n", "kubernetes.kubelet.interval (line 6): must be at least 100ms")
	f("kubernetes: { deleted_pod_ttl: -1s }\n", "kubernetes.deleted_pod_ttl (line 6): must not be negative")
	f("kubernetes: { sync_timeout: 0s }\n", "kubernetes.sync_timeout (line 6): must be at least 1ms")
	f("kubernetes: { labelz: true }\n", "labelz")
}
