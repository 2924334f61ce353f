package metrics

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/tap"
)

type fakePipeline struct{ hub *tap.Hub }

func (fakePipeline) MemoryUsed() int64  { return 1000 }
func (fakePipeline) MemoryLimit() int64 { return 4000 }
func (fakePipeline) RingLen() int       { return 3 }
func (fakePipeline) RingCap() int       { return 1024 }
func (p fakePipeline) Tap() *tap.Hub    { return p.hub }
func (fakePipeline) Unrouted() int64    { return 7 }

func constant(v int64) func() int64 { return func() int64 { return v } }

func TestCollector(t *testing.T) {
	src := Sources{
		Version: "1.2.3", Revision: "abc123",
		Pipeline:      fakePipeline{tap.NewHub(0, 0)},
		TimeFallbacks: constant(11),
	}
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, Register(reg, src))
	want := `
# HELP sluice_ring_items Batches waiting for a worker.
# TYPE sluice_ring_items gauge
sluice_ring_items 3
# HELP sluice_build_info Always 1; the labels say which build runs.
# TYPE sluice_build_info gauge
sluice_build_info{goversion="` + goVersion() + `",revision="abc123",version="1.2.3"} 1
# HELP sluice_time_fallback_total Documents that kept the read time as @timestamp because their time field was missing or did not parse (flagged sluice.time_fallback).
# TYPE sluice_time_fallback_total counter
sluice_time_fallback_total 11
# HELP sluice_unrouted_records_total Records that matched no output and were acknowledged without being written.
# TYPE sluice_unrouted_records_total counter
sluice_unrouted_records_total 7
`
	require.NoError(t, testutil.GatherAndCompare(reg, stringReader(want),
		"sluice_ring_items", "sluice_build_info", "sluice_time_fallback_total", "sluice_unrouted_records_total"))
	require.Error(t, Register(reg, src), "registered twice on one registry")
}

func goVersion() string { return runtime.Version() }

func stringReader(s string) *strings.Reader { return strings.NewReader(s) }

type fakeCheckpoints struct{}

func (fakeCheckpoints) SaveErrors() int64    { return 36 }
func (fakeCheckpoints) LastSaved() time.Time { return time.Unix(1795669535, 500_000_000) }
func (fakeCheckpoints) LoadErrors() map[string]int64 {
	return map[string]int64{"bad_entry": 2, "corrupt_file": 1}
}

func TestCollectorMemoryAndCheckpoints(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, Register(reg, Sources{
		Pipeline:    fakePipeline{tap.NewHub(0, 0)},
		MemoryLimit: 256 << 20,
		Checkpoints: fakeCheckpoints{},
	}))
	require.NoError(t, testutil.GatherAndCompare(reg, stringReader(`
# HELP sluice_checkpoint_last_success_timestamp_seconds When the checkpoint file last held every acknowledged position (a write, or a sync with nothing new).
# TYPE sluice_checkpoint_last_success_timestamp_seconds gauge
sluice_checkpoint_last_success_timestamp_seconds 1.7956695355e+09
# HELP sluice_checkpoint_load_errors_total Problems in the checkpoint file at start, by reason: bad_entry (an entry dropped; its file resumed by start_at), empty_file and corrupt_file (the file kept aside as checkpoints.json.corrupt-<time>; every file resumed by start_at).
# TYPE sluice_checkpoint_load_errors_total counter
sluice_checkpoint_load_errors_total{reason="bad_entry"} 2
sluice_checkpoint_load_errors_total{reason="corrupt_file"} 1
# HELP sluice_checkpoint_save_errors_total Failed writes of the checkpoint file in data_dir (retried every checkpoint_interval; while they fail a restart re-reads files from older positions).
# TYPE sluice_checkpoint_save_errors_total counter
sluice_checkpoint_save_errors_total 36
# HELP sluice_pipeline_batch_limit_bytes Bytes batches not yet acknowledged may hold: memory_limit less the outputs' buffers and room for the garbage collector.
# TYPE sluice_pipeline_batch_limit_bytes gauge
sluice_pipeline_batch_limit_bytes 4000
# HELP sluice_pipeline_memory_limit_bytes memory_limit: the agent's memory, of which batches get a share (sluice_pipeline_batch_limit_bytes).
# TYPE sluice_pipeline_memory_limit_bytes gauge
sluice_pipeline_memory_limit_bytes 2.68435456e+08
`), "sluice_checkpoint_last_success_timestamp_seconds", "sluice_checkpoint_save_errors_total", "sluice_checkpoint_load_errors_total",
		"sluice_pipeline_batch_limit_bytes", "sluice_pipeline_memory_limit_bytes"))
}
