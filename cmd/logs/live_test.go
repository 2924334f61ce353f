package main

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLiveFromAgents follows two real agents (--agent) at once: the
// filters go down to the agents, whose streams merge into one output, in
// each format.
func TestLiveFromAgents(t *testing.T) {
	requireBinaries(t)
	a := startAgent(t, agentOpts{node: "node-a"})
	b := startAgent(t, agentOpts{node: "node-b"})
	env := cliEnv()
	agents := []string{"--agent", a.url, "--agent", b.url}

	// One user filters hard, one sees everything as text, one as JSON.
	filtered := startCLI(t, env, append([]string{"api-", "-f", "-n", "payments", "-c", "api", "--grep", "err(or)?", "-o", "raw"}, agents...)...)
	a.WaitLog(t, "tap client connected", 1)
	b.WaitLog(t, "tap client connected", 1)
	all := startCLI(t, env, append([]string{"-f", "-A"}, agents...)...)
	a.WaitLog(t, "tap client connected", 2)
	b.WaitLog(t, "tap client connected", 2)
	asJSON := startCLI(t, env, append([]string{"-f", "-o", "json", "--input", "containers", "-n", "web"}, agents...)...)
	a.WaitLog(t, "tap client connected", 3)
	b.WaitLog(t, "tap client connected", 3)

	api1 := a.file("payments", "api-1", "api")
	side := b.file("payments", "api-2", "istio-proxy")
	api2 := b.file("payments", "api-2", "api")
	web := b.file("web", "api-3", "api")
	db := a.file("payments", "db-0", "api")
	api1.write(t, "error one", "fine one")
	side.write(t, "error in the sidecar")
	api2.write(t, "err two", `{"level":"error","msg":"json error"}`)
	web.write(t, "error on the web")
	db.write(t, "error in the db")
	api1.write(t, "error last")
	api2.write(t, "err last")

	// Each file is read on its own, so lines of different files arrive
	// in any order: wait for all of them, then look for extras.
	want := []string{
		"err last", "err two", "error last", "error one",
		// The agent greps the line as written; raw prints the merged
		// members put back together.
		`{"level":"error","msg":"json error"}`,
	}
	filtered.waitFor(t, want...)
	got := filtered.lines()
	sort.Strings(got)
	require.Equal(t, want, got)

	want = []string{
		"payments/api-1 api │ error last",
		"payments/api-1 api │ error one",
		"payments/api-1 api │ fine one",
		"payments/api-2 api │ err last",
		"payments/api-2 api │ err two",
		`payments/api-2 api │ {"level":"error","msg":"json error"}`,
		"payments/api-2 istio-proxy │ error in the sidecar",
		"payments/db-0 api │ error in the db",
		"web/api-3 api │ error on the web",
	}
	all.waitFor(t, want...)
	got = all.lines()
	sort.Strings(got)
	require.Equal(t, want, got)

	require.Eventually(t, func() bool { return len(asJSON.lines()) == 1 }, 10e9, 2e7)
	require.Regexp(t, `^\{"@timestamp":"[0-9T:.-]+Z","stream":"stdout","log":"error on the web","kubernetes":\{"namespace_name":"web","pod_name":"api-3","container_name":"api","container_id":"[0-9a-f]{64}","host":"node-b"\}\}$`, asJSON.lines()[0])

	for _, c := range []*cli{filtered, all, asJSON} {
		require.Equal(t, 0, c.interrupt(t), "Ctrl-C ends cleanly")
		require.Empty(t, c.stderr.String())
	}
}

// TestLiveErrors: an agent that wants a token, a bad filter, an agent
// that is not there — each one line on stderr and a non-zero exit.
func TestLiveErrors(t *testing.T) {
	requireBinaries(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600))
	a := startAgent(t, agentOpts{node: "node-t", tokenFile: tokenFile})
	env := cliEnv()

	_, stderr, code := runCLI(t, env, "-f", "--agent", a.url)
	require.Equal(t, 1, code)
	require.Equal(t, "logs: agent "+a.url[len("http://"):]+": unauthorized (401): it wants a bearer token (--token-file)\n", stderr)

	_, stderr, code = runCLI(t, env, "-f", "--agent", a.url, "--token-file", tokenFile, "--grep", "(")
	require.Equal(t, 2, code, "a bad pattern is a bad command line")
	require.Equal(t, "logs: --grep: error parsing regexp: missing closing ): `(` (see logs --help)\n", stderr)

	_, stderr, code = runCLI(t, env, "-f", "--agent", "http://127.0.0.1:1")
	require.Equal(t, 1, code)
	require.Equal(t, "logs: agent 127.0.0.1:1 unreachable: dial tcp 127.0.0.1:1: connect: connection refused\n", stderr)

	_, stderr, code = runCLI(t, env, "-f")
	require.Equal(t, 1, code)
	require.Equal(t, "logs: no kubeconfig found: set KUBECONFIG or --kubeconfig, or give an agent with --agent URL\n", stderr)

	_, stderr, code = runCLI(t, env, "-n", "x", "-A")
	require.Equal(t, 2, code)
	require.Equal(t, "logs: -n and -A: choose one (see logs --help)\n", stderr)

	_, stderr, code = runCLI(t, env, "--since", "1h")
	require.Equal(t, 1, code)
	require.Equal(t, "logs: history needs a log store (--es URL or $SLUICE_ES_URL) or a kubeconfig (KUBECONFIG or --kubeconfig) to read it from the Kubernetes API\n", stderr)

	// With the token, it streams.
	c := startCLI(t, env, "-f", "--agent", a.url, "--token-file", tokenFile, "-o", "raw")
	a.WaitLog(t, "tap client connected", 1)
	a.file("ns", "p", "c").write(t, "with a token")
	c.waitFor(t, "with a token")
	require.Equal(t, 0, c.interrupt(t))
}
