package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLiveThroughAPIServer finds the agents with the kubeconfig's
// credentials and taps them through the pod proxy; an agent that appears
// mid-tail (a new node) is picked up, one that leaves (rolling update) is
// closed, without restarting the CLI.
func TestLiveThroughAPIServer(t *testing.T) {
	requireBinaries(t)
	api := newFakeAPIServer(t)
	kc := api.kubeconfig(t)
	a := startAgent(t, agentOpts{node: "node-a"})
	api.addAgent(t, "sluice-a", a)

	// KUBECONFIG, as kubectl reads it; the context's namespace applies.
	c := startCLI(t, cliEnv("KUBECONFIG="+kc), "-f", "--agent-resync", "100ms")
	ev := a.WaitLog(t, "tap client connected", 1)
	// The agent logs the filters' names and the query's size, never its
	// values: "namespace=payments".
	require.Equal(t, "namespace", ev["filters"], "filters go down to the agent through the proxy")
	require.InDelta(t, len("namespace=payments"), ev["query_bytes"], 0)
	a.file("payments", "api-1", "api").write(t, "from node a")
	a.file("web", "web-1", "nginx").write(t, "not in payments")
	c.waitFor(t, "payments/api-1 api │ from node a")

	// A new node: its agent is tapped on the next listing.
	b := startAgent(t, agentOpts{node: "node-b"})
	api.addAgent(t, "sluice-b", b)
	b.WaitLog(t, "tap client connected", 1)
	b.file("payments", "api-2", "api").write(t, "from node b")
	c.waitFor(t, "payments/api-2 api │ from node b")

	// Agent a is replaced: the CLI closes its stream itself.
	api.removeAgent("sluice-a")
	require.Eventually(t, func() bool { return api.openStreams("sluice-a") == 0 }, 10*time.Second, 20*time.Millisecond)
	a.file("payments", "api-1", "api").write(t, "after a left")
	b.file("payments", "api-2", "api").write(t, "b goes on")
	c.waitFor(t, "payments/api-2 api │ b goes on")
	require.False(t, slices.Contains(c.lines(), "payments/api-1 api │ after a left"))

	require.Equal(t, 0, c.interrupt(t))
	require.Equal(t, []string{
		"payments/api-1 api │ from node a",
		"payments/api-2 api │ from node b",
		"payments/api-2 api │ b goes on",
	}, c.lines())
	require.Equal(t, `level=INFO msg="agent gone; its stream is closed" agent=sluice-a@node-a#uid-sluice-a`+"\n", c.stderr.String())
}

// TestAPIServerErrors: RBAC refusals and refused credentials are one line
// each and exit 1. (No agents at all: TestFollowThroughKubernetesAPI.)
func TestAPIServerErrors(t *testing.T) {
	requireBinaries(t)
	api := newFakeAPIServer(t)
	kc := api.kubeconfig(t)
	a := startAgent(t, agentOpts{node: "node-a"})
	api.addAgent(t, "sluice-a", a)
	env := cliEnv()

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--context", "nobody"},
			`logs: forbidden by RBAC: list agent pods in namespace sluice: pods is forbidden: User "nobody" cannot list resource "pods" in API group "" in the namespace "sluice"`},
		{[]string{"--context", "lister"},
			`logs: forbidden by RBAC: tap of agent sluice-a through the API server: pods "sluice-a" is forbidden: User "lister" cannot get resource "pods/proxy" in API group "" in the namespace "sluice"`},
		{[]string{"--context", "stranger"},
			`logs: unauthorized: the API server refused the kubeconfig's credentials (list agent pods in namespace sluice)`},
	} {
		_, stderr, code := runCLI(t, env, append([]string{"-f", "--kubeconfig", kc}, tc.args...)...)
		require.Equal(t, 1, code, "%v", tc.args)
		require.Equal(t, tc.want+"\n", stderr, "%v", tc.args)
	}
}

// Agents behind a tap token (deploy/'s default) are reached through the
// API server, which strips Authorization before proxying: the CLI sends
// the token as X-Sluice-Token.
func TestLiveThroughAPIServerWithToken(t *testing.T) {
	requireBinaries(t)
	api := newFakeAPIServer(t)
	kc := api.kubeconfig(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("tap-s3cret\n"), 0o600))
	a := startAgent(t, agentOpts{node: "node-a", tokenFile: tokenFile})
	api.addAgent(t, "sluice-a", a)

	c := startCLI(t, cliEnv("KUBECONFIG="+kc), "-f", "--token-file", tokenFile)
	a.WaitLog(t, "tap client connected", 1)
	a.file("payments", "api-1", "api").write(t, "behind a token")
	c.waitFor(t, "payments/api-1 api │ behind a token")
	require.Equal(t, 0, c.interrupt(t))
}
