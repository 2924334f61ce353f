package console

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/metrics/series"
)

// Collector returns the output's metrics, read from its counters when
// Prometheus scrapes. A failed write is a lost document (write_failed).
func (o *Output) Collector() prometheus.Collector {
	return &collector{o: o, common: series.NewOutputDescs(o.name), lost: series.Lost.Desc(series.ComponentLabel, o.name)}
}

type collector struct {
	o      *Output
	common series.OutputDescs
	lost   *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	c.common.Describe(ch)
	ch <- c.lost
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.o.Stats()
	c.common.Collect(ch, series.OutputCounts{Sent: st.Documents, Failed: st.Failed, Bytes: st.Bytes})
	series.Counter(ch, c.lost, st.Failed, "write_failed")
}
