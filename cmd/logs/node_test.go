package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFollowNodeLive: `logs -f --node node-b` taps only node-b's agent
// (found through the API server) and prints only its lines; a witness
// without --node shows node-a's lines went by meanwhile.
func TestFollowNodeLive(t *testing.T) {
	requireBinaries(t)
	api := newFakeAPIServer(t)
	kc := api.kubeconfig(t)
	a := startAgent(t, agentOpts{node: "node-a"})
	b := startAgent(t, agentOpts{node: "node-b"})
	api.addAgent(t, "sluice-a", a)
	api.addAgent(t, "sluice-b", b)
	env := cliEnv("KUBECONFIG=" + kc)

	witness := startCLI(t, env, "-f")
	a.WaitLog(t, "tap client connected", 1)
	b.WaitLog(t, "tap client connected", 1)
	c := startCLI(t, env, "-f", "--node", "node-b")
	b.WaitLog(t, "tap client connected", 2)

	a.file("payments", "api-1", "api").write(t, "on node a")
	b.file("payments", "api-2", "api").write(t, "on node b")
	a.file("payments", "api-1", "api").write(t, "on node a again")
	b.file("payments", "api-2", "api").write(t, "on node b again")
	witness.waitFor(t, "payments/api-1 api │ on node a", "payments/api-2 api │ on node b",
		"payments/api-1 api │ on node a again", "payments/api-2 api │ on node b again")
	c.waitFor(t, "payments/api-2 api │ on node b again")
	require.Equal(t, 0, c.interrupt(t))
	require.Equal(t, []string{"payments/api-2 api │ on node b", "payments/api-2 api │ on node b again"}, c.lines())
	require.Empty(t, c.stderr.String())
	require.Equal(t, 1, a.Stderr.Count("tap client connected"), "--node node-b does not tap node-a's agent")
	require.Equal(t, 0, witness.interrupt(t))
}
