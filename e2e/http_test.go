package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/promtest"
)

func getStatus(t require.TestingT, url string) int {
	resp, err := http.Get(url)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// metricValue reads one counter or gauge from /metrics; labels are name,
// value pairs that the sample must carry.
func metricValue(t require.TestingT, base, name string, labels ...string) float64 {
	return promtest.Value(t, promtest.Scrape(t, base), name, labels...)
}

// TestHTTPAndReload runs the binary with its HTTP API: /metrics counts
// what reached the store, the probes answer, and SIGHUP reloads the config
// file — a broken file is refused while the running pipeline carries on,
// a good one takes effect and resumes from the checkpoints.
func TestHTTPAndReload(t *testing.T) {
	e := newEnv(t)
	c := e.corpus
	good, err := os.ReadFile(e.config)
	require.NoError(t, err)
	all := string(good)
	glob := "*.log\n"
	require.Contains(t, all, glob)
	paymentsOnly := strings.Replace(all, glob, "*_payments_*.log\n", 1)
	broken := strings.Replace(paymentsOnly, "memory_limit: 64MiB", "memory_limit: lots", 1)
	require.NotEqual(t, paymentsOnly, broken)
	require.NoError(t, os.WriteFile(e.config, []byte(paymentsOnly), 0o600))

	pay := c.addFile(t, "payments", "api-7d9f8c6b5-x2x9q", "api", formatCRI)
	c.appendLines(t, pay, 400)
	payLines := c.count()
	web := c.addFile(t, "web", "frontend-5c8d7f9b4-qwert", "nginx", formatDocker)
	c.appendLines(t, web, 300)
	webLines := c.count() - payLines

	a := agenttest.Start(t, e.config, agenttest.Options{Name: "agent"})
	base := a.APIURL(t, 1)
	waitForCount(t, e.store, a, payLines, deliveryTimeout)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.Equal(ct, float64(payLines), metricValue(ct, base, "sluice_input_records_total", "input", "containers"))
		require.Equal(ct, float64(payLines), metricValue(ct, base, "sluice_output_documents_total", "output", "es", "result", "sent"))
		require.Zero(ct, metricValue(ct, base, "sluice_pipeline_memory_bytes"))
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, 1.0, metricValue(t, base, "sluice_files_open", "input", "containers"), "only the payments file")
	require.Equal(t, http.StatusOK, getStatus(t, base+"/healthz"))
	require.Equal(t, http.StatusOK, getStatus(t, base+"/readyz"))
	require.Equal(t, http.StatusOK, getStatus(t, base+"/api/v1/status"))

	// A broken config: refused, logged, and the old agent keeps running —
	// the same API answers and new lines still arrive.
	require.NoError(t, os.WriteFile(e.config, []byte(broken), 0o600))
	a.Signal(t, syscall.SIGHUP)
	ev := a.WaitLog(t, "reload refused: the new config is invalid; the running agent keeps the old one", 1)
	require.Contains(t, fmt.Sprint(ev["err"]), `: must be a size such as 512Ki, 256Mi, 1Gi or 500M, got "lots"`)
	c.appendLines(t, pay, 200)
	payLines += 200
	waitForCount(t, e.store, a, payLines, deliveryTimeout)
	require.Equal(t, http.StatusOK, getStatus(t, base+"/healthz"), "the first agent's API still serves")
	require.Len(t, a.LogEvents("http api listening"), 1, "no new agent was started")
	require.Equal(t, float64(payLines), metricValue(t, base, "sluice_input_records_total", "input", "containers"))

	// A good config takes effect: the web file is read too, and the
	// payments file resumes at its checkpoint.
	require.NoError(t, os.WriteFile(e.config, []byte(all), 0o600))
	a.Signal(t, syscall.SIGHUP)
	a.WaitLog(t, "config reloaded", 1)
	base2 := a.APIURL(t, 2)
	rep := waitForLines(t, e.store, c, a, deliveryTimeout)
	requireExactlyOnce(t, rep)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.Equal(ct, float64(payLines+webLines), metricValue(ct, base2, "sluice_input_records_total", "input", "containers"),
			"the counter goes on across the reload (not back to 0): the payments lines before it, the web file after it, nothing of the payments file again")
		require.Equal(ct, float64(payLines+webLines), metricValue(ct, base2, "sluice_output_documents_total", "output", "es", "result", "sent"))
		require.Equal(ct, 2.0, metricValue(ct, base2, "sluice_files_open", "input", "containers"))
	}, 30*time.Second, 50*time.Millisecond)
	mfs := promtest.Scrape(t, base2)
	require.Equal(t, 1.0, promtest.Value(t, mfs, "sluice_config_reloads_total", "result", "invalid"))
	require.Equal(t, 1.0, promtest.Value(t, mfs, "sluice_config_reloads_total", "result", "success"))
	require.Zero(t, promtest.Value(t, mfs, "sluice_config_reloads_total", "result", "failed"))
	require.InDelta(t, float64(time.Now().Unix()), promtest.Value(t, mfs, "sluice_config_last_reload_success_timestamp_seconds"), 120)
	sum := sha256.Sum256([]byte(all))
	require.Equal(t, 1.0, promtest.Value(t, mfs, "sluice_config_info", "sha256", hex.EncodeToString(sum[:8])), "the hash of the file now running")
	require.Equal(t, http.StatusOK, getStatus(t, base2+"/healthz"))

	require.Equal(t, 0, a.Stop(t), "exit code after SIGTERM")
	requireExactlyOnce(t, c.check(mustQueryAll(t, e.store)))
}
