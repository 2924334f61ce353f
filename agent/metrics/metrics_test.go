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
	"github.com/sluicelog/sluice/collector/tail"
)

type fakePipeline struct{ hub *tap.Hub }

func (fakePipeline) MemoryUsed() int64  { return 1000 }
func (fakePipeline) MemoryLimit() int64 { return 4000 }
func (fakePipeline) RingLen() int       { return 3 }
func (fakePipeline) RingCap() int       { return 1024 }
func (p fakePipeline) Tap() *tap.Hub    { return p.hub }

func constant(v int64) func() int64 { return func() int64 { return v } }

func TestCollector(t *testing.T) {
	var obs prometheus.Observer
	src := Sources{
		Version: "1.2.3", Revision: "abc123",
		Inputs: []Input{
			{
				Name: "containers", Records: constant(10), Bytes: constant(2000), ParseErrors: constant(1),
				Truncated: constant(2), FilesOpen: constant(3), Joined: constant(6),
				RotatedUnread: []Drop{{Reason: "recovered", Count: constant(4096)}, {Reason: "lost", Count: constant(12)}},
				FilesRefused:  []Drop{{Reason: "outside_roots", Count: constant(12)}, {Reason: "system", Count: constant(13)}},
				Files: func(fn func(tail.OpenFile)) {
					fn(tail.OpenFile{Offset: 100, Size: 100})         // caught up
					fn(tail.OpenFile{Offset: 0, Size: 50 << 10})      // 50 KiB behind
					fn(tail.OpenFile{Offset: 0, Size: 2 << 30})       // 2 GiB behind
					fn(tail.OpenFile{Offset: 10, Size: 5, Acked: -1}) // truncated under the reader: 0
				},
				OldestUnacked: func() time.Time { return time.Now().Add(-time.Hour) },
			},
			{
				Name: "syslog", Records: constant(5), Bytes: constant(500), ParseErrors: constant(0),
				Truncated:     constant(0),
				Lost:          []Drop{{Reason: "udp_overflow", Count: constant(7)}, {Reason: "udp_receive_buffer", Count: constant(9)}},
				Connections:   constant(4),
				Closed:        []Drop{{Reason: "idle_timeout", Count: constant(12)}, {Reason: "frame_memory", Count: constant(13)}},
				FrameBytes:    constant(61440),
				OldestUnacked: func() time.Time { return time.Time{} }, // all delivered
			},
		},
		Outputs: []Output{{
			Name: "es",
			Stats: func() OutputStats {
				return OutputStats{Sent: 8, Duplicate: 1, Failed: 1, Rescued: 4, DeadLettered: 5, FailureStore: 6, LabelsDropped: 7, ItemRetries: 2, RequestRetries: 3, Bytes: 9000, InFlight: 2}
			},
			ObserveRequests:  func(o prometheus.Observer) { obs = o },
			RequestFailures:  []Drop{{Reason: "connection_refused", Count: constant(3)}, {Reason: "unauthorized", Count: constant(0)}},
			DocumentFailures: []Drop{{Reason: "rejected", Count: constant(5)}},
			Lost:             []Drop{{Reason: "dead_letter_rejected", Count: constant(1)}},
			LastSuccess:      func() time.Time { return time.Unix(1795669535, 0) },
			Pending:          constant(40),
		}, {
			Name:        "idle",
			Stats:       func() OutputStats { return OutputStats{} },
			LastSuccess: func() time.Time { return time.Time{} },
		}},
		Pipeline:      fakePipeline{tap.NewHub(0, 0)},
		TimeFallbacks: constant(11),
	}
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, Register(reg, src))
	require.NotNil(t, obs)
	obs.Observe(0.02)
	obs.Observe(3)

	want := `
# HELP sluice_input_truncated_records_total Records cut at the size limit (max_line_bytes, max_message_bytes) and shipped cut, flagged sluice.truncated.
# TYPE sluice_input_truncated_records_total counter
sluice_input_truncated_records_total{input="containers"} 2
sluice_input_truncated_records_total{input="syslog"} 0
# HELP sluice_lost_records_total Records read that will never reach any store, by component (the input or output name) and reason: udp_overflow (pipeline full), udp_receive_buffer (dropped by the kernel: the UDP socket's receive buffer was full), shutdown (read but not handed over at stop), dead_letter_rejected (the document, its rescue copy and its dead letter all refused), write_failed (a console write failed).
# TYPE sluice_lost_records_total counter
sluice_lost_records_total{component="es",reason="dead_letter_rejected"} 1
sluice_lost_records_total{component="syslog",reason="udp_overflow"} 7
sluice_lost_records_total{component="syslog",reason="udp_receive_buffer"} 9
# HELP sluice_input_lag_bytes Bytes of the open files not read yet (size minus read position), summed over the files.
# TYPE sluice_input_lag_bytes gauge
sluice_input_lag_bytes{input="containers"} 2.147534848e+09
# HELP sluice_file_lag_max_bytes Bytes not read yet of the open file furthest behind.
# TYPE sluice_file_lag_max_bytes gauge
sluice_file_lag_max_bytes{input="containers"} 2.147483648e+09
# HELP sluice_output_request_failures_total Requests to an output that failed as a whole, by cause: connection_refused, connection_reset, timeout, dns, tls, network, unauthorized (401, 407), forbidden (403), throttled (429), unavailable (503), http_5xx, http_4xx (refused as a whole; split to find the documents at fault), bad_response. All but http_4xx are sent again.
# TYPE sluice_output_request_failures_total counter
sluice_output_request_failures_total{cause="connection_refused",output="es"} 3
sluice_output_request_failures_total{cause="unauthorized",output="es"} 0
# HELP sluice_output_document_failures_total Documents an output's server refused in an answered request, by cause: throttled (item 429, sent again), server_error (item 5xx, sent again), rejected (a mapping error and the like: a rescue copy goes), rescue_rejected (a dead letter goes), dead_letter_rejected (lost).
# TYPE sluice_output_document_failures_total counter
sluice_output_document_failures_total{cause="rejected",output="es"} 5
# HELP sluice_output_last_success_timestamp_seconds When a request to the output was last answered with success (Unix seconds); 0 before the first since the process started. Stops moving while the output fails.
# TYPE sluice_output_last_success_timestamp_seconds gauge
sluice_output_last_success_timestamp_seconds{output="es"} 1.795669535e+09
sluice_output_last_success_timestamp_seconds{output="idle"} 0
# HELP sluice_output_pending_documents Documents in requests an output is sending or will send again after a backoff.
# TYPE sluice_output_pending_documents gauge
sluice_output_pending_documents{output="es"} 40
# HELP sluice_input_connections Open connections of a network input.
# TYPE sluice_input_connections gauge
sluice_input_connections{input="syslog"} 4
# HELP sluice_input_connections_closed_total Connections a network input closed itself, by reason: max_connections (refused at once), idle_timeout, handshake_timeout (no TLS handshake in time), frame_memory (an unfinished message found no room in memory_limit).
# TYPE sluice_input_connections_closed_total counter
sluice_input_connections_closed_total{input="syslog",reason="frame_memory"} 13
sluice_input_connections_closed_total{input="syslog",reason="idle_timeout"} 12
# HELP sluice_input_frame_memory_bytes Bytes TCP connections' frame buffers hold beyond their first 4 KiB: their share of memory_limit, which all syslog inputs share, is in the log line "memory_limit shared out" (syslog_frames).
# TYPE sluice_input_frame_memory_bytes gauge
sluice_input_frame_memory_bytes{input="syslog"} 61440
# HELP sluice_output_documents_total Documents an output finished with, by result: sent, duplicate (409 on create: stored by an earlier try), rescued (refused, stored without merged fields), dead_lettered (rescue refused too, stored in the dead-letter index), failed (lost: even the dead letter was refused), failure_store (kept in the data stream's failure store: stored, not searchable as logs).
# TYPE sluice_output_documents_total counter
sluice_output_documents_total{output="es",result="dead_lettered"} 5
sluice_output_documents_total{output="es",result="duplicate"} 1
sluice_output_documents_total{output="es",result="failed"} 1
sluice_output_documents_total{output="es",result="failure_store"} 6
sluice_output_documents_total{output="es",result="rescued"} 4
sluice_output_documents_total{output="es",result="sent"} 8
sluice_output_documents_total{output="idle",result="dead_lettered"} 0
sluice_output_documents_total{output="idle",result="duplicate"} 0
sluice_output_documents_total{output="idle",result="failed"} 0
sluice_output_documents_total{output="idle",result="failure_store"} 0
sluice_output_documents_total{output="idle",result="rescued"} 0
sluice_output_documents_total{output="idle",result="sent"} 0
# HELP sluice_output_labels_dropped_total Labels, namespace labels and annotations left out of documents by max_labels, summed over documents.
# TYPE sluice_output_labels_dropped_total counter
sluice_output_labels_dropped_total{output="es"} 7
# HELP sluice_output_retries_total Documents (kind=item) and whole requests (kind=request) sent again.
# TYPE sluice_output_retries_total counter
sluice_output_retries_total{kind="item",output="es"} 2
sluice_output_retries_total{kind="request",output="es"} 3
sluice_output_retries_total{kind="item",output="idle"} 0
sluice_output_retries_total{kind="request",output="idle"} 0
# HELP sluice_output_inflight_requests Requests an output is sending now.
# TYPE sluice_output_inflight_requests gauge
sluice_output_inflight_requests{output="es"} 2
sluice_output_inflight_requests{output="idle"} 0
# HELP sluice_ring_items Batches waiting for a worker.
# TYPE sluice_ring_items gauge
sluice_ring_items 3
# HELP sluice_build_info Always 1; the labels say which build runs.
# TYPE sluice_build_info gauge
sluice_build_info{goversion="` + goVersion() + `",revision="abc123",version="1.2.3"} 1
# HELP sluice_input_multiline_records_total Records joined from several lines by a multiline rule (cut ones are also in sluice_input_truncated_records_total).
# TYPE sluice_input_multiline_records_total counter
sluice_input_multiline_records_total{input="containers"} 6
# HELP sluice_input_rotated_unread_bytes_total Bytes a copytruncate left unread under a reader that was behind, by result: recovered (read from the copy beside the file, with the original's ids), lost (no copy held them; as far as the reader had seen the file).
# TYPE sluice_input_rotated_unread_bytes_total counter
sluice_input_rotated_unread_bytes_total{input="containers",result="lost"} 12
sluice_input_rotated_unread_bytes_total{input="containers",result="recovered"} 4096
# HELP sluice_input_files_refused_total Matched log files not read, by reason: outside_roots (a link leading out of allowed_roots), system (/proc, /sys, /dev), agent_file (data_dir, the config, secrets), size_unreliable (more content than its size says, like procfs). Each is counted once while it leads to the same place.
# TYPE sluice_input_files_refused_total counter
sluice_input_files_refused_total{input="containers",reason="outside_roots"} 12
sluice_input_files_refused_total{input="containers",reason="system"} 13
# HELP sluice_time_fallback_total Documents that kept the read time as @timestamp because their time field was missing or did not parse (flagged sluice.time_fallback).
# TYPE sluice_time_fallback_total counter
sluice_time_fallback_total 11
`
	require.NoError(t, testutil.GatherAndCompare(reg, stringReader(want),

		"sluice_input_truncated_records_total", "sluice_lost_records_total", "sluice_input_lag_bytes", "sluice_file_lag_max_bytes",
		"sluice_output_request_failures_total", "sluice_output_document_failures_total", "sluice_output_last_success_timestamp_seconds",
		"sluice_output_pending_documents", "sluice_input_connections", "sluice_input_connections_closed_total", "sluice_input_frame_memory_bytes",
		"sluice_output_documents_total", "sluice_output_retries_total", "sluice_output_inflight_requests",
		"sluice_ring_items", "sluice_build_info", "sluice_input_multiline_records_total", "sluice_time_fallback_total",
		"sluice_input_rotated_unread_bytes_total", "sluice_input_files_refused_total"))

	n, err := testutil.GatherAndCount(reg, "sluice_output_request_duration_seconds")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == "sluice_output_request_duration_seconds" {
			require.Equal(t, uint64(2), mf.GetMetric()[0].GetHistogram().GetSampleCount())
		}
	}
	require.Error(t, Register(reg, src), "registered twice on one registry")

	// The lag in time is the age of the oldest unacknowledged record: an
	// hour, give or take the test's own run time; 0 with none.
	lagSec, err := reg.Gather()
	require.NoError(t, err)
	lags := map[string]float64{}
	for _, mf := range lagSec {
		if mf.GetName() == "sluice_input_lag_seconds" {
			for _, m := range mf.GetMetric() {
				lags[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	require.Len(t, lags, 2)
	require.InDelta(t, 3600, lags["containers"], 60)
	require.Zero(t, lags["syslog"])
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
