// Package series names the series that the agent's inputs and outputs
// report: name, help and labels in one place, so that every component of
// a kind describes its series alike (Prometheus refuses one name with two
// helps) and the README's metrics table has one source to follow. Each
// component builds its own prometheus.Collector from these (collector/tail,
// collector/syslog, agent/elasticsearch, agent/console), labelled with its
// name; agent/runtime registers them.
package series

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Family is one metric's name, help and variable labels. The component's
// own label (input, output or component) is constant per collector: two
// inputs of one type register side by side.
type Family struct {
	Name, Help string
	Labels     []string
}

// Desc is f's descriptor for the component key=name.
func (f Family) Desc(key, name string) *prometheus.Desc {
	return prometheus.NewDesc(f.Name, f.Help, f.Labels, prometheus.Labels{key: name})
}

// The constant labels that name a component.
const (
	InputLabel     = "input"
	OutputLabel    = "output"
	ComponentLabel = "component" // Lost, which inputs and outputs share
)

// Lost is reported by inputs and outputs alike, under ComponentLabel.
var Lost = Family{Name: "sluice_lost_records_total", Help: "Records read that will never reach any store, by component (the input or output name) and reason: udp_overflow (pipeline full), udp_receive_buffer (dropped by the kernel: the UDP socket's receive buffer was full), shutdown (read but not handed over at stop), spool_full (dropped by a full spool with when_full: drop_newest or drop_oldest), dead_letter_rejected (the document, its rescue copy and its dead letter all refused), write_failed (a console write failed), too_large (a kafka record its topic refused as too large, with no dead-letter topic or refused there too), otlp_rejected (refused for good by an OTLP server: a partial success or a 4xx).", Labels: []string{"reason"}}

// Inputs' series, under InputLabel.
var (
	InputRecords           = Family{Name: "sluice_input_records_total", Help: "Records an input handed to the pipeline."}
	InputBytes             = Family{Name: "sluice_input_bytes_total", Help: "Bytes an input read from files or received."}
	InputParseErrors       = Family{Name: "sluice_input_parse_errors_total", Help: "Lines or messages that did not parse and were shipped raw, flagged malformed."}
	InputOpenErrors        = Family{Name: "sluice_input_open_errors_total", Help: "Failures to open or read a log file (retried on the next scan)."}
	InputTruncated         = Family{Name: "sluice_input_truncated_records_total", Help: "Records cut at the size limit (max_line_bytes, max_message_bytes) and shipped cut, flagged sluice.truncated."}
	InputJoined            = Family{Name: "sluice_input_multiline_records_total", Help: "Records joined from several lines by a multiline rule (cut ones are also in sluice_input_truncated_records_total)."}
	InputLagSeconds        = Family{Name: "sluice_input_lag_seconds", Help: "Age of the oldest record an input read and the outputs have not acknowledged yet; 0 when everything read is delivered. Grows while an output is down."}
	InputLagBytes          = Family{Name: "sluice_input_lag_bytes", Help: "Bytes of the open files not read yet (size minus read position), summed over the files."}
	FileLagMax             = Family{Name: "sluice_file_lag_max_bytes", Help: "Bytes not read yet of the open file furthest behind."}
	FilesOpen              = Family{Name: "sluice_files_open", Help: "Log files being read."}
	InputRotatedUnread     = Family{Name: "sluice_input_rotated_unread_bytes_total", Help: "Bytes a copytruncate left unread under a reader that was behind, by result: recovered (read from the copy beside the file, with the original's ids), lost (no copy held them; as far as the reader had seen the file).", Labels: []string{"result"}}
	InputFilesRefused      = Family{Name: "sluice_input_files_refused_total", Help: "Matched log files not read, by reason: outside_roots (a link leading out of allowed_roots), system (/proc, /sys, /dev), agent_file (data_dir, the config, secrets), size_unreliable (more content than its size says, like procfs). Each is counted once while it leads to the same place.", Labels: []string{"reason"}}
	InputConnections       = Family{Name: "sluice_input_connections", Help: "Open connections of a network input."}
	InputConnectionsClosed = Family{Name: "sluice_input_connections_closed_total", Help: "Connections a network input closed itself, by reason: max_connections (refused at once), idle_timeout, handshake_timeout (no TLS handshake in time), frame_memory (an unfinished message found no room in memory_limit).", Labels: []string{"reason"}}
	InputFrameMemory       = Family{Name: "sluice_input_frame_memory_bytes", Help: "Bytes TCP connections' frame buffers hold beyond their first 4 KiB: their share of memory_limit, which all syslog inputs share, is in the log line \"memory_limit shared out\" (syslog_frames)."}
)

