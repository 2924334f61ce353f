package deploy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/kubetest"
)

const (
	// readyTimeout bounds the wait for the agent's cache once RBAC allows
	// it: client-go's reflector backs off up to 30 s between failed lists.
	readyTimeout = 90 * time.Second
	nodeName     = "node-a"
)

// buildAgent builds ./cmd/sluice, without -race: this test is about the
// manifests, and e2e/ runs the agent under the race detector.
func buildAgent(t *testing.T) string {
	t.Helper()
	return agenttest.Bin(t, "./cmd/sluice", false)
}

// agentConfig is the config of the applied ConfigMap, read back from the
// API server, adapted to a process on this machine: the same keys and
// transforms, but files, ports and the kubeconfig local, and a console
// output instead of Elasticsearch.
func agentConfig(t *testing.T, raw, dir, listen, kubeconfig, tokenFile string) []byte {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	sub := func(key string) map[string]any {
		m, ok := cfg[key].(map[string]any)
		if !ok {
			t.Fatalf("the ConfigMap's config has no %s section", key)
		}
		return m
	}
	if cfg["node_name"] != "${NODE_NAME}" {
		t.Fatalf("node_name %v: the DaemonSet sets NODE_NAME", cfg["node_name"])
	}
	cfg["data_dir"] = filepath.Join(dir, "data")
	http := sub("http")
	if http["token_file"] == nil {
		t.Fatal("the ConfigMap's config sets no http.token_file")
	}
	http["listen"], http["token_file"] = listen, tokenFile
	var inputs []any
	for _, in := range cfg["inputs"].([]any) {
		m := in.(map[string]any)
		// Syslog's fixed ports could be taken on a shared machine; it
		// plays no part in enrichment.
		if m["type"] == "container_logs" {
			m["paths"] = []any{filepath.Join(dir, "logs", "*.log")}
			inputs = append(inputs, m)
		}
	}
	if len(inputs) == 0 {
		t.Fatal("the ConfigMap's config has no container_logs input")
	}
	cfg["inputs"] = inputs
	k := sub("kubernetes")
	if k["kubeconfig"] != "" {
		t.Fatalf("kubernetes.kubeconfig %q: the DaemonSet's agent must use its service account", k["kubeconfig"])
	}
	k["kubeconfig"] = kubeconfig
	// Short, so the agent starts its inputs (and the test goes on) while
	// RBAC still refuses it.
	k["sync_timeout"] = "2s"
	cfg["outputs"] = []any{map[string]any{"name": "stdout", "type": "console"}}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// get returns the status and body of url, with a bearer token unless "".
func get(ctx context.Context, url, token string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

// metric is the value of one sample in Prometheus text, or -1 when absent.
func metric(body, sample string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

const (
	syncedSample = "sluice_kubernetes_cache_synced"
	liveSample   = `sluice_kubernetes_cache_pods{state="live"}`
)

// runAgent runs the agent binary as the rendered ServiceAccount with the
// applied ConfigMap's config. With the ClusterRoleBinding removed it must
// stay unready; once the rendered binding is applied again it must become
// ready exactly when its cache holds this node's pods.
func runAgent(t *testing.T, c *kubetest.Cluster, a *applier, b *bundle, saToken string) {
	t.Helper()
	ctx := t.Context()
	bin := buildAgent(t)
	admin := c.Client()

	// Pods on the agent's node and on another one, which it must not cache.
	onNode := map[string]*corev1.Pod{}
	for _, p := range []*corev1.Pod{
		testPod("web-1", "shop", nodeName), testPod("web-2", "shop", nodeName), testPod("api-1", "payments", nodeName),
		testPod("web-3", "shop", "node-b"), testPod("api-2", "payments", "node-b"),
	} {
		c.CreatePod(t, p)
		running := c.SetPodRunning(t, p.Namespace, p.Name)
		if p.Spec.NodeName == nodeName {
			onNode[p.Name] = running
		}
	}

	// Without the binding the account may do nothing.
	bind := b.bindings[0]
	{
		ctx, cancel := context.WithTimeout(ctx, applyTimeout)
		err := admin.RbacV1().ClusterRoleBindings().Delete(ctx, bind.Name, metav1.DeleteOptions{})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	sa, err := kubernetes.NewForConfig(c.TokenConfig(saToken))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the account to lose list pods", func() error {
		_, err := sa.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if apierrors.IsForbidden(err) {
			return nil
		}
		return fmt.Errorf("list pods: %v", err)
	})

	// The ConfigMap the DaemonSet mounts, as the server holds it.
	ds, err := admin.AppsV1().DaemonSets(b.ds().Namespace).Get(ctx, b.ds().Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var cmName string
	for _, v := range ds.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			cmName = v.ConfigMap.Name
		}
	}
	cm, err := admin.CoreV1().ConfigMaps(ds.Namespace).Get(ctx, cmName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The tap token as the pod sees it: the operator's Secret, mounted.
	tapSecret, err := admin.CoreV1().Secrets(ds.Namespace).Get(ctx, "sluice-tap-token", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tapToken := string(tapSecret.Data["token"])
	tokenFile := filepath.Join(dir, "tap-token")
	if err := os.WriteFile(tokenFile, tapSecret.Data["token"], 0o400); err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	cfgRaw := agentConfig(t, cm.Data[configKey], dir, listen, c.WriteKubeconfig(t, saToken), tokenFile)
	cfgFile := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(cfgFile, cfgRaw, 0o600); err != nil {
		t.Fatal(err)
	}
	// The agent's own loader first, for a clearer failure than its exit.
	if _, err := config.Parse(cfgRaw, func(k string) (string, bool) { return nodeName, k == "NODE_NAME" }); err != nil {
		t.Fatalf("adapted config: %v\n%s", err, cfgRaw)
	}

	agent := agenttest.Start(t, cfgFile, agenttest.Options{
		Bin:  bin,
		Args: []string{"-log-format", "text"},
		Env:  []string{"NODE_NAME=" + nodeName},
	})
	stdout, stderr := agent.Stdout, agent.Stderr
	t.Cleanup(func() {
		if agent.Running() {
			if code := agent.Stop(t); code != 0 {
				t.Errorf("agent exited with code %d after SIGTERM", code)
			}
		}
	})
	base := "http://" + listen
	waitFor(t, 60*time.Second, "the agent's HTTP API", func() error {
		if !agent.Running() {
			return fmt.Errorf("agent exited: %v\n%s", agent.State(), stderr.String())
		}
		code, body, err := get(ctx, base+"/healthz", "")
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("healthz %d: %s", code, body)
		}
		return err
	})

	// Refused by RBAC: never ready, never synced, for longer than
	// sync_timeout (while it lasts the agent is "starting"; after it the
	// agent runs its inputs anyway, and the cache is the reason).
	var reason string
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		code, body, err := get(ctx, base+"/readyz", "")
		if err != nil || code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz without RBAC: %d %q %v; want 503", code, body, err)
		}
		reason = body
		_, m, err := get(ctx, base+"/metrics", "")
		if err != nil || metric(m, syncedSample) != 0 || metric(m, liveSample) != 0 {
			t.Fatalf("without RBAC: %s %v, %s %v (%v); want 0 and 0", syncedSample, metric(m, syncedSample), liveSample, metric(m, liveSample), err)
		}
	}
	if !strings.Contains(reason, "kubernetes") {
		t.Errorf("/readyz without RBAC, past sync_timeout: %q; want the kubernetes cache named", reason)
	}
	if !strings.Contains(stderr.String(), "forbidden") {
		t.Errorf("the agent does not log the refusal:\n%s", stderr.String())
	}

	// The tap wants the Secret's token; metrics and probes stay open.
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/api/v1/status", "", http.StatusUnauthorized},
		{"/api/v1/status", "wrong", http.StatusUnauthorized},
		{"/api/v1/tap", "", http.StatusUnauthorized},
		{"/api/v1/status", tapToken, http.StatusOK},
		{"/metrics", "", http.StatusOK},
	} {
		code, body, err := get(ctx, base+tc.path, tc.token)
		if err != nil || code != tc.want {
			t.Errorf("GET %s (token %q): %d %v, want %d\n%.200s", tc.path, tc.token, code, err, tc.want, body)
		}
	}

	// The rendered binding again: the agent's informer retries and syncs.
	if err := a.apply(ctx, bind); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	waitFor(t, readyTimeout, "/readyz 200 after the binding", func() error {
		code, body, err := get(ctx, base+"/readyz", "")
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("readyz %d: %s", code, body)
		}
		// Ready: the cache must already hold this node's pods, and only
		// them (synced never goes back to 0, pods are not deleted here).
		_, m, err := get(ctx, base+"/metrics", "")
		if err != nil {
			return err
		}
		if s, live := metric(m, syncedSample), metric(m, liveSample); s != 1 || live != float64(len(onNode)) {
			t.Fatalf("/readyz is 200 with %s %v and %s %v, want 1 and %d", syncedSample, s, liveSample, live, len(onNode))
		}
		return nil
	})
	t.Logf("ready %v after the binding was applied again", time.Since(begin).Round(100*time.Millisecond))

	// A line of a pod on this node ships with the pod's metadata, fetched
	// with the account's rights.
	web := onNode["web-1"]
	id := strings.TrimPrefix(web.Status.ContainerStatuses[0].ContainerID, "containerd://")
	logFile := filepath.Join(dir, "logs", fmt.Sprintf("%s_%s_app-%s.log", web.Name, web.Namespace, id))
	line := time.Now().UTC().Format(time.RFC3339Nano) + " stdout F {\"msg\":\"hello from web-1\"}\n"
	if err := os.WriteFile(logFile, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the enriched line on stdout", func() error {
		for _, l := range strings.Split(stdout.String(), "\n") {
			if !strings.Contains(l, "hello from web-1") {
				continue
			}
			for _, want := range []string{`"pod_name":"web-1"`, `"namespace_name":"shop"`, `"host":"` + nodeName + `"`, `"app":"web-1"`, `"pod_id":"` + string(web.UID) + `"`} {
				if !strings.Contains(l, want) {
					t.Fatalf("the line lacks %s: %s", want, l)
				}
			}
			return nil
		}
		return fmt.Errorf("not shipped yet")
	})
}

// waitFor polls check every 200ms until it passes or timeout ends.
func waitFor(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	end := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
