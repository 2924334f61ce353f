package e2e

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// filterTransforms are the transforms of TestFiltersAndRouting, after the
// json parser of agentConfig.
const filterTransforms = `  - type: drop
    name: no-kube-system
    namespaces: [kube-system]
  - type: fields
    name: scrub
    redact:
      - { field: log, pattern: "token=\\S+", replacement: "token=[REDACTED]" }
  - type: throttle
    name: noisy
    match: { namespaces: [noisy] }
    rate: 50
    burst: 50
    summary_interval: 500ms
`

// criFile is a kubelet-named CRI log file of one container.
func criFile(dir, ns, pod string) string {
	return filepath.Join(dir, pod+"_"+ns+"_app-"+strings.Repeat("c0", 32)+".log")
}

// The agent binary with filters and two outputs, through real stores: a
// dropped namespace never arrives, a redacted token never appears, a
// throttled pod arrives at its rate with summary records accounting for
// every line it lost while the other pods arrive whole, and each output
// receives exactly its share. The second output is down meanwhile: it
// holds its files' checkpoints back, so after kill -9 and a restart it
// receives every line, and nothing is missing from either.
func TestFiltersAndRouting(t *testing.T) {
	agenttest.Binary(t)
	all, quietStore := vlstore.Start(t), vlstore.Start(t)
	qu, err := url.Parse(quietStore.URL)
	require.NoError(t, err)
	proxy := startCutProxy(t, qu.Host)
	proxy.cut()
	quietURL := strings.Replace(quietStore.URL, qu.Host, proxy.l.Addr().String(), 1)

	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	c := agentConfig(configParams{DataDir: filepath.Join(dir, "data"), Paths: []string{filepath.Join(logs, "*.log")}, StoreURL: all.URL})
	// The second output: a copy of the first pointed at the other store,
	// for namespace quiet only.
	second := c.Outputs[0]
	second.Name, second.URLs = "quiet", []string{quietURL}
	second.Match = &config.Match{Namespaces: []string{"quiet"}}
	c.Outputs = append(c.Outputs, second)
	json := "  - type: json\n    field: log\n"
	cfg := renderConfig(t, c)
	require.Contains(t, cfg, json)
	cfg = strings.Replace(cfg, json, json+filterTransforms, 1)
	cfgPath := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))

	const quietLines, secretLines, systemLines = 300, 40, 100
	writeCRI(t, criFile(logs, "quiet", "quiet-0"), quietLines, func(i int) string { return fmt.Sprintf(`{"msg":"quiet","n":%d}`, i) })
	writeCRI(t, criFile(logs, "shop", "cart-0"), secretLines, func(i int) string {
		return fmt.Sprintf("GET /cart?token=s3cr3t%d&page=%d", i, i)
	})
	writeCRI(t, criFile(logs, "kube-system", "dns-0"), systemLines, func(i int) string { return fmt.Sprintf("dns line %d", i) })

	a := agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent#1"})
	// The noisy pod writes 1000 lines/s for 3s against a limit of 50/s.
	noisy := criFile(logs, "noisy", "spam-0")
	start := time.Now()
	written := 0
	for range 30 {
		writeCRI(t, noisy, 100, func(i int) string { return fmt.Sprintf("spam %d", written+i) })
		written += 100
		time.Sleep(100 * time.Millisecond) // pace the writer; not a sync
	}

	count := func(s *vlstore.Store, q string) int {
		n, err := s.Count(t.Context(), q)
		require.NoError(t, err, q)
		return n
	}
	// Every noisy line is either stored or counted in a summary.
	var passed, dropped int
	require.Eventually(t, func() bool {
		a.RequireRunning(t)
		passed = count(all, `kubernetes.namespace_name:noisy -sluice.throttle.transform:noisy`)
		dropped = 0
		rows, err := all.Query(t.Context(), `sluice.throttle.transform:noisy`)
		require.NoError(t, err)
		for _, r := range rows {
			n, err := strconv.Atoi(r["sluice.throttle.dropped"])
			require.NoError(t, err)
			require.Equal(t, "spam-0", r["kubernetes.pod_name"])
			require.Equal(t, "noisy/spam-0", r["sluice.throttle.key"])
			dropped += n
		}
		return passed+dropped == written && count(all, `kubernetes.namespace_name:quiet`) == quietLines &&
			count(all, `kubernetes.namespace_name:shop`) == secretLines
	}, deliveryTimeout, 200*time.Millisecond, "noisy: %d stored + %d in summaries of %d written", passed, dropped, written)
	elapsed := time.Since(start)
	t.Logf("noisy: %d of %d lines stored in %v (limit 50/s, burst 50), %d counted in summaries", passed, written, elapsed, dropped)
	require.LessOrEqual(t, passed, 50+int(50*(elapsed.Seconds()+1)), "at most burst + rate × time")
	// Only the burst is certain: on a loaded machine the agent may read the
	// 3 s of writing in one go, and the rate then adds next to nothing.
	require.GreaterOrEqual(t, passed, 50, "at least the burst")
	require.Equal(t, 0, count(all, `kubernetes.namespace_name:"kube-system"`), "a dropped namespace never arrives")
	require.Equal(t, 0, count(all, `s3cr3t`), "a redacted token never appears")
	require.Equal(t, secretLines, count(all, `"token=[REDACTED]"`))
	require.Equal(t, 0, count(quietStore, `*`), "the second output is down")

	// kill -9 while the second output has acknowledged nothing: the quiet
	// file's checkpoint has not moved, so a restart reads it again.
	a.Kill(t)
	proxy.restore()
	a = agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent#2"})
	require.Eventually(t, func() bool {
		a.RequireRunning(t)
		return distinct(t, quietStore, `*`) == quietLines
	}, deliveryTimeout, 200*time.Millisecond)
	require.Equal(t, 0, a.Stop(t), "exit code after SIGTERM")

	require.Equal(t, quietLines, count(quietStore, `*`), "the second output has exactly its share, once")
	require.Equal(t, quietLines, distinct(t, all, `kubernetes.namespace_name:quiet`), "the first one has every quiet line (replays allowed)")
	require.Equal(t, secretLines, distinct(t, all, `kubernetes.namespace_name:shop`))
	require.Equal(t, 0, count(all, `kubernetes.namespace_name:"kube-system"`))
	require.Equal(t, 0, count(all, `s3cr3t`))
}

// distinct is the number of different sluice_id values among the rows
// that match q.
func distinct(t *testing.T, s *vlstore.Store, q string) int {
	t.Helper()
	rows, err := s.Query(t.Context(), q)
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, r := range rows {
		require.NotEmpty(t, r["sluice_id"], "row without id: %v", r)
		ids[r["sluice_id"]] = true
	}
	return len(ids)
}
