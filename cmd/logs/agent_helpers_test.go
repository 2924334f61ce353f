package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// agentOpts shape one test agent.
type agentOpts struct {
	node      string
	store     *vlstore.Store // nil: console output only
	tokenFile string         // http.token_file, if set
	workers   int            // pipeline workers; 0 = one per CPU
	// kubeconfig, when set, turns Kubernetes metadata on against that
	// API server (node is the agent's node_name).
	kubeconfig string
	// syncTimeout is kubernetes.sync_timeout; 0 = the default.
	syncTimeout time.Duration
	// dir, when set, is the folder of container log files to tail
	// (a kubelet endpoint's); else one under t.TempDir.
	dir string
}

// agent is a running sluice binary (internal/agenttest) that tails
// dir/*.log.
type agent struct {
	*agenttest.Agent
	name string
	dir  string // where its container log files go
	url  string // its HTTP API
}

// startAgent runs an agent on a free loopback port and waits for its API.
func startAgent(t *testing.T, o agentOpts) *agent {
	t.Helper()
	root := t.TempDir()
	a := &agent{name: o.node, dir: filepath.Join(root, "logs")}
	if o.dir != "" {
		a.dir = o.dir
	}
	require.NoError(t, os.MkdirAll(a.dir, 0o755))
	c := agenttest.Config(root)
	c.NodeName, c.Workers, c.HTTP.TokenFile = o.node, o.workers, o.tokenFile
	c.MemoryLimit, c.CheckpointInterval = config.Default().MemoryLimit, config.Default().CheckpointInterval
	c.Inputs = []config.Input{agenttest.ContainerLogs(filepath.Join(a.dir, "*.log"))}
	if o.kubeconfig != "" {
		c.Kubernetes.Enabled, c.Kubernetes.Kubeconfig = true, o.kubeconfig
		c.Kubernetes.LookupWait = config.Duration(5 * time.Second)
		if o.syncTimeout > 0 {
			c.Kubernetes.SyncTimeout = config.Duration(o.syncTimeout)
		}
	}
	c.Transforms = []config.Transform{config.NewTransform(&config.JSON{Field: "log"})}
	c.Outputs = []config.Output{agenttest.Console()}
	if o.store != nil {
		es := agenttest.StoreOutput(o.store.URL)
		es.Bulk = config.Bulk{FlushInterval: config.Duration(100 * time.Millisecond), Workers: 1}
		c.Outputs = []config.Output{es}
	}
	a.Agent = agenttest.Start(t, agenttest.WriteConfig(t, root, c), agenttest.Options{Name: o.node, Bin: agentBinary(t)})
	a.url = a.URL(t)
	return a
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
