package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// nodeName is the node_name of every test config; documents carry it as
// kubernetes.host.
const nodeName = "e2e-node"

// configParams fills the test config of the brief.
type configParams struct {
	DataDir  string
	Paths    []string // globs of the container_logs input
	StoreURL string
}

// configYAML renders the agent config in block style, one key per line, so
// a test can point at the line of any key.
func configYAML(p configParams) string {
	var b strings.Builder
	w := func(s string) { b.WriteString(s); b.WriteByte('\n') }
	w("node_name: " + nodeName)
	w("data_dir: " + strconv.Quote(p.DataDir))
	w("memory_limit: 64MiB")
	w("checkpoint_interval: 100ms")
	w("http:")
	w("  listen: 127.0.0.1:0")
	w("inputs:")
	w("  - name: containers")
	w("    type: container_logs")
	w("    paths:")
	for _, g := range p.Paths {
		w("      - " + strconv.Quote(g))
	}
	w("    exclude: []")
	w("    start_at: head")
	w("    poll_interval: 50ms")
	w("kubernetes:")
	w("  enabled: false")
	w("transforms:")
	w("  - type: json")
	w("    field: log")
	w("outputs:")
	w("  - name: es")
	w("    type: elasticsearch")
	w("    urls:")
	w("      - " + strconv.Quote(p.StoreURL))
	w(`    index: "logs-{kubernetes.namespace_name}-%Y.%m.%d"`)
	w("    headers:")
	b.WriteString(vlstore.HeadersYAML("      "))
	w("    id_field: sluice_id")
	w("    bulk:")
	w("      max_bytes: 256KiB")
	w("      flush_interval: 200ms")
	w("      workers: 2")
	w("    retry:")
	w("      initial: 50ms")
	w("      max: 1s")
	return b.String()
}

// writeConfig writes the config into dir and returns its path.
func writeConfig(t *testing.T, dir string, p configParams) string {
	t.Helper()
	path := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(path, []byte(configYAML(p)), 0o600))
	return path
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer = agenttest.Buffer

// agentProc is one running sluice process (internal/agenttest); the
// lower-case methods are the names the e2e tests used before agenttest.
type agentProc struct{ *agenttest.Agent }

// startAgent runs `sluice -config cfg`. The process is killed when the test
// ends; its stderr goes to the test log if the test failed.
func startAgent(t *testing.T, name, cfg string) *agentProc {
	t.Helper()
	return &agentProc{agenttest.Start(t, cfg, agenttest.Options{Name: name})}
}

func (a *agentProc) running() bool               { return a.Running() }
func (a *agentProc) requireRunning(t *testing.T) { t.Helper(); a.RequireRunning(t) }
func (a *agentProc) stop(t *testing.T) int       { t.Helper(); return a.Stop(t) }
func (a *agentProc) kill(t *testing.T)           { t.Helper(); a.Kill(t) }