// A syslog input's disk spool (agent/spool), under InputLabel. What a
// full spool drops is in Lost, reason spool_full.
var (
	SpoolBytes        = Family{Name: "sluice_spool_bytes", Help: "Bytes of an input's disk spool: segments not yet wholly acknowledged, and the one being written."}
	SpoolSegments     = Family{Name: "sluice_spool_segments", Help: "Segment files of an input's disk spool."}
	SpoolOldestAge    = Family{Name: "sluice_spool_oldest_age_seconds", Help: "How long the oldest record in an input's spool has waited for the outputs' acknowledgement; 0 when all are acknowledged."}
	SpoolRecords      = Family{Name: "sluice_spool_records_total", Help: "Records written to an input's spool (spooled) and read back into the pipeline (replayed: more than spooled after a restart that sends the unacknowledged ones again).", Labels: []string{"event"}}
	SpoolCorruptBytes = Family{Name: "sluice_spool_corrupt_bytes_total", Help: "Bytes of an input's spool skipped as torn (cut by a crash mid-write) or damaged."}
	SpoolWriteErrors  = Family{Name: "sluice_spool_write_errors_total", Help: "Failed writes or fsyncs of an input's spool (a full disk: the input waits for room)."}
)

// Outputs' series, under OutputLabel.
var (
	OutputDocuments        = Family{Name: "sluice_output_documents_total", Help: "Documents an output finished with, by result: sent, duplicate (409 on create: stored by an earlier try), rescued (refused, stored without merged fields), dead_lettered (rescue refused too, stored in the dead-letter index), failed (lost: even the dead letter was refused), failure_store (kept in the data stream's failure store: stored, not searchable as logs).", Labels: []string{"result"}}
	OutputLabelsDropped    = Family{Name: "sluice_output_labels_dropped_total", Help: "Labels, namespace labels and annotations left out of documents by max_labels, summed over documents."}
	OutputRetries          = Family{Name: "sluice_output_retries_total", Help: "Documents (kind=item) and whole requests (kind=request) sent again.", Labels: []string{"kind"}}
	OutputBytes            = Family{Name: "sluice_output_bytes_total", Help: "Bytes an output wrote (request bodies as sent, after compression)."}
	OutputInFlight         = Family{Name: "sluice_output_inflight_requests", Help: "Requests an output is sending now."}
	OutputRequestFailures  = Family{Name: "sluice_output_request_failures_total", Help: "Requests to an output that failed as a whole, by cause: connection_refused, connection_reset, timeout, dns, tls, network, unauthorized (401, 407), forbidden (403), throttled (429), unavailable (503), http_5xx, http_4xx (refused as a whole; split to find the documents at fault), bad_response. All but http_4xx are sent again.", Labels: []string{"cause"}}
	OutputDocumentFailures = Family{Name: "sluice_output_document_failures_total", Help: "Documents an output's server refused in an answered request, by cause: throttled (item 429, sent again), server_error (item 5xx, sent again), rejected (a mapping error and the like: a rescue copy goes), rescue_rejected (a dead letter goes), dead_letter_rejected (lost).", Labels: []string{"cause"}}
	OutputLastSuccess      = Family{Name: "sluice_output_last_success_timestamp_seconds", Help: "When a request to the output was last answered with success (Unix seconds); 0 before the first since the process started. Stops moving while the output fails."}
	OutputOTLPRejected     = Family{Name: "sluice_output_otlp_rejected_records_total", Help: "Records an OTLP server refused for good, by reason: partial_success (counted in rejected_log_records of a successful answer), http_4xx (the request was refused as a whole). OTLP names no record, so none can be dead-lettered; each is also in sluice_lost_records_total.", Labels: []string{"reason"}}
	OutputPending          = Family{Name: "sluice_output_pending_documents", Help: "Documents in requests an output is sending or will send again after a backoff."}
)

// RequestDuration is the histogram of an output's request durations,
// under OutputLabel.
var RequestDuration = Family{
	Name: "sluice_output_request_duration_seconds",
	Help: "Duration of each answered request to an output (bulk requests, retries included), until its response is read; failures without an answer are in sluice_output_request_failures_total.",
}

// RequestBuckets are the upper bounds, in seconds, of RequestDuration.
var RequestBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// NewRequestDuration returns the request-duration histogram of output name.
func NewRequestDuration(name string) prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: RequestDuration.Name, Help: RequestDuration.Help, Buckets: RequestBuckets,
		ConstLabels: prometheus.Labels{OutputLabel: name},
	})
}

// Counter sends a counter of d.
func Counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v int64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

// Gauge sends a gauge of d.
func Gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// Age is the seconds from t to now; 0 for the zero time (nothing waits).
func Age(t, now time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return max(now.Sub(t).Seconds(), 0)
}

// UnixSeconds is t in Unix seconds; 0 for the zero time.
func UnixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
