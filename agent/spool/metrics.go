package spool

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/metrics/series"
)

// Collector exposes the spool on /metrics, read from its counters at
// scrape time. Its drops are reported by the input (Dropped).
func (s *Spool) Collector() prometheus.Collector {
	d := func(f series.Family) *prometheus.Desc { return f.Desc(series.InputLabel, s.cfg.Input) }
	return &collector{s: s,
		bytes: d(series.SpoolBytes), segments: d(series.SpoolSegments), age: d(series.SpoolOldestAge),
		records: d(series.SpoolRecords), corrupt: d(series.SpoolCorruptBytes), writeErrors: d(series.SpoolWriteErrors),
	}
}

type collector struct {
	s                                                   *Spool
	bytes, segments, age, records, corrupt, writeErrors *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.bytes, c.segments, c.age, c.records, c.corrupt, c.writeErrors} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := &c.s.stats
	series.Gauge(ch, c.bytes, float64(st.Bytes.Load()))
	series.Gauge(ch, c.segments, float64(st.Segments.Load()))
	series.Gauge(ch, c.age, c.s.OldestAge(time.Now()).Seconds())
	series.Counter(ch, c.records, st.Spooled.Load(), "spooled")
	series.Counter(ch, c.records, st.Replayed.Load(), "replayed")
	series.Counter(ch, c.corrupt, st.CorruptBytes.Load())
	series.Counter(ch, c.writeErrors, st.WriteErrors.Load())
}
