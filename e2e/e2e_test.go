package e2e

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// deliveryTimeout bounds each wait for the store to hold every line.
const deliveryTimeout = 60 * time.Second

// env is one agent setup: a store, a log directory, a data dir, a config.
type env struct {
	store   *vlstore.Store
	logs    string
	dataDir string
	config  string
	corpus  *corpus
}

func newEnv(t *testing.T) *env {
	t.Helper()
	agenttest.Binary(t)
	dir := t.TempDir()
	e := &env{
		store:   vlstore.Start(t),
		logs:    filepath.Join(dir, "logs"),
		dataDir: filepath.Join(dir, "data"),
	}
	e.corpus = newCorpus(t, e.logs)
	e.config = writeConfig(t, dir, configParams{
		DataDir:  e.dataDir,
		Paths:    []string{filepath.Join(e.logs, "*.log")},
		StoreURL: e.store.URL,
	})
	return e
}

// standardFiles creates 4 CRI and 2 docker files over three namespaces,
// two of them containers of one pod.
func (e *env) standardFiles(t *testing.T) []*logFile {
	t.Helper()
	c := e.corpus
	return []*logFile{
		c.addFile(t, "payments", "api-7d9f8c6b5-x2x9q", "api", formatCRI),
		c.addFile(t, "payments", "api-7d9f8c6b5-x2x9q", "istio-proxy", formatCRI),
		c.addFile(t, "web", "frontend-5c8d7f9b4-qwert", "nginx", formatCRI),
		c.addFile(t, "web", "frontend-5c8d7f9b4-asdfg", "nginx", formatCRI),
		c.addFile(t, "payments", "ledger-0", "ledger", formatDocker),
		c.addFile(t, "batch", "report-28391023-h7k2p", "report", formatDocker),
	}
}

func TestEndToEnd(t *testing.T) {
	e := newEnv(t)
	c := e.corpus
	files := e.standardFiles(t)
	for _, lf := range files {
		c.appendLines(t, lf, 500)
	}

	a := agenttest.Start(t, e.config, agenttest.Options{Name: "agent#1"})
	waitForCount(t, e.store, a, 1, deliveryTimeout)

	// Append while it runs, then a file that did not exist at start.
	for range 10 {
		for _, lf := range files {
			c.appendLines(t, lf, 50)
		}
		time.Sleep(20 * time.Millisecond) // pace the writers; not a sync
	}
	late := c.addFile(t, "late-ns", "late-pod-1", "worker", formatCRI)
	for range 3 {
		c.appendLines(t, late, 100)
		time.Sleep(20 * time.Millisecond) // pace the writer; not a sync
	}
	files = append(files, late)
	t.Logf("wrote %s", c.summary())

	rep := waitForLines(t, e.store, c, a, deliveryTimeout)
	requireExactlyOnce(t, rep)

	require.Equal(t, 0, a.Stop(t), "exit code after SIGTERM")
	rows := mustQueryAll(t, e.store)
	requireExactlyOnce(t, c.check(rows))

	// Lines written while the agent is down, and a file created meanwhile,
	// arrive after the restart; nothing acknowledged before is sent again.
	for _, lf := range files {
		c.appendLines(t, lf, 200)
	}
	down := c.addFile(t, "batch", "created-while-down-1", "job", formatDocker)
	c.appendLines(t, down, 150)
	t.Logf("wrote %s", c.summary())

	a2 := agenttest.Start(t, e.config, agenttest.Options{Name: "agent#2"})
	rep = waitForLines(t, e.store, c, a2, deliveryTimeout)
	requireExactlyOnce(t, rep)
	require.Equal(t, 0, a2.Stop(t), "exit code after SIGTERM")
	rows = mustQueryAll(t, e.store)
	requireExactlyOnce(t, c.check(rows))
}

func TestCrashRestart(t *testing.T) {
	e := newEnv(t)
	c := e.corpus
	files := e.standardFiles(t)
	for _, lf := range files {
		c.appendLines(t, lf, 300)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopWriters := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopWriters)
	for _, lf := range files {
		wg.Add(1)
		go c.writer(t, lf, 10, 20*time.Millisecond, stop, &wg)
	}

	const crashes = 2
	a := agenttest.Start(t, e.config, agenttest.Options{Name: "agent#1"})
	threshold := 1500
	for i := range crashes {
		got := waitForCount(t, e.store, a, threshold, deliveryTimeout)
		a.Kill(t)
		t.Logf("SIGKILL %d with %d rows in the store and %d lines written", i+1, got, c.count())
		threshold = got + 1000
		a = agenttest.Start(t, e.config, agenttest.Options{Name: "agent#" + string(rune('2'+i))})
	}
	// Let the restarted agent make progress with the writers still on.
	waitForCount(t, e.store, a, threshold, deliveryTimeout)
	stopWriters()
	t.Logf("wrote %s", c.summary())

	rep := waitForLines(t, e.store, c, a, deliveryTimeout)
	requireIdempotent(t, rep)
	require.Equal(t, 0, a.Stop(t), "exit code after SIGTERM")

	rows := mustQueryAll(t, e.store)
	rep = c.check(rows)
	requireIdempotent(t, rep)
	t.Logf("%d lines, %d rows: %d replays after %d crashes, all with the sluice_id of their line",
		c.count(), rep.rows, rep.replays(), crashes)
}
