package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAPIHistoryThenLive: `logs -f --since 1h` with no store reads
// history from pods/log (the kubelet's file) and goes on live from the
// agent tailing the same file, under a writer that never pauses: every
// line once, in the file's order.
func TestAPIHistoryThenLive(t *testing.T) {
	requireBinaries(t)
	// One pipeline worker: the agent taps the file's lines in order.
	a := startAgent(t, agentOpts{node: "node-a", workers: 1})
	kc := startKubeletCluster(t, a.dir)
	f := kc.pod(t, "shop", "api-1", map[string]string{"app": "api"}, nil, "app")["app"]
	kubeconfig := kc.WriteKubeconfig(t, kc.AdminToken)

	line := func(i int) string {
		if i%3 == 0 { // a JSON line: the agent merges it, pods/log has it as written
			return `{"msg":"line ` + strconv.Itoa(i) + `"}`
		}
		return "line " + strconv.Itoa(i)
	}
	n := 0
	write := func(k int) {
		for range k {
			f.write(t, line(n))
			n++
			time.Sleep(2 * time.Millisecond)
		}
	}
	write(150)
	c := startCLI(t, cliEnv("KUBECONFIG="+kubeconfig), "api-1", "-f", "--since", "1h", "-n", "shop", "-o", "raw", "--agent", a.url)
	a.WaitLog(t, "tap client connected", 1)
	write(800)
	last := line(n - 1)
	c.waitFor(t, last)
	require.Equal(t, 0, c.interrupt(t))

	got := c.lines()
	want := make([]string, n)
	for i := range want {
		want[i] = line(i)
	}
	require.Equal(t, want, got, "every line once, in order")
	require.Empty(t, c.stderr.String())
}
