package config

import (
	"os"
	"path/filepath"
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
		require.Equal(t, 5*time.Minute, k.DeletedPodTTL.Duration())
		require.Equal(t, 2*time.Second, k.LookupWait.Duration())
	})
	kubelet, files := withFiles(t, `kubernetes:
  source: kubelet
  kubelet: { url: "https://${NODE_IP}:10250", interval: 5s, insecure_skip_verify: true, token_file: /sa/token }
  annotations: true
  include_labels: ["app.kubernetes.io/*", team]
  exclude_annotations: ["kubectl.kubernetes.io/*"]
  namespace_labels: true
  deleted_pod_ttl: 1m
`, "/sa/token")
	f(kubelet, map[string]string{"NODE_IP": "10.0.0.7"}, func(k Kubernetes) {
		require.Equal(t, "kubelet", k.Source)
		require.Equal(t, "https://10.0.0.7:10250", k.Kubelet.URL)
		require.Equal(t, 5*time.Second, k.Kubelet.Interval.Duration())
		require.True(t, k.Kubelet.InsecureSkipVerify)
		require.Equal(t, files["/sa/token"], k.Kubelet.TokenFile)
		require.Equal(t, []string{"app.kubernetes.io/*", "team"}, k.IncludeLabels)
		require.True(t, k.NamespaceLabels)
		require.Equal(t, time.Minute, k.DeletedPodTTL.Duration())
	})
	// The default token and CA files are the service account's; with
	// the CA, and with no token.
	kubelet, _ = withFiles(t, "kubernetes: { source: kubelet, kubelet: { url: \"https://n:10250\", ca_file: /sa/ca.crt, token_file: \"\" } }\n", "/sa/ca.crt")
	f(kubelet, nil, func(k Kubernetes) { require.Empty(t, k.Kubelet.TokenFile) })
	require.Equal(t, "/var/run/secrets/kubernetes.io/serviceaccount/token", Default().Kubernetes.Kubelet.TokenFile)
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
	// The files kube.New and the polls read, as they would fail: every
	// problem at once.
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.crt")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600))
	empty := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	_, err := Parse([]byte(httpBase+"kubernetes:\n  source: kubelet\n  kubelet:\n    url: https://n:10250\n    token_file: /nonexistent/token\n    ca_file: /nonexistent/ca.crt\n"), env(nil))
	require.EqualError(t, err, `kubernetes.kubelet.token_file (line 10): file /nonexistent/token does not exist; the kubelet refuses a pod list without a token (token_file: "" for a kubelet that takes none)
kubernetes.kubelet.ca_file (line 11): file /nonexistent/ca.crt does not exist`)
	_, err = Parse([]byte(httpBase+"kubernetes:\n  source: kubelet\n  kubelet:\n    url: https://n:10250\n    token_file: "+empty+"\n    ca_file: "+notPEM+"\n"), env(nil))
	require.EqualError(t, err, "kubernetes.kubelet.token_file (line 10): file "+empty+" is empty\nkubernetes.kubelet.ca_file (line 11): file "+notPEM+" holds no PEM certificate")
	// insecure_skip_verify: the CA is not read, at start nor here.
	_, err = Parse([]byte(httpBase+"kubernetes:\n  source: kubelet\n  kubelet:\n    url: https://n:10250\n    token_file: \"\"\n    ca_file: /nonexistent/ca.crt\n    insecure_skip_verify: true\n"), env(nil))
	require.NoError(t, err)
	f("kubernetes: { deleted_pod_ttl: -1s }\n", "kubernetes.deleted_pod_ttl (line 6): must not be negative")
	f("kubernetes: { sync_timeout: 0s }\n", "kubernetes.sync_timeout (line 6): must be at least 1ms")
	f("kubernetes: { labelz: true }\n", "labelz")
}
