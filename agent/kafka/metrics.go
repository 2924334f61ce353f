package kafka

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/metrics/series"
)

// Collector returns the output's metrics, read from its counters when
// Prometheus scrapes, and its produce-request histogram, which it hands
// to the output (SetRequestObserver): call it once, before Run.
func (o *Output) Collector() prometheus.Collector {
	d := func(f series.Family) *prometheus.Desc { return f.Desc(series.OutputLabel, o.name) }
	c := &collector{
		o: o, common: series.NewOutputDescs(o.name),
		failures: d(series.KafkaProduceFailures), tooLarge: d(series.KafkaTooLarge), auth: d(series.KafkaAuthRefusals),
		lastSuccess: d(series.OutputLastSuccess), pending: d(series.OutputPending),
		lost:     series.Lost.Desc(series.ComponentLabel, o.name),
		requests: series.NewRequestDuration(o.name),
	}
	o.SetRequestObserver(c.requests)
	return c
}

type collector struct {
	o                                                    *Output
	common                                               series.OutputDescs
	failures, tooLarge, auth, lastSuccess, pending, lost *prometheus.Desc
	requests                                             prometheus.Histogram
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	c.common.Describe(ch)
	for _, d := range []*prometheus.Desc{c.failures, c.tooLarge, c.auth, c.lastSuccess, c.pending, c.lost} {
		ch <- d
	}
	c.requests.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.o.Stats()
	c.common.Collect(ch, series.OutputCounts{
		Sent: st.DocsSent, DeadLettered: st.DocsDeadLettered, Failed: st.DocsFailed,
		ItemRetries: st.Retries, Bytes: st.BytesSent,
	})
	for _, cause := range st.causes() {
		series.Counter(ch, c.failures, st.Failures[cause], cause)
	}
	series.Counter(ch, c.tooLarge, st.TooLarge)
	series.Counter(ch, c.auth, st.AuthRefusals)
	series.Counter(ch, c.lost, st.DocsFailed, "too_large")
	series.Gauge(ch, c.lastSuccess, series.UnixSeconds(st.LastSuccess))
	series.Gauge(ch, c.pending, float64(st.Pending))
	c.requests.Collect(ch)
}
