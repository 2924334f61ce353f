package otlp

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/metrics/series"
)

// Collector returns the output's metrics, read from its counters when
// Prometheus scrapes.
func (o *Output) Collector() prometheus.Collector {
	d := func(f series.Family) *prometheus.Desc { return f.Desc(series.OutputLabel, o.name) }
	return &collector{
		o: o, common: series.NewOutputDescs(o.name),
		reqFailures: d(series.OutputRequestFailures), rejected: d(series.OutputOTLPRejected),
		lastSuccess: d(series.OutputLastSuccess), pending: d(series.OutputPending),
		lost: series.Lost.Desc(series.ComponentLabel, o.name),
	}
}

type collector struct {
	o                                                 *Output
	common                                            series.OutputDescs
	reqFailures, rejected, lastSuccess, pending, lost *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	c.common.Describe(ch)
	for _, d := range []*prometheus.Desc{c.reqFailures, c.rejected, c.lastSuccess, c.pending, c.lost} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	o := c.o
	st := o.Stats()
	c.common.Collect(ch, series.OutputCounts{
		Sent: st.Sent, Failed: st.Failed, RequestRetries: st.RequestRetries,
		Bytes: st.Bytes, InFlight: st.InFlight,
	})
	for i := range numCauses {
		series.Counter(ch, c.reqFailures, o.RequestFailures(Cause(i)), Cause(i).String())
	}
	series.Counter(ch, c.rejected, st.Rejected, "partial_success")
	series.Counter(ch, c.rejected, st.Refused, "http_4xx")
	series.Counter(ch, c.lost, st.Failed, "otlp_rejected")
	series.Gauge(ch, c.lastSuccess, series.UnixSeconds(st.LastSuccess))
	series.Gauge(ch, c.pending, float64(st.Pending))
}
