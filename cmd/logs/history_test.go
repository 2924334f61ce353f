package main

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/vlstore"
)

// waitStored waits until the store holds n records.
func waitStored(t *testing.T, s *vlstore.Store, n int) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got, err := s.Count(context.Background(), "*")
		require.NoError(c, err)
		require.Equal(c, n, got)
	}, 30*time.Second, 50*time.Millisecond)
}

// TestHistoryFromVictoriaLogs reads what a real agent shipped to a real
// VictoriaLogs, oldest first, across many small pages, with the filters
// and the time window, in each format.
func TestHistoryFromVictoriaLogs(t *testing.T) {
	requireBinaries(t)
	store := vlstore.Start(t)
	a := startAgent(t, agentOpts{node: "node-h", store: store})
	api := a.file("payments", "api-1", "api")
	worker := a.file("payments", "worker-1", "main")
	web := a.file("web", "web-1", "nginx")

	var wantAPI []string
	for i := range 30 {
		line := fmt.Sprintf("api line %02d", i)
		if i%10 == 9 {
			line = fmt.Sprintf("api error %02d", i)
		}
		api.write(t, line)
		wantAPI = append(wantAPI, line)
		if i == 14 {
			worker.write(t, `{"level":"warn","msg":"worker json"}`)
		}
	}
	web.write(t, "web line")
	waitStored(t, store, 32)
	between := time.Now()
	time.Sleep(10 * time.Millisecond)
	api.write(t, "api late")
	waitStored(t, store, 33)

	env := cliEnv("SLUICE_ES_URL=" + store.URL) // the agents' URL works too
	out, stderr, code := runCLI(t, env, "api-", "-n", "payments", "-o", "raw", "--page-size", "4", "--to", between.Format(time.RFC3339Nano))
	require.Equal(t, 0, code, stderr)
	require.Equal(t, wantAPI, splitLines(out), "oldest first, paged by 4, nothing after --to")

	out, stderr, code = runCLI(t, env, "-n", "payments", "--since", "1h", "--grep", "error|warn")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, []string{
		"payments/api-1 api │ api error 09",
		`payments/worker-1 main │ {"level":"warn","msg":"worker json"}`,
		"payments/api-1 api │ api error 19",
		"payments/api-1 api │ api error 29",
	}, splitLines(out))

	out, stderr, code = runCLI(t, env, "-A", "-c", "^ngi", "-o", "json", "--store", "victorialogs", "--from", between.Add(-time.Hour).Format(time.RFC3339))
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `^\{"@timestamp":"[0-9T:.-]{29}Z","kubernetes":\{"container_id":"[0-9a-f]{64}","container_name":"nginx","host":"node-h","namespace_name":"web","pod_name":"web-1"\},"log":"web line","sluice_id":"[A-Za-z0-9_-]+","stream":"stdout"\}\n$`, out)

	out, stderr, code = runCLI(t, env, "-n", "payments", "--from", between.Format(time.RFC3339Nano), "-o", "raw")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "api late\n", out)

	// --tail: the last lines of each container of the window, oldest
	// first across them.
	out, stderr, code = runCLI(t, env, "-n", "payments", "--tail", "2", "--page-size", "7")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, []string{
		`payments/worker-1 main │ {"level":"warn","msg":"worker json"}`,
		"payments/api-1 api │ api error 29",
		"payments/api-1 api │ api late",
	}, splitLines(out))

	_, stderr, code = runCLI(t, env, "--es", "http://127.0.0.1:1")
	require.Equal(t, 1, code)
	require.Equal(t, "logs: log store http://127.0.0.1:1 unreachable: dial tcp 127.0.0.1:1: connect: connection refused\n", stderr)
}

// TestHistoryThenLive joins history and the live stream while lines keep
// coming: every line is printed once, none is missing, whichever side of
// the seam it fell on.
func TestHistoryThenLive(t *testing.T) {
	requireBinaries(t)
	store := vlstore.Start(t)
	// One pipeline worker and one bulk worker: the agent then taps and
	// stores the file's lines in their order, so the output can be held
	// to it (with more workers, batches overtake each other by design).
	a := startAgent(t, agentOpts{node: "node-s", store: store, workers: 1})
	f := a.file("payments", "api-1", "api")
	other := a.file("payments", "api-2", "api")

	// A writer that never pauses: lines land before, during and after
	// the moment the CLI switches from history to live.
	line := func(i int) string {
		if i%3 == 0 { // JSON lines too; string values survive the store as they are
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
	waitStored(t, store, 150)
	other.write(t, "another pod")

	c := startCLI(t, cliEnv(), "api-1", "-f", "--since", "1h", "-n", "payments", "-o", "raw",
		"--agent", a.url, "--es", store.Root, "--page-size", "25", "--seam-delay", "1500ms")
	a.WaitLog(t, "tap client connected", 1)
	// Through the live stream's start, the seam delay and the history
	// query, then after.
	write(1500)
	last := line(n - 1)
	c.waitFor(t, last)
	time.Sleep(300 * time.Millisecond) // a duplicate would come now
	require.Equal(t, 0, c.interrupt(t))

	got := c.lines()
	seen := map[string]int{}
	for _, l := range got {
		seen[l]++
	}
	for i := range n {
		require.Equal(t, 1, seen[line(i)], "line %d printed once", i)
	}
	require.Len(t, got, n, "nothing else")
	want := make([]string, n)
	for i := range want {
		want[i] = line(i)
	}
	// History is in file order and so is the stream, and the stream only
	// adds what history lacked.
	require.Equal(t, want, got, "in order")
	require.Empty(t, c.stderr.String())
}
