package kube

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/sluicelog/sluice/agent/config"
)

// kubeletPods imitates the kubelet's read-only /pods: a PodList in JSON
// behind bearer-token authentication over HTTPS (a real kubelet cannot run
// here).
type kubeletPods struct {
	mu       sync.Mutex
	pods     []corev1.Pod
	token    string
	requests atomic.Int64
	fail     atomic.Bool
}

func (k *kubeletPods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.requests.Add(1)
	if r.URL.Path != "/pods" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+k.token {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	if k.fail.Load() {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	k.mu.Lock()
	list := corev1.PodList{Items: k.pods}
	list.APIVersion, list.Kind = "v1", "PodList"
	body, _ := json.Marshal(list)
	k.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write(body) //nolint:errcheck // test server
}

func (k *kubeletPods) set(pods ...*corev1.Pod) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.pods = k.pods[:0]
	for _, p := range pods {
		k.pods = append(k.pods, *p)
	}
}

func TestKubeletSource(t *testing.T) {
	fake := &kubeletPods{token: "kubelet-test-token"}
	fake.set(testPod("ns", "a", "ua"))
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(fake.token+"\n"), 0o600))
	caFile := filepath.Join(dir, "ca.crt")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	k := testConfig()
	k.Source = "kubelet"
	k.DeletedPodTTL = config.Duration(time.Hour)
	k.Kubelet = config.Kubelet{URL: srv.URL + "/", Interval: config.Duration(50 * time.Millisecond), TokenFile: tokenFile, CAFile: caFile}
	e, err := New(Options{Config: k, NodeName: node})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	require.True(t, e.WaitSynced(ctx))
	require.NoError(t, e.Ready())

	enrich := func(pod string) map[string]any {
		b := batchFor("ns", pod, "api", "")
		defer b.Discard()
		require.True(t, e.Enrich(b))
		return metaOf(t, b)
	}
	require.Equal(t, "ua", enrich("a")["pod_id"])
	require.Equal(t, map[string]any{"kind": "Deployment", "name": "api"}, enrich("a")["owner"])

	// A new pod is picked up by the next poll; a pod gone from the list
	// is kept as deleted; a failing kubelet keeps the cache as it is.
	fake.set(testPod("ns", "b", "ub"))
	require.Eventually(t, func() bool { l, d := e.cache.counts(); return l == 1 && d == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "ub", enrich("b")["pod_id"])
	require.Equal(t, "ua", enrich("a")["pod_id"], "deleted, kept for the TTL")
	fake.fail.Store(true)
	n := fake.requests.Load()
	require.Eventually(t, func() bool { return fake.requests.Load() > n+2 }, 5*time.Second, 10*time.Millisecond)
	l, d := e.cache.counts()
	require.Equal(t, [2]int{1, 1}, [2]int{l, d}, "a failed poll forgets nothing")
}

func TestKubeletSourceRefusesWrongCA(t *testing.T) {
	fake := &kubeletPods{token: "t"}
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	// Another CA than the one that signed the server's certificate.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	s, err := newKubeletSource(config.Kubelet{URL: srv.URL, Interval: config.Duration(time.Second), CAFile: caFile}, nil)
	require.NoError(t, err)
	_, err = s.list(context.Background())
	require.ErrorContains(t, err, "certificate")
	require.Equal(t, int64(0), fake.requests.Load())

	_, err = newKubeletSource(config.Kubelet{URL: srv.URL, CAFile: filepath.Join(t.TempDir(), "missing")}, nil)
	require.ErrorContains(t, err, "ca_file")
}
