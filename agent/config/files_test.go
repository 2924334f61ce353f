package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAllowedRoots(t *testing.T) {
	cfg, err := Parse([]byte("data_dir: /tmp/x\ninputs:\n  - { name: c, type: container_logs, paths: [/x/*.log] }\n  - { name: d, type: container_logs, paths: [/y/*.log], allowed_roots: [/srv/logs] }\n  - { name: e, type: container_logs, paths: [/z/*.log], allowed_roots: [] }\noutputs: [{ name: o, type: console }]\n"), env(nil))
	require.NoError(t, err)
	require.Equal(t, DefaultAllowedRoots, cfg.Inputs[0].AllowedRoots, "default")
	require.Equal(t, []string{"/srv/logs"}, cfg.Inputs[1].AllowedRoots, "replaces the defaults")
	require.Equal(t, []string{}, cfg.Inputs[2].AllowedRoots, "only the globs' folders")

	_, err = Parse([]byte("data_dir: /tmp/x\ninputs:\n  - { name: c, type: container_logs, paths: [/x/*.log], allowed_roots: [logs] }\n  - { name: s, type: syslog, udp: 127.0.0.1:1, allowed_roots: [/x] }\noutputs: [{ name: o, type: console }]\n"), env(nil))
	require.ErrorContains(t, err, `inputs[0].allowed_roots (line 3): must hold absolute folders, got "logs"`)
	require.ErrorContains(t, err, `inputs[1].allowed_roots (line 4): not a key of a syslog input (only for container_logs)`)
}

// TestAgentFiles: every file the agent reads for itself reaches the
// container_logs inputs, so that no link can ship it: data_dir, the
// config file, and each *_file key.
func TestAgentFiles(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(token, []byte("t0ken\n"), 0o600))
	path := filepath.Join(dir, "sluice.yaml")
	raw, onDisk := withFiles(t, `data_dir: /var/lib/sluice
http: { listen: 127.0.0.1:0, token_file: `+token+` }
inputs:
  - { name: c, type: container_logs, paths: [/x/*.log] }
  - { name: s, type: syslog, tcp: 127.0.0.1:0, tls: { cert_file: /etc/tls/crt, key_file: /etc/tls/key } }
kubernetes: { enabled: true, kubeconfig: /etc/kubeconfig }
outputs:
  - { name: es, type: elasticsearch, urls: [http://x:9200], username: u, password_file: /etc/es/password, tls: { ca_file: /etc/es/ca.crt } }
`, "/etc/tls/crt", "/etc/tls/key", "/etc/es/password", "/etc/es/ca.crt", "/etc/kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(raw), 0o600))
	cfg, err := Load(path)
	require.NoError(t, err)
	files := cfg.Inputs[0].AgentFiles
	for _, f := range []string{"/var/lib/sluice", path, token, onDisk["/etc/tls/crt"], onDisk["/etc/tls/key"], onDisk["/etc/kubeconfig"],
		onDisk["/etc/es/password"], onDisk["/etc/es/ca.crt"], "/var/run/secrets/kubernetes.io/serviceaccount/token"} {
		require.Contains(t, files, f)
	}
	require.Empty(t, cfg.Inputs[1].AgentFiles, "not a file input")
}
