package syslog

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/metrics/series"
	"github.com/sluicelog/sluice/agent/record"
)

// The input's own collector: its series under its name, two inputs side
// by side on one registry, the lag in time from its oldest
// unacknowledged batch.
func TestCollector(t *testing.T) {
	newIn := func(name string) *Input {
		cfg := testConfig()
		cfg.Name = name
		in, err := New(cfg, &recordingSink{t: t}, discardLogger())
		require.NoError(t, err)
		return in
	}
	in, quiet := newIn("syslog"), newIn("quiet")
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(in.Collector()))
	require.NoError(t, reg.Register(quiet.Collector()))

	s := in.Stats()
	s.Records.Store(5)
	s.Bytes.Store(500)
	s.DroppedFull.Store(7)
	s.DroppedShutdown.Store(2)
	s.ConnsOpen.Store(4)
	s.ConnsIdleClosed.Store(12)
	s.ConnsFrameMemory.Store(13)
	s.FrameBytes.Store(61440)
	b := record.NewBatch(&record.Source{}, nil)
	in.unacked.add(b, time.Now().Add(-time.Hour))

	want := `
# HELP sluice_input_records_total Records an input handed to the pipeline.
# TYPE sluice_input_records_total counter
sluice_input_records_total{input="quiet"} 0
sluice_input_records_total{input="syslog"} 5
# HELP sluice_input_bytes_total Bytes an input read from files or received.
# TYPE sluice_input_bytes_total counter
sluice_input_bytes_total{input="quiet"} 0
sluice_input_bytes_total{input="syslog"} 500
# HELP sluice_lost_records_total ` + series.Lost.Help + `
# TYPE sluice_lost_records_total counter
sluice_lost_records_total{component="quiet",reason="shutdown"} 0
sluice_lost_records_total{component="quiet",reason="udp_overflow"} 0
sluice_lost_records_total{component="quiet",reason="udp_receive_buffer"} 0
sluice_lost_records_total{component="syslog",reason="shutdown"} 2
sluice_lost_records_total{component="syslog",reason="udp_overflow"} 7
sluice_lost_records_total{component="syslog",reason="udp_receive_buffer"} 0
# HELP sluice_input_connections Open connections of a network input.
# TYPE sluice_input_connections gauge
sluice_input_connections{input="quiet"} 0
sluice_input_connections{input="syslog"} 4
# HELP sluice_input_connections_closed_total Connections a network input closed itself, by reason: max_connections (refused at once), idle_timeout, handshake_timeout (no TLS handshake in time), frame_memory (an unfinished message found no room in memory_limit).
# TYPE sluice_input_connections_closed_total counter
sluice_input_connections_closed_total{input="quiet",reason="frame_memory"} 0
sluice_input_connections_closed_total{input="quiet",reason="handshake_timeout"} 0
sluice_input_connections_closed_total{input="quiet",reason="idle_timeout"} 0
sluice_input_connections_closed_total{input="quiet",reason="max_connections"} 0
sluice_input_connections_closed_total{input="syslog",reason="frame_memory"} 13
sluice_input_connections_closed_total{input="syslog",reason="handshake_timeout"} 0
sluice_input_connections_closed_total{input="syslog",reason="idle_timeout"} 12
sluice_input_connections_closed_total{input="syslog",reason="max_connections"} 0
# HELP sluice_input_frame_memory_bytes Bytes TCP connections' frame buffers hold beyond their first 4 KiB: their share of memory_limit, which all syslog inputs share, is in the log line "memory_limit shared out" (syslog_frames).
# TYPE sluice_input_frame_memory_bytes gauge
sluice_input_frame_memory_bytes{input="quiet"} 0
sluice_input_frame_memory_bytes{input="syslog"} 61440
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"sluice_input_records_total", "sluice_input_bytes_total", "sluice_lost_records_total",
		"sluice_input_connections", "sluice_input_connections_closed_total", "sluice_input_frame_memory_bytes"))

	mfs, err := reg.Gather()
	require.NoError(t, err)
	lags := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "sluice_input_lag_seconds" {
			for _, m := range mf.GetMetric() {
				lags[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	require.InDelta(t, 3600, lags["syslog"], 60)
	require.Zero(t, lags["quiet"])
	require.Contains(t, lags, "quiet")
	b.Done()
}
