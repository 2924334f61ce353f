package syslog

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/metrics/series"
)

// Loss is a count of records read that will never reach any store, for
// one reason.
type Loss struct {
	Reason  string
	Records int64
}

// Lost counts the records this input read that will never reach any
// store, by reason: udp_overflow (the pipeline, or a full spool that
// blocks, had no room), udp_receive_buffer (dropped by the kernel),
// shutdown (not handed over before the stop), and spool_full (dropped by
// a spool that drops when full).
func (in *Input) Lost() []Loss {
	lost := []Loss{
		{"udp_overflow", in.stats.DroppedFull.Load()},
		{"udp_receive_buffer", in.UDPKernelDrops()},
		{"shutdown", in.stats.DroppedShutdown.Load()},
	}
	if ds, ok := in.sink.(Downstream); ok {
		lost = append(lost, Loss{"spool_full", ds.Dropped()})
	}
	return lost
}

// Collector returns the input's metrics, read from its counters when
// Prometheus scrapes: the read path pays nothing for them.
func (in *Input) Collector() prometheus.Collector {
	d := func(f series.Family) *prometheus.Desc { return f.Desc(series.InputLabel, in.cfg.Name) }
	return &collector{
		in:      in,
		records: d(series.InputRecords), bytes: d(series.InputBytes),
		parseErrors: d(series.InputParseErrors), truncated: d(series.InputTruncated),
		lagSeconds: d(series.InputLagSeconds), lost: series.Lost.Desc(series.ComponentLabel, in.cfg.Name),
		conns: d(series.InputConnections), closed: d(series.InputConnectionsClosed), frames: d(series.InputFrameMemory),
	}
}

type collector struct {
	in                                      *Input
	records, bytes, parseErrors, truncated  *prometheus.Desc
	lagSeconds, lost, conns, closed, frames *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.records, c.bytes, c.parseErrors, c.truncated, c.lagSeconds, c.lost, c.conns, c.closed, c.frames,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := &c.in.stats
	series.Counter(ch, c.records, st.Records.Load())
	series.Counter(ch, c.bytes, st.Bytes.Load())
	series.Counter(ch, c.parseErrors, st.Malformed.Load())
	series.Counter(ch, c.truncated, st.Truncated.Load())
	for _, l := range c.in.Lost() {
		series.Counter(ch, c.lost, l.Records, l.Reason)
	}
	series.Counter(ch, c.closed, st.ConnsRefused.Load(), "max_connections")
	series.Counter(ch, c.closed, st.ConnsIdleClosed.Load(), "idle_timeout")
	series.Counter(ch, c.closed, st.ConnsHandshakeTimeout.Load(), "handshake_timeout")
	series.Counter(ch, c.closed, st.ConnsFrameMemory.Load(), "frame_memory")
	series.Gauge(ch, c.conns, float64(st.ConnsOpen.Load()))
	series.Gauge(ch, c.frames, float64(st.FrameBytes.Load()))
	series.Gauge(ch, c.lagSeconds, series.Age(c.in.OldestUnacked(), time.Now()))
}
