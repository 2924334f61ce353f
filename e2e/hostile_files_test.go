package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// TestHostileLinks runs the binary over a log folder where a pod on the
// node has planted links named like container logs: to the agent's tap
// token, its config, its data_dir, to /etc/passwd, /proc/self/limits,
// /proc/self/environ and /dev/zero. None of them reaches the store; each
// is counted in sluice_input_files_refused_total by reason and logged
// once, and the real logs around them arrive exactly once. Before, the
// agent shipped /etc/passwd and its own token, and re-read
// /proc/self/limits in a tight loop (200,000 records a second).
func TestHostileLinks(t *testing.T) {
	e := newEnv(t)
	c := e.corpus
	dir := filepath.Dir(e.config)
	secret := "tap-" + randomHex(t, 32)
	token := filepath.Join(dir, "tap-token")
	require.NoError(t, os.WriteFile(token, []byte(secret+"\n"), 0o600))
	raw, err := os.ReadFile(e.config)
	require.NoError(t, err)
	listen := "  listen: 127.0.0.1:0\n"
	require.Contains(t, string(raw), listen)
	cfg := strings.Replace(string(raw), listen, listen+"  token_file: "+strconv.Quote(token)+"\n", 1)
	require.NoError(t, os.WriteFile(e.config, []byte(cfg), 0o600))

	links := map[string]string{ // pod name -> target
		"token":   token,
		"config":  e.config,
		"data":    e.dataDir,
		"passwd":  "/etc/passwd",
		"limits":  "/proc/self/limits",
		"environ": "/proc/self/environ",
		"zero":    "/dev/zero",
	}
	for pod, target := range links {
		name := pod + "_hostile_c-" + randomHex(t, 64) + ".log"
		require.NoError(t, os.Symlink(target, filepath.Join(e.logs, name)))
	}
	before := c.addFile(t, "payments", "api-0", "api", formatCRI)
	c.appendLines(t, before, 200)

	a := agenttest.Start(t, e.config, agenttest.Options{Name: "agent"})
	base := a.APIURL(t, 1)
	refused := func(ct require.TestingT, reason string) float64 {
		return metricValue(ct, base, "sluice_input_files_refused_total", "input", "containers", "reason", reason)
	}
	want := map[string]float64{"agent_file": 3, "outside_roots": 1, "system": 3, "size_unreliable": 0}
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		for reason, n := range want {
			require.Equal(ct, n, refused(ct, reason), reason)
		}
	}, deliveryTimeout, 50*time.Millisecond)

	// A file that appears after the refusals: once it is in the store,
	// scans have passed the links again and anything read from them had
	// its time to arrive too.
	after := c.addFile(t, "web", "web-0", "nginx", formatDocker)
	c.appendLines(t, after, 100)
	rep := waitForLines(t, e.store, c, a, deliveryTimeout)
	requireExactlyOnce(t, rep)
	n, err := e.store.Count(t.Context(), `kubernetes.namespace_name:"hostile"`)
	require.NoError(t, err)
	require.Zero(t, n, "rows from a planted link")
	for reason, n := range want {
		require.Equal(t, n, refused(t, reason), "counted once however many scans: %s", reason)
	}
	require.Len(t, a.LogEvents("log file refused; not read"), len(links), "logged once each")
	require.NotContains(t, a.Stderr.String(), secret)
	require.Equal(t, 0, a.Stop(t))
}
