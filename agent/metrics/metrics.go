// Package metrics exposes the agent's own counters to Prometheus (the
// pipeline, the checkpoints, the build) and holds the process's registry
// (Lasting), which outlives config reloads. Inputs, outputs and the filter
// transforms report their own series through collectors of their own
// (inputs' and outputs' named in agent/metrics/series); agent/runtime
// registers every collector on the instance's registry, never the global
// one. Collectors read atomic counters when Prometheus scrapes, so the
// per-record path pays nothing for metrics (no lock, no extra atomic).
//
// Labels are bounded: input and output names from the config, and fixed
// sets of reasons and results; never a pod, a file or an address.
package metrics

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/metrics/series"
	"github.com/sluicelog/sluice/agent/tap"
)

// Pipeline is the part of agent/pipeline the collector reads.
type Pipeline interface {
	MemoryUsed() int64
	MemoryLimit() int64
	RingLen() int
	RingCap() int
	Tap() *tap.Hub
	// Unrouted counts records that no output's match took.
	Unrouted() int64
}

// Sources is everything the metrics describe.
type Sources struct {
	Version  string
	Revision string // the source commit
	// TimeFallbacks counts documents that kept the read time because
	// their time field was missing or did not parse.
	TimeFallbacks func() int64
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

// Register registers the agent's own collector on reg. The Go runtime and
// process collectors are the process's (Lasting).
func Register(reg prometheus.Registerer, s Sources) error {
	return reg.Register(newCollector(s))
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// collector reads every counter of Sources at scrape time.
type collector struct {
	s Sources

	memory, memoryLimit, ringItems, ringCap *prometheus.Desc
	tapSubs, tapDropped, buildInfo          *prometheus.Desc
	timeFallbacks, batchLimit, unrouted     *prometheus.Desc
	ckptErrors, ckptSaved, ckptLoad         *prometheus.Desc
}

func newCollector(s Sources) *collector {
	return &collector{
		s:             s,
		memory:        desc("sluice_pipeline_memory_bytes", "Bytes held by batches not yet acknowledged."),
		memoryLimit:   desc("sluice_pipeline_memory_limit_bytes", "memory_limit: the agent's memory, of which batches get a share (sluice_pipeline_batch_limit_bytes)."),
		batchLimit:    desc("sluice_pipeline_batch_limit_bytes", "Bytes batches not yet acknowledged may hold: memory_limit less the outputs' buffers and room for the garbage collector."),
		ckptErrors:    desc("sluice_checkpoint_save_errors_total", "Failed writes of the checkpoint file in data_dir (retried every checkpoint_interval; while they fail a restart re-reads files from older positions)."),
		ckptSaved:     desc("sluice_checkpoint_last_success_timestamp_seconds", "When the checkpoint file last held every acknowledged position (a write, or a sync with nothing new)."),
		ckptLoad:      desc("sluice_checkpoint_load_errors_total", "Problems in the checkpoint file at start, by reason: bad_entry (an entry dropped; its file resumed by start_at), empty_file and corrupt_file (the file kept aside as checkpoints.json.corrupt-<time>; every file resumed by start_at).", "reason"),
		ringItems:     desc("sluice_ring_items", "Batches waiting for a worker."),
		ringCap:       desc("sluice_ring_capacity", "Batches the ring holds at most."),
		tapSubs:       desc("sluice_tap_subscribers", "Clients of /api/v1/tap."),
		tapDropped:    desc("sluice_tap_dropped_subscribers_total", "Tap clients dropped because they did not keep up."),
		buildInfo:     desc("sluice_build_info", "Always 1; the labels say which build runs.", "version", "revision", "goversion"),
		unrouted:      desc("sluice_unrouted_records_total", "Records that matched no output and were acknowledged without being written."),
		timeFallbacks: desc("sluice_time_fallback_total", "Documents that kept the read time as @timestamp because their time field was missing or did not parse (flagged sluice.time_fallback)."),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.memory, c.memoryLimit, c.ringItems, c.ringCap,
		c.tapSubs, c.tapDropped, c.buildInfo, c.timeFallbacks,
		c.batchLimit, c.ckptErrors, c.ckptSaved, c.ckptLoad, c.unrouted,
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
		counter(c.unrouted, p.Unrouted)
	}
	counter(c.timeFallbacks, c.s.TimeFallbacks)
	if ck := c.s.Checkpoints; ck != nil {
		counter(c.ckptErrors, ck.SaveErrors)
		gauge(c.ckptSaved, series.UnixSeconds(ck.LastSaved()))
		for reason, n := range ck.LoadErrors() {
			ch <- prometheus.MustNewConstMetric(c.ckptLoad, prometheus.CounterValue, float64(n), reason)
		}
	}
	gauge(c.buildInfo, 1, c.s.Version, c.s.Revision, runtime.Version())
}
