package tail

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// gauges reads the gauges of family name by input.
func gauges(t *testing.T, reg prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[inputOf(m)] = m.GetGauge().GetValue()
		}
	}
	return out
}

func inputOf(m *dto.Metric) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == "input" {
			return l.GetValue()
		}
	}
	return ""
}

// The input's own collector, over a reader held back by unacknowledged
// batches: the lag in bytes is what the file holds beyond the read
// position, in time the age of the oldest batch; one series per input.
func TestCollector(t *testing.T) {
	e := newEnv(t)
	e.sink.hold = true
	p := e.path("api-1", "payments")
	lines := make([]string, 400)
	for i := range lines {
		lines[i] = criLine("stdout", "F", fmt.Sprintf("line %03d %0100d", i, 0))
	}
	e.write(p, lines...)
	e.start()
	e.behind()
	fi, err := os.Stat(p)
	require.NoError(t, err)

	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(e.tailer.Collector()))
	other := New(e.cfg, "node-1", e.sink, e.store, e.tailer.logger)
	other.cfg.Name = "other"
	require.NoError(t, reg.Register(other.Collector()), "two inputs side by side")
	st := other.Stats()
	st.Records.Store(10)
	st.BytesRead.Store(2000)
	st.Malformed.Store(1)
	st.Truncated.Store(2)
	st.MultilineJoined.Store(6)
	st.UnreadRecovered.Store(4096)
	st.UnreadLost.Store(12)
	st.Refused[RefusedOutsideRoots].Store(12)
	st.Refused[RefusedSystem].Store(13)

	offset := openFiles(e.tailer)[0].Offset
	require.Equal(t, map[string]float64{"containers": float64(fi.Size() - offset), "other": 0}, gauges(t, reg, "sluice_input_lag_bytes"))
	require.Equal(t, map[string]float64{"containers": float64(fi.Size() - offset), "other": 0}, gauges(t, reg, "sluice_file_lag_max_bytes"))
	require.Equal(t, map[string]float64{"containers": 1, "other": 0}, gauges(t, reg, "sluice_files_open"))
	lag := gauges(t, reg, "sluice_input_lag_seconds")
	require.Positive(t, lag["containers"])
	require.Zero(t, lag["other"])
	require.Contains(t, lag, "other")

	want := `
# HELP sluice_input_records_total Records an input handed to the pipeline.
# TYPE sluice_input_records_total counter
sluice_input_records_total{input="other"} 10
# HELP sluice_input_truncated_records_total Records cut at the size limit (max_line_bytes, max_message_bytes) and shipped cut, flagged sluice.truncated.
# TYPE sluice_input_truncated_records_total counter
sluice_input_truncated_records_total{input="other"} 2
# HELP sluice_input_multiline_records_total Records joined from several lines by a multiline rule (cut ones are also in sluice_input_truncated_records_total).
# TYPE sluice_input_multiline_records_total counter
sluice_input_multiline_records_total{input="other"} 6
# HELP sluice_input_rotated_unread_bytes_total Bytes a copytruncate left unread under a reader that was behind, by result: recovered (read from the copy beside the file, with the original's ids), lost (no copy held them; as far as the reader had seen the file).
# TYPE sluice_input_rotated_unread_bytes_total counter
sluice_input_rotated_unread_bytes_total{input="other",result="lost"} 12
sluice_input_rotated_unread_bytes_total{input="other",result="recovered"} 4096
# HELP sluice_input_files_refused_total Matched log files not read, by reason: outside_roots (a link leading out of allowed_roots), system (/proc, /sys, /dev), agent_file (data_dir, the config, secrets), size_unreliable (more content than its size says, like procfs). Each is counted once while it leads to the same place.
# TYPE sluice_input_files_refused_total counter
sluice_input_files_refused_total{input="other",reason="agent_file"} 0
sluice_input_files_refused_total{input="other",reason="outside_roots"} 12
sluice_input_files_refused_total{input="other",reason="size_unreliable"} 0
sluice_input_files_refused_total{input="other",reason="system"} 13
`
	only := prometheus.NewPedanticRegistry()
	require.NoError(t, only.Register(other.Collector()))
	require.NoError(t, testutil.GatherAndCompare(only, strings.NewReader(want),
		"sluice_input_records_total", "sluice_input_truncated_records_total", "sluice_input_multiline_records_total",
		"sluice_input_rotated_unread_bytes_total", "sluice_input_files_refused_total"))
	e.sink.release()
}
