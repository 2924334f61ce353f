package elasticsearch

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/metrics/series"
)

// Collector returns the output's metrics, read from its counters when
// Prometheus scrapes, and its request-duration histogram, which it hands
// to the output (SetRequestObserver): call it once, before Run.
func (o *Output) Collector() prometheus.Collector {
	d := func(f series.Family) *prometheus.Desc { return f.Desc(series.OutputLabel, o.name) }
	c := &collector{
		o: o, common: series.NewOutputDescs(o.name),
		reqFailures: d(series.OutputRequestFailures), docFailures: d(series.OutputDocumentFailures),
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
	reqFailures, docFailures, lastSuccess, pending, lost *prometheus.Desc
	requests                                             prometheus.Histogram
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	c.common.Describe(ch)
	for _, d := range []*prometheus.Desc{c.reqFailures, c.docFailures, c.lastSuccess, c.pending, c.lost} {
		ch <- d
	}
	c.requests.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	o := c.o
	st := o.Stats()
	c.common.Collect(ch, series.OutputCounts{
		Sent: st.DocsSent, Duplicate: st.DocsDuplicate, Failed: st.DocsFailed,
		Rescued: st.DocsRescued, DeadLettered: st.DocsDeadLettered,
		FailureStore: st.DocsFailureStore, LabelsDropped: st.LabelsDropped,
		ItemRetries: st.ItemRetries, RequestRetries: st.RequestRetries,
		Bytes: st.BytesSent, InFlight: st.InFlight,
	})
	for _, cause := range Causes() {
		series.Counter(ch, c.reqFailures, o.RequestFailures(cause), cause.String())
	}
	for _, cause := range DocCauses() {
		series.Counter(ch, c.docFailures, o.DocumentFailures(cause), cause.String())
	}
	series.Counter(ch, c.lost, o.DocumentFailures(DocDeadLetterRejected), "dead_letter_rejected")
	series.Gauge(ch, c.lastSuccess, series.UnixSeconds(o.LastSuccess()))
	series.Gauge(ch, c.pending, float64(o.PendingDocuments()))
	c.requests.Collect(ch)
}
