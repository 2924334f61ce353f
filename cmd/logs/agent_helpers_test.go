package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/sluicelog/sluice/internal/proctest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer = proctest.Buffer

// agentOpts shape one test agent.
type agentOpts struct {
	node      string
	store     *vlstore.Store // nil: console output only
	tokenFile string         // http.token_file, if set
	workers   int            // pipeline workers; 0 = one per CPU
	// kubeconfig, when set, turns Kubernetes metadata on against that
	// API server (node is the agent's node_name).
	kubeconfig string
}

// agent is a running sluice binary that tails dir/*.log.
type agent struct {
	name   string
	dir    string // where its container log files go
	url    string // its HTTP API
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
}

// startAgent runs an agent on a free loopback port and waits for its API.
func startAgent(t *testing.T, o agentOpts) *agent {
	t.Helper()
	root := t.TempDir()
	a := &agent{name: o.node, dir: filepath.Join(root, "logs"), stderr: &lockedBuffer{}, done: make(chan struct{})}
	require.NoError(t, os.MkdirAll(a.dir, 0o755))
	var b strings.Builder
	w := func(s string) { b.WriteString(s + "\n") }
	w("node_name: " + o.node)
	w("data_dir: " + strconv.Quote(filepath.Join(root, "data")))
	w("workers: " + strconv.Itoa(o.workers))
	w("http:")
	w("  listen: 127.0.0.1:0")
	if o.tokenFile != "" {
		w("  token_file: " + strconv.Quote(o.tokenFile))
	}
	w("inputs:")
	w("  - name: containers")
	w("    type: container_logs")
	w("    paths: [" + strconv.Quote(filepath.Join(a.dir, "*.log")) + "]")
	w("    start_at: head")
	w("    poll_interval: 50ms")
	w("kubernetes:")
	if o.kubeconfig != "" {
		w("  enabled: true")
		w("  kubeconfig: " + strconv.Quote(o.kubeconfig))
		w("  lookup_wait: 5s")
	} else {
		w("  enabled: false")
	}
	w("transforms:")
	w("  - type: json")
	w("    field: log")
	w("outputs:")
	if o.store == nil {
		w("  - name: stdout")
		w("    type: console")
	} else {
		w("  - name: es")
		w("    type: elasticsearch")
		w("    urls: [" + strconv.Quote(o.store.URL) + "]")
		w("    headers:")
		b.WriteString(vlstore.HeadersYAML("      "))
		w("    id_field: sluice_id")
		w("    bulk: { flush_interval: 100ms, workers: 1 }")
		w("    retry: { initial: 50ms, max: 1s }")
	}
	cfg := filepath.Join(root, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(b.String()), 0o600))

	a.cmd = exec.Command(agentBin, "-config", cfg)
	a.cmd.Stderr = a.stderr
	require.NoError(t, a.cmd.Start())
	go func() {
		_ = a.cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(func() {
		a.kill()
		if t.Failed() {
			t.Logf("agent %s stderr:\n%s", a.name, tailOf(a.stderr.String(), 8<<10))
		}
	})
	ev := a.waitLog(t, "http api listening", 1)
	a.url = "http://" + fmt.Sprint(ev["addr"])
	return a
}

func (a *agent) kill() {
	select {
	case <-a.done:
	default:
		_ = a.cmd.Process.Kill()
		<-a.done
	}
}

// waitLog waits until the agent logged msg n times; it returns the nth.
func (a *agent) waitLog(t *testing.T, msg string, n int) map[string]any {
	t.Helper()
	var got []map[string]any
	require.Eventually(t, func() bool {
		got = got[:0]
		for line := range strings.SplitSeq(a.stderr.String(), "\n") {
			var ev map[string]any
			if json.Unmarshal([]byte(line), &ev) == nil && ev["msg"] == msg {
				got = append(got, ev)
			}
		}
		return len(got) >= n
	}, 30*time.Second, 10*time.Millisecond, "agent %s: log %q x%d", a.name, msg, n)
	return got[n-1]
}

// podFile is one container's log file, as the kubelet names it.
type podFile struct {
	path               string
	ns, pod, container string
}

func (a *agent) file(ns, pod, container string) *podFile {
	id := strings.Repeat(fmt.Sprintf("%x", len(pod)+len(container)), 64)[:64]
	name := fmt.Sprintf("%s_%s_%s-%s.log", pod, ns, container, id)
	return &podFile{path: filepath.Join(a.dir, name), ns: ns, pod: pod, container: container}
}

// fileOf is the log file of a pod's container as the kubelet names it,
// with the container ID its status reports (kubetest.SetPodRunning).
func (a *agent) fileOf(t *testing.T, p *corev1.Pod, container string) *podFile {
	t.Helper()
	for _, st := range p.Status.ContainerStatuses {
		if st.Name == container {
			id := strings.TrimPrefix(st.ContainerID, "containerd://")
			name := fmt.Sprintf("%s_%s_%s-%s.log", p.Name, p.Namespace, container, id)
			return &podFile{path: filepath.Join(a.dir, name), ns: p.Namespace, pod: p.Name, container: container}
		}
	}
	t.Fatalf("pod %s has no status for container %s", p.Name, container)
	return nil
}

// write appends CRI lines stamped now, one nanosecond-distinct time each.
func (f *podFile) write(t *testing.T, lines ...string) {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s stdout F %s\n", time.Now().UTC().Format(time.RFC3339Nano), l)
	}
	fh, err := os.OpenFile(f.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = fh.WriteString(b.String())
	require.NoError(t, err)
	require.NoError(t, fh.Close())
}

func tailOf(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[...]" + s[len(s)-n:]
}
