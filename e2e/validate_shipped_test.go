package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/testcert"
)

// TestValidate_ShippedConfigs: every agent config shipped in deploy/ (the
// base and the examples) passes `sluice -validate` with exit 0 and no
// warning, as it reads in its pod: the files it names are the mounted
// Secrets, stood in for here by real ones (the CA a real certificate),
// and the variables are the DaemonSet's. GOMAXPROCS=64 plays a CI runner
// with many cores: the memory warning must not depend on the machine that
// validates.
func TestValidate_ShippedConfigs(t *testing.T) {
	agenttest.Binary(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	ca, _ := testcert.Write(t, dir)
	// What the pod mounts (deploy/base/daemonset.yaml and the overlays).
	mounts := map[string]string{
		"/etc/sluice-tap/token":   write("tap-token", "tap-token\n"),
		"/etc/sluice-es/password": write("password", "es-password\n"),
		"/etc/sluice-es/api-key":  write("api-key", "c2x1aWNlOnRlc3Q=\n"),
		"/etc/sluice-es/ca.crt":   ca,
		"/var/lib/sluice":         filepath.Join(dir, "hostpath", "var-lib-sluice"),
	}
	env := []string{"NODE_NAME=node-1", "ES_URL=https://es.example:9200", "ES_USERNAME=sluice", "SLUICE_DEMO=" + filepath.Join(dir, "demo"), "GOMAXPROCS=64"}

	var configs []string
	for _, g := range []string{"../deploy/base/sluice.yaml", "../deploy/examples/*.yaml", "../deploy/examples/*/sluice.yaml"} {
		m, err := filepath.Glob(g)
		require.NoError(t, err)
		for _, f := range m {
			if !strings.HasSuffix(f, ".test.yaml") { // sluice test's cases, not configs
				configs = append(configs, f)
			}
		}
	}
	require.GreaterOrEqual(t, len(configs), 4, "the shipped configs: %v", configs)
	for _, file := range configs {
		t.Run(strings.TrimPrefix(file, "../deploy/"), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			text := string(raw)
			for from, to := range mounts {
				text = strings.ReplaceAll(text, from, to)
			}
			// A file the config names that no mount above stands for
			// must be added there, not pass unchecked.
			for _, l := range strings.Split(text, "\n") {
				if !strings.HasPrefix(strings.TrimSpace(l), "#") {
					require.NotContains(t, l, "/etc/", "a file this test does not stand in for")
				}
			}
			code, stderr := validate(t, text, env...)
			require.Equal(t, 0, code, "stderr:\n%s", stderr)
			require.NotContains(t, stderr, "warning")
			require.Contains(t, stderr, "is valid\n")
		})
	}
}
