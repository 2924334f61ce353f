// Package metrics exposes the agent's counters to Prometheus. The inputs,
// outputs and the pipeline keep their own atomic counters; the collector
// here reads them when Prometheus scrapes, so the per-record path pays
// nothing for metrics (no lock, no extra atomic). Everything is registered
// on a registry that is passed in, never the global one.
//
// Labels are bounded: input and output names from the config, and fixed
// sets of reasons and results; never a pod, a file or an address.
package metrics

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/tap"
	"github.com/sluicelog/sluice/collector/tail"
)

// Input is what the collector reads from one input at scrape time. Each
// func reads live counters and must be safe to call from any goroutine;
// nil funcs are left out.
type Input struct {
	Name, Type  string
	Records     func() int64 // records handed to the pipeline
	Bytes       func() int64 // bytes read or received
	ParseErrors func() int64 // lines or messages kept raw because they did not parse
	OpenErrors  func() int64 // files that could not be opened or read
	Truncated   func() int64 // records cut at the size limit (shipped cut)
	// Lost counts records read that will never reach any store, by reason.
	Lost      []Drop
	FilesOpen func() int64
	Files     func(fn func(tail.OpenFile)) // visits the open files, for their lag in bytes
	// OldestUnacked is when the oldest record read and not yet
	// acknowledged was read (zero: none); its age is the lag in time.
	OldestUnacked func() time.Time
	Connections   func() int64 // open connections (syslog TCP)
	Closed        []Drop       // connections the input closed, by reason
	FrameBytes    func() int64 // bytes connections' frame buffers hold beyond their first 4 KiB
	Joined        func() int64 // records joined from several lines (multiline)
	// RotatedUnread: bytes a truncation left unread under a reader, by
	// result (recovered from the copy, lost).
	RotatedUnread []Drop
	// FilesRefused counts matched files not read, by reason (links out of
	// the allowed roots, the agent's own files, sizes that lie).
	FilesRefused []Drop
}

// Drop counts records (or parts of them) lost for one reason.
type Drop struct {
	Reason string
	Count  func() int64
}

// Output is what the collector reads from one output at scrape time.
type Output struct {
	Name, Type string
	Stats      func() OutputStats
	// RequestFailures counts requests failed as a whole, by cause;
	// DocumentFailures documents refused in answered requests, by cause.
	RequestFailures, DocumentFailures []Drop
	// Lost counts documents that will never reach any store, by reason.
	Lost []Drop
	// LastSuccess is when a request was last answered with success; zero
	// before the first. Nil for outputs without requests.
	LastSuccess func() time.Time
	// Pending is the documents being sent or waiting to be sent again.
	Pending func() int64
	// ObserveRequests, when set, is given the histogram of the output's
	// request durations at registration.
	ObserveRequests func(prometheus.Observer)
}

// OutputStats are an output's counters at one moment.
type OutputStats struct {
	Sent, Duplicate, Failed     int64 // documents, by result
	Rescued, DeadLettered       int64 // refused documents stored as a rescue copy, or in the dead-letter index
	FailureStore, LabelsDropped int64 // documents in a data stream's failure store; labels left out by max_labels
	ItemRetries, RequestRetries int64
	Bytes                       int64 // bytes written (bodies on the wire of answered requests)
	InFlight                    int64 // requests being sent now
}

// Pipeline is the part of agent/pipeline the collector reads.
type Pipeline interface {
	MemoryUsed() int64
	MemoryLimit() int64
	RingLen() int
	RingCap() int
	Tap() *tap.Hub
}

// Sources is everything the metrics describe.
type Sources struct {
	Version  string
	Revision string // the source commit
	// TimeFallbacks counts documents that kept the read time because
	// their time field was missing or did not parse.
	TimeFallbacks func() int64
	Inputs        []Input
	Outputs       []Output
	Pipeline      Pipeline
	// MemoryLimit is memory_limit; Pipeline.MemoryLimit is the batches'
	// share of it (agent/budget.Split). 0: the pipeline's is shown.
	MemoryLimit int64
	// Checkpoints is the data_dir store; nil leaves its metrics out.
	Checkpoints Checkpoints
}

// Checkpoints is the part of agent/checkpoint the collector reads.
type Checkpoints interface {
	SaveErrors() int64
	LastSaved() time.Time
	// LoadErrors counts, by reason, what the load of the file threw away.
	LoadErrors() map[string]int64
}

