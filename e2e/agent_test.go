package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
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

// agentConfig is the test config of the brief: agenttest's, read from
// the head, JSON in the log field parsed, into the store at StoreURL with
// an index per namespace and day. Tests change it before rendering.
func agentConfig(p configParams) config.Config {
	c := agenttest.Config(filepath.Dir(p.DataDir))
	c.NodeName = nodeName
	c.DataDir = p.DataDir
	in := agenttest.ContainerLogs(p.Paths...)
	in.Exclude = []string{} // nothing left out, not the default
	c.Inputs = []config.Input{in}
	c.Transforms = []config.Transform{config.NewTransform(&config.JSON{Field: "log"})}
	out := agenttest.StoreOutput(p.StoreURL)
	out.Index = "logs-{kubernetes.namespace_name}-%Y.%m.%d"
	out.Bulk.Workers = 2
	c.Outputs = []config.Output{out}
	return c
}

// renderConfig writes c as YAML in block style, one key per line
// (agenttest.Render), so a test can point at the line of any key.
func renderConfig(t *testing.T, c config.Config) string {
	t.Helper()
	raw, err := agenttest.Render(c)
	require.NoError(t, err)
	return string(raw)
}

// configYAML renders agentConfig(p).
func configYAML(t *testing.T, p configParams) string {
	t.Helper()
	return renderConfig(t, agentConfig(p))
}

// writeConfig writes the config into dir and returns its path.
func writeConfig(t *testing.T, dir string, p configParams) string {
	t.Helper()
	path := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(path, []byte(configYAML(t, p)), 0o600))
	return path
}
