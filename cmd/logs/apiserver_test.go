package main

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// fakeAPIServer imitates the two kube-apiserver endpoints the CLI uses,
// with real Kubernetes JSON: the pod list (with a label selector) and the
// pod proxy (/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH). A real
// kube-apiserver refuses to proxy to loopback pod IPs, so agents on
// 127.0.0.1 cannot sit behind one. Users are bearer tokens with RBAC-like
// grants; refusals are the API server's Status objects.
type fakeAPIServer struct {
	srv *httptest.Server

	mu     sync.Mutex
	pods   map[string]*corev1.Pod // in namespace sluice, by name
	users  map[string]grant       // by token
	active map[string]int         // open proxy streams by pod
}

// grant is what a user may do in namespace sluice.
type grant struct {
	name        string
	list, proxy bool
}

func newFakeAPIServer(t *testing.T) *fakeAPIServer {
	s := &fakeAPIServer{pods: map[string]*corev1.Pod{}, users: map[string]grant{}, active: map[string]int{}}
	// TLS, with HTTP/2 as the real one: client-go sends credentials only
	// over TLS.
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.EnableHTTP2 = true
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

// addAgent lists a running agent pod whose port "http" is the agent's.
func (s *fakeAPIServer) addAgent(t *testing.T, name string, a *agent) {
	u, err := url.Parse(a.url)
	require.NoError(t, err)
	var port int32
	_, err = fmt.Sscan(u.Port(), &port)
	require.NoError(t, err)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pods[name] = &corev1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "sluice", UID: types.UID("uid-" + name),
			Labels: map[string]string{"app.kubernetes.io/name": "sluice", "app.kubernetes.io/component": "agent"},
		},
		Spec: corev1.PodSpec{NodeName: a.name, Containers: []corev1.Container{{
			Name: "sluice", Ports: []corev1.ContainerPort{{Name: "syslog-tcp", ContainerPort: 5140}, {Name: "http", ContainerPort: port}},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: u.Hostname()},
	}
}

func (s *fakeAPIServer) removeAgent(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pods, name)
}

func (s *fakeAPIServer) openStreams(pod string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active[pod]
}

// status writes a metav1.Status, as the API server refuses.
func status(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(&metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Message: msg, Reason: reason, Code: int32(code),
	})
}

func (s *fakeAPIServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	g, ok := s.users[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	s.mu.Unlock()
	if !ok {
		status(w, http.StatusUnauthorized, metav1.StatusReasonUnauthorized, "Unauthorized")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/namespaces/")
	parts := strings.SplitN(rest, "/", 5) // NS, pods, NAME:PORT, proxy, PATH
	switch {
	case ok && len(parts) == 2 && parts[1] == "pods" && r.Method == http.MethodGet:
		if !g.list {
			status(w, http.StatusForbidden, metav1.StatusReasonForbidden, fmt.Sprintf(
				`pods is forbidden: User "%s" cannot list resource "pods" in API group "" in the namespace "%s"`, g.name, parts[0]))
			return
		}
		s.list(w, r, parts[0])
	case ok && len(parts) >= 4 && parts[1] == "pods" && parts[3] == "proxy":
		name, _, _ := strings.Cut(parts[2], ":")
		if !g.proxy {
			status(w, http.StatusForbidden, metav1.StatusReasonForbidden, fmt.Sprintf(
				`pods "%s" is forbidden: User "%s" cannot get resource "pods/proxy" in API group "" in the namespace "%s"`, name, g.name, parts[0]))
			return
		}
		path := "/"
		if len(parts) == 5 {
			path += parts[4]
		}
		s.proxy(w, r, parts[0], parts[2], path)
	default:
		status(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
	}
}

func (s *fakeAPIServer) list(w http.ResponseWriter, r *http.Request, ns string) {
	sel, err := labels.Parse(r.URL.Query().Get("labelSelector"))
	if err != nil {
		status(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error())
		return
	}
	list := corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, ListMeta: metav1.ListMeta{ResourceVersion: "1"}}
	s.mu.Lock()
	for _, p := range s.pods {
		if p.Namespace == ns && sel.Matches(labels.Set(p.Labels)) {
			list.Items = append(list.Items, *p)
		}
	}
	s.mu.Unlock()
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&list)
}

// proxy forwards to the pod's IP and port, as the API server does: any
// port, named or not, and the query unchanged. It holds an open stream
// after the pod leaves the list, like the real one until the pod is gone.
func (s *fakeAPIServer) proxy(w http.ResponseWriter, r *http.Request, ns, namePort, path string) {
	name, port, _ := strings.Cut(namePort, ":")
	s.mu.Lock()
	p := s.pods[name]
	if p != nil {
		s.active[name]++
	}
	s.mu.Unlock()
	if p == nil || p.Namespace != ns {
		status(w, http.StatusNotFound, metav1.StatusReasonNotFound, fmt.Sprintf(`pods "%s" not found`, name))
		return
	}
	defer func() {
		s.mu.Lock()
		s.active[name]--
		s.mu.Unlock()
	}()
	target := &url.URL{Scheme: "http", Host: p.Status.PodIP + ":" + port}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.URL.Path = target.Scheme, target.Host, path
			pr.Out.Header.Del("Authorization") // the user's credentials stay with the API server
		},
		FlushInterval: -1,
	}
	rp.ServeHTTP(w, r)
}

// kubeconfig writes a kubeconfig for the fake: context "ops" (namespace
// payments, a user who may list and proxy), "lister" (no proxy),
// "nobody" (no grants) and "stranger" (an unknown token).
func (s *fakeAPIServer) kubeconfig(t *testing.T) string {
	s.mu.Lock()
	s.users["ops-token"] = grant{name: "ops", list: true, proxy: true}
	s.users["lister-token"] = grant{name: "lister", list: true}
	s.users["nobody-token"] = grant{name: "nobody"}
	s.mu.Unlock()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: %q, certificate-authority-data: %s}
users:
- {name: ops, user: {token: ops-token}}
- {name: lister, user: {token: lister-token}}
- {name: nobody, user: {token: nobody-token}}
- {name: stranger, user: {token: who-knows}}
contexts:
- {name: ops, context: {cluster: fake, user: ops, namespace: payments}}
- {name: lister, context: {cluster: fake, user: lister}}
- {name: nobody, context: {cluster: fake, user: nobody}}
- {name: stranger, context: {cluster: fake, user: stranger}}
current-context: ops
`, s.srv.URL, base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})))
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	return path
}