// RequestBuckets are the upper bounds, in seconds, of
// sluice_output_request_duration_seconds.
var RequestBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Register registers the agent's collector and the request-duration
// histogram on reg, and hands each output that wants it its histogram. The
// Go runtime and process collectors are the process's (Lasting).
func Register(reg prometheus.Registerer, s Sources) error {
	reqs := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sluice_output_request_duration_seconds",
		Help:    "Duration of each answered request to an output (bulk requests, retries included), until its response is read; failures without an answer are in sluice_output_request_failures_total.",
		Buckets: RequestBuckets,
	}, []string{"output"})
	for _, c := range []prometheus.Collector{
		newCollector(s), reqs,
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	for _, o := range s.Outputs {
		if o.ObserveRequests != nil {
			o.ObserveRequests(reqs.WithLabelValues(o.Name))
		}
	}
	return nil
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// collector reads every counter of Sources at scrape time.
type collector struct {
	s Sources

	inRecords, inBytes, inParseErrors, inOpenErrors, truncated   *prometheus.Desc
	lost, lagSeconds, lagBytes, fileLagMax                       *prometheus.Desc
	filesOpen, connections                                       *prometheus.Desc
	reqFailures, docFailures, lastSuccess, pending               *prometheus.Desc
	outDocs, outRetries, outBytes, outInFlight, outLabelsDropped *prometheus.Desc
	memory, memoryLimit, ringItems, ringCap                      *prometheus.Desc
	tapSubs, tapDropped, buildInfo                               *prometheus.Desc
	joined, timeFallbacks, batchLimit                            *prometheus.Desc
	ckptErrors, ckptSaved, ckptLoad                              *prometheus.Desc
	rotatedUnread                                                *prometheus.Desc
	filesRefused                                                 *prometheus.Desc
	connsClosed, frameBytes                                      *prometheus.Desc
}

func newCollector(s Sources) *collector {
	return &collector{
		s:                s,
		inRecords:        desc("sluice_input_records_total", "Records an input handed to the pipeline.", "input"),
		inBytes:          desc("sluice_input_bytes_total", "Bytes an input read from files or received.", "input"),
		inParseErrors:    desc("sluice_input_parse_errors_total", "Lines or messages that did not parse and were shipped raw, flagged malformed.", "input"),
		inOpenErrors:     desc("sluice_input_open_errors_total", "Failures to open or read a log file (retried on the next scan).", "input"),
		truncated:        desc("sluice_input_truncated_records_total", "Records cut at the size limit (max_line_bytes, max_message_bytes) and shipped cut, flagged sluice.truncated.", "input"),
		lost:             desc("sluice_lost_records_total", "Records read that will never reach any store, by component (the input or output name) and reason: udp_overflow (pipeline full), udp_receive_buffer (dropped by the kernel: the UDP socket's receive buffer was full), shutdown (read but not handed over at stop), dead_letter_rejected (the document, its rescue copy and its dead letter all refused), write_failed (a console write failed).", "component", "reason"),
		lagSeconds:       desc("sluice_input_lag_seconds", "Age of the oldest record an input read and the outputs have not acknowledged yet; 0 when everything read is delivered. Grows while an output is down.", "input"),
		lagBytes:         desc("sluice_input_lag_bytes", "Bytes of the open files not read yet (size minus read position), summed over the files.", "input"),
		fileLagMax:       desc("sluice_file_lag_max_bytes", "Bytes not read yet of the open file furthest behind.", "input"),
		filesOpen:        desc("sluice_files_open", "Log files being read.", "input"),
		connections:      desc("sluice_input_connections", "Open connections of a network input.", "input"),
		frameBytes:       desc("sluice_input_frame_memory_bytes", "Bytes TCP connections' frame buffers hold beyond their first 4 KiB: their share of memory_limit, which all syslog inputs share, is in the log line \"memory_limit shared out\" (syslog_frames).", "input"),
		connsClosed:      desc("sluice_input_connections_closed_total", "Connections a network input closed itself, by reason: max_connections (refused at once), idle_timeout, handshake_timeout (no TLS handshake in time), frame_memory (an unfinished message found no room in memory_limit).", "input", "reason"),
		outDocs:          desc("sluice_output_documents_total", "Documents an output finished with, by result: sent, duplicate (409 on create: stored by an earlier try), rescued (refused, stored without merged fields), dead_lettered (rescue refused too, stored in the dead-letter index), failed (lost: even the dead letter was refused), failure_store (kept in the data stream's failure store: stored, not searchable as logs).", "output", "result"),
		outLabelsDropped: desc("sluice_output_labels_dropped_total", "Labels, namespace labels and annotations left out of documents by max_labels, summed over documents.", "output"),
		outRetries:       desc("sluice_output_retries_total", "Documents (kind=item) and whole requests (kind=request) sent again.", "output", "kind"),
		outBytes:         desc("sluice_output_bytes_total", "Bytes an output wrote (request bodies as sent, after compression).", "output"),
		outInFlight:      desc("sluice_output_inflight_requests", "Requests an output is sending now.", "output"),
		reqFailures:      desc("sluice_output_request_failures_total", "Requests to an output that failed as a whole, by cause: connection_refused, connection_reset, timeout, dns, tls, network, unauthorized (401, 407), forbidden (403), throttled (429), unavailable (503), http_5xx, http_4xx (refused as a whole; split to find the documents at fault), bad_response. All but http_4xx are sent again.", "output", "cause"),
		docFailures:      desc("sluice_output_document_failures_total", "Documents an output's server refused in an answered request, by cause: throttled (item 429, sent again), server_error (item 5xx, sent again), rejected (a mapping error and the like: a rescue copy goes), rescue_rejected (a dead letter goes), dead_letter_rejected (lost).", "output", "cause"),
		lastSuccess:      desc("sluice_output_last_success_timestamp_seconds", "When a request to the output was last answered with success (Unix seconds); 0 before the first since the process started. Stops moving while the output fails.", "output"),
		pending:          desc("sluice_output_pending_documents", "Documents in requests an output is sending or will send again after a backoff.", "output"),
		memory:           desc("sluice_pipeline_memory_bytes", "Bytes held by batches not yet acknowledged."),
		memoryLimit:      desc("sluice_pipeline_memory_limit_bytes", "memory_limit: the agent's memory, of which batches get a share (sluice_pipeline_batch_limit_bytes)."),
		batchLimit:       desc("sluice_pipeline_batch_limit_bytes", "Bytes batches not yet acknowledged may hold: memory_limit less the outputs' buffers and room for the garbage collector."),
		ckptErrors:       desc("sluice_checkpoint_save_errors_total", "Failed writes of the checkpoint file in data_dir (retried every checkpoint_interval; while they fail a restart re-reads files from older positions)."),
		ckptSaved:        desc("sluice_checkpoint_last_success_timestamp_seconds", "When the checkpoint file last held every acknowledged position (a write, or a sync with nothing new)."),
		ckptLoad:         desc("sluice_checkpoint_load_errors_total", "Problems in the checkpoint file at start, by reason: bad_entry (an entry dropped; its file resumed by start_at), empty_file and corrupt_file (the file kept aside as checkpoints.json.corrupt-<time>; every file resumed by start_at).", "reason"),
		ringItems:        desc("sluice_ring_items", "Batches waiting for a worker."),
		ringCap:          desc("sluice_ring_capacity", "Batches the ring holds at most."),
		tapSubs:          desc("sluice_tap_subscribers", "Clients of /api/v1/tap."),
		tapDropped:       desc("sluice_tap_dropped_subscribers_total", "Tap clients dropped because they did not keep up."),
		buildInfo:        desc("sluice_build_info", "Always 1; the labels say which build runs.", "version", "revision", "goversion"),
		joined:           desc("sluice_input_multiline_records_total", "Records joined from several lines by a multiline rule (cut ones are also in sluice_input_truncated_records_total).", "input"),
		rotatedUnread:    desc("sluice_input_rotated_unread_bytes_total", "Bytes a copytruncate left unread under a reader that was behind, by result: recovered (read from the copy beside the file, with the original's ids), lost (no copy held them; as far as the reader had seen the file).", "input", "result"),
		filesRefused:     desc("sluice_input_files_refused_total", "Matched log files not read, by reason: outside_roots (a link leading out of allowed_roots), system (/proc, /sys, /dev), agent_file (data_dir, the config, secrets), size_unreliable (more content than its size says, like procfs). Each is counted once while it leads to the same place.", "input", "reason"),
		timeFallbacks:    desc("sluice_time_fallback_total", "Documents that kept the read time as @timestamp because their time field was missing or did not parse (flagged sluice.time_fallback)."),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.inRecords, c.inBytes, c.inParseErrors, c.inOpenErrors, c.truncated,
		c.lost, c.lagSeconds, c.lagBytes, c.fileLagMax, c.filesOpen, c.connections,
		c.reqFailures, c.docFailures, c.lastSuccess, c.pending,
		c.outDocs, c.outRetries, c.outBytes, c.outInFlight, c.outLabelsDropped,
		c.memory, c.memoryLimit, c.ringItems, c.ringCap,
		c.tapSubs, c.tapDropped, c.buildInfo, c.joined, c.timeFallbacks,
		c.batchLimit, c.ckptErrors, c.ckptSaved, c.ckptLoad, c.rotatedUnread, c.filesRefused,
		c.connsClosed, c.frameBytes,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, f func() int64, labels ...string) {
		if f != nil {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(f()), labels...)
		}
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, in := range c.s.Inputs {
		counter(c.inRecords, in.Records, in.Name)
		counter(c.inBytes, in.Bytes, in.Name)
		counter(c.inParseErrors, in.ParseErrors, in.Name)
		counter(c.inOpenErrors, in.OpenErrors, in.Name)
		counter(c.joined, in.Joined, in.Name)
		counter(c.truncated, in.Truncated, in.Name)
		for _, d := range in.Lost {
			counter(c.lost, d.Count, in.Name, d.Reason)
		}
		for _, d := range in.RotatedUnread {
			counter(c.rotatedUnread, d.Count, in.Name, d.Reason)
		}
		for _, d := range in.FilesRefused {
			counter(c.filesRefused, d.Count, in.Name, d.Reason)
		}
		for _, d := range in.Closed {
			counter(c.connsClosed, d.Count, in.Name, d.Reason)
		}
		if in.FilesOpen != nil {
			gauge(c.filesOpen, float64(in.FilesOpen()), in.Name)
		}
		if in.Connections != nil {
			gauge(c.connections, float64(in.Connections()), in.Name)
		}
		if in.FrameBytes != nil {
			gauge(c.frameBytes, float64(in.FrameBytes()), in.Name)
		}
		if in.OldestUnacked != nil {
			gauge(c.lagSeconds, age(in.OldestUnacked(), time.Now()), in.Name)
		}
		if in.Files != nil {
			c.collectLag(ch, in)
		}
	}
	for _, o := range c.s.Outputs {
		st := o.Stats()
		cv := func(d *prometheus.Desc, v int64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
		}
		cv(c.outDocs, st.Sent, o.Name, "sent")
		cv(c.outDocs, st.Duplicate, o.Name, "duplicate")
		cv(c.outDocs, st.Rescued, o.Name, "rescued")
		cv(c.outDocs, st.DeadLettered, o.Name, "dead_lettered")
		cv(c.outDocs, st.Failed, o.Name, "failed")
		cv(c.outDocs, st.FailureStore, o.Name, "failure_store")
		cv(c.outLabelsDropped, st.LabelsDropped, o.Name)
		cv(c.outRetries, st.ItemRetries, o.Name, "item")
		cv(c.outRetries, st.RequestRetries, o.Name, "request")
		cv(c.outBytes, st.Bytes, o.Name)
		gauge(c.outInFlight, float64(st.InFlight), o.Name)
		for _, d := range o.RequestFailures {
			counter(c.reqFailures, d.Count, o.Name, d.Reason)
		}
		for _, d := range o.DocumentFailures {
			counter(c.docFailures, d.Count, o.Name, d.Reason)
		}
		for _, d := range o.Lost {
			counter(c.lost, d.Count, o.Name, d.Reason)
		}
		if o.LastSuccess != nil {
			gauge(c.lastSuccess, unixSeconds(o.LastSuccess()), o.Name)
		}
		if o.Pending != nil {
			gauge(c.pending, float64(o.Pending()), o.Name)
		}
	}
	if p := c.s.Pipeline; p != nil {
		gauge(c.memory, float64(p.MemoryUsed()))
		limit := c.s.MemoryLimit
		if limit == 0 {
			limit = p.MemoryLimit()
		}
		gauge(c.memoryLimit, float64(limit))
		gauge(c.batchLimit, float64(p.MemoryLimit()))
		gauge(c.ringItems, float64(p.RingLen()))
		gauge(c.ringCap, float64(p.RingCap()))
		hub := p.Tap()
		gauge(c.tapSubs, float64(hub.Subscribers()))
		counter(c.tapDropped, hub.Dropped)
	}
	counter(c.timeFallbacks, c.s.TimeFallbacks)
	if ck := c.s.Checkpoints; ck != nil {
		counter(c.ckptErrors, ck.SaveErrors)
		gauge(c.ckptSaved, unixSeconds(ck.LastSaved()))
		for reason, n := range ck.LoadErrors() {
			ch <- prometheus.MustNewConstMetric(c.ckptLoad, prometheus.CounterValue, float64(n), reason)
		}
	}
	gauge(c.buildInfo, 1, c.s.Version, c.s.Revision, runtime.Version())
}

// unixSeconds is t in Unix seconds; 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// age is the seconds from oldest to now; 0 for the zero time.
func age(oldest, now time.Time) float64 {
	if oldest.IsZero() {
		return 0
	}
	return max(now.Sub(oldest).Seconds(), 0)
}

// collectLag sums and maxes one input's open files' lag in bytes: one
// series per input however many files there are, never one per file.
func (c *collector) collectLag(ch chan<- prometheus.Metric, in Input) {
	var sum, most int64
	in.Files(func(f tail.OpenFile) {
		lag := f.Lag()
		sum += lag
		most = max(most, lag)
	})
	ch <- prometheus.MustNewConstMetric(c.lagBytes, prometheus.GaugeValue, float64(sum), in.Name)
	ch <- prometheus.MustNewConstMetric(c.fileLagMax, prometheus.GaugeValue, float64(most), in.Name)
}
