package series

import "github.com/prometheus/client_golang/prometheus"

// OutputCounts are the counters every output reports, at one moment.
type OutputCounts struct {
	Sent, Duplicate, Failed     int64 // documents, by result
	Rescued, DeadLettered       int64 // refused documents stored as a rescue copy, or in the dead-letter index
	FailureStore, LabelsDropped int64 // documents in a data stream's failure store; labels left out by max_labels
	ItemRetries, RequestRetries int64
	Bytes                       int64 // bytes written (bodies on the wire of answered requests)
	InFlight                    int64 // requests being sent now
}

// OutputDescs are the descriptors of the series every output reports, for
// one output.
type OutputDescs struct {
	docs, labelsDropped, retries, bytes, inFlight *prometheus.Desc
}

// NewOutputDescs returns output name's descriptors.
func NewOutputDescs(name string) OutputDescs {
	d := func(f Family) *prometheus.Desc { return f.Desc(OutputLabel, name) }
	return OutputDescs{
		docs: d(OutputDocuments), labelsDropped: d(OutputLabelsDropped), retries: d(OutputRetries),
		bytes: d(OutputBytes), inFlight: d(OutputInFlight),
	}
}

// Describe sends the descriptors.
func (o OutputDescs) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{o.docs, o.labelsDropped, o.retries, o.bytes, o.inFlight} {
		ch <- d
	}
}

// Collect sends the series of c.
func (o OutputDescs) Collect(ch chan<- prometheus.Metric, c OutputCounts) {
	Counter(ch, o.docs, c.Sent, "sent")
	Counter(ch, o.docs, c.Duplicate, "duplicate")
	Counter(ch, o.docs, c.Rescued, "rescued")
	Counter(ch, o.docs, c.DeadLettered, "dead_lettered")
	Counter(ch, o.docs, c.Failed, "failed")
	Counter(ch, o.docs, c.FailureStore, "failure_store")
	Counter(ch, o.labelsDropped, c.LabelsDropped)
	Counter(ch, o.retries, c.ItemRetries, "item")
	Counter(ch, o.retries, c.RequestRetries, "request")
	Counter(ch, o.bytes, c.Bytes)
	Gauge(ch, o.inFlight, float64(c.InFlight))
}
