package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/promtest"
)

// contextSwitches sums the voluntary and involuntary context switches of
// every thread of process pid.
func contextSwitches(t *testing.T, pid int) int64 {
	t.Helper()
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/status")
	require.NoError(t, err)
	var n int64
	for _, path := range tasks {
		f, err := os.Open(path)
		if err != nil {
			continue // the thread ended
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "voluntary_ctxt_switches:"); ok {
				k, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += k
			} else if v, ok := strings.CutPrefix(sc.Text(), "nonvoluntary_ctxt_switches:"); ok {
				k, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += k
			}
		}
		f.Close()
	}
	return n
}

// switchesPerSecond is the agent's context switches per second over window.
func switchesPerSecond(t *testing.T, a *agenttest.Agent, window time.Duration) float64 {
	t.Helper()
	before, start := contextSwitches(t, a.Pid()), time.Now()
	time.Sleep(window) // the measured window; not a sync
	a.RequireRunning(t)
	return float64(contextSwitches(t, a.Pid())-before) / time.Since(start).Seconds()
}

// idleSwitchesPerSecond bounds what a waiting agent may cost, in context
// switches a second over all its threads. Waiting, it measures 100-900 on
// 2 cores at load 10-20 (the runtime's timers, the workers' tick, retries
// with backoff); an agent left behind a dead sink and a removed data_dir
// was once seen at 31,000, and a source polling for memory_limit room
// every 10 ms cost 100 wake-ups a second per file.
const idleSwitchesPerSecond = 3000

// An agent whose output is unreachable, and then whose data_dir is gone
// too, waits: it holds memory_limit's worth of lines and sleeps until the
// output answers. poll_interval is long here so that what is measured is
// the waiting, not the configured polling. The data_dir is created again
// at the first save after the output is back and the positions land in
// it, so every line arrives once and a restart reads nothing again (with
// the folder left gone, the restart found no checkpoints and sent every
// line a second time).
func TestDeadOutputAndRemovedDataDirLeaveTheAgentIdle(t *testing.T) {
	e := newEnv(t)
	c := e.corpus
	gate := newAuthGate(t, e.store.URL)
	ac := agentConfig(configParams{
		DataDir:  e.dataDir,
		Paths:    []string{filepath.Join(e.logs, "*.log")},
		StoreURL: "http://" + gate.addr,
	})
	ac.MemoryLimit = config.ByteSize(40 << 20)
	ac.Inputs[0].PollInterval = config.Duration(5 * time.Second)
	ac.Outputs[0].Username, ac.Outputs[0].Password = "sluice", "idle-pw"
	ac.Outputs[0].Retry.Max = config.Duration(time.Second)
	cfgPath := filepath.Join(filepath.Dir(e.dataDir), "idle.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(renderConfig(t, ac)), 0o600))

	const files = 60
	var lfs []*logFile
	for i := range files {
		lf := c.addFile(t, "idle-"+strconv.Itoa(i%4), "pod-"+strconv.Itoa(i), "app", formatCRI)
		c.appendLines(t, lf, 20)
		lfs = append(lfs, lf)
	}
	gate.up(t, "idle-pw")
	a := agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent"})
	base := a.WaitReady(t)
	waitForCount(t, e.store, a, c.count(), deliveryTimeout)

	// The output goes away; a backlog larger than the batches' share of
	// memory_limit is written.
	gate.down()
	for _, lf := range lfs {
		c.appendLines(t, lf, 1000)
	}
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		m := promtest.Scrape(ct, base)
		require.GreaterOrEqual(ct, promtest.Value(ct, m, "sluice_output_request_failures_total", "output", "es", "cause", "connection_refused"), 2.0)
		held := promtest.Value(ct, m, "sluice_pipeline_memory_bytes")
		share := promtest.Value(ct, m, "sluice_pipeline_batch_limit_bytes")
		require.GreaterOrEqual(ct, held, share-256<<10, "the batches' share is full: sources wait for room")
	}, 60*time.Second, 50*time.Millisecond)
	dead := switchesPerSecond(t, a, 5*time.Second)

	// data_dir goes too.
	require.NoError(t, os.RemoveAll(e.dataDir))
	bothGone := switchesPerSecond(t, a, 5*time.Second)
	t.Logf("context switches per second: output unreachable %.0f, and data_dir removed %.0f (bound %d)", dead, bothGone, idleSwitchesPerSecond)
	require.Less(t, dead, float64(idleSwitchesPerSecond), "an agent waiting for an unreachable output must not poll")
	require.Less(t, bothGone, float64(idleSwitchesPerSecond), "nor once its data_dir is gone")

	// The output is back: every line arrives once, the data_dir is
	// created again and holds the positions.
	gate.up(t, "idle-pw")
	requireExactlyOnce(t, waitForLines(t, e.store, c, a, deliveryTimeout))
	ev := a.WaitLog(t, "data_dir was removed while the agent ran; created it again and saving the checkpoints there", 1)
	require.Equal(t, e.dataDir, ev["data_dir"])
	require.FileExists(t, filepath.Join(e.dataDir, "lock"))
	require.Zero(t, a.Metric(t, "sluice_checkpoint_save_errors_total"), "the first save after the removal went to the new folder")
	require.Equal(t, 0, a.Stop(t))

	// The positions saved in the new folder hold: a restart sends nothing again.
	a2 := agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent#2"})
	a2.WaitReady(t)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.Equal(ct, float64(files), a2.Metric(ct, "sluice_files_open", "input", "containers"))
	}, deliveryTimeout, 50*time.Millisecond)
	require.Zero(t, a2.Metric(t, "sluice_input_records_total", "input", "containers"), "every file resumes at its end")
	require.Equal(t, 0, a2.Stop(t))
	// VictoriaLogs keeps a line sent twice twice: the count is the check.
	n, err := e.store.Count(t.Context(), "*")
	require.NoError(t, err)
	require.Equal(t, c.count(), n, "no line sent again after the restart")
}
