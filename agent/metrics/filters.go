package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/transform"
)

// Filters is what the filter collector reads at scrape time.
type Filters struct {
	// Stats returns the counters of the drop, keep, throttle and fields
	// transforms (transform.Chain.Stats); nil when there are none.
	Stats func() []transform.StepStats
	// Unrouted counts records that no output's match took.
	Unrouted func() int64
}

// NewFilterCollector returns the collector of the filter transforms and
// the routes. The throttles' top offenders name pods, so they are not
// labels (a series per pod, churning): /api/v1/status and the summary
// records show them.
func NewFilterCollector(f Filters) prometheus.Collector {
	return &filterCollector{
		f: f,
		dropped: desc("sluice_transform_dropped_records_total",
			"Records dropped by a drop, keep or throttle transform (the transform's name is the reason).", "transform", "type"),
		edited: desc("sluice_transform_edited_records_total",
			"Records changed by a fields transform.", "transform"),
		keys: desc("sluice_throttle_keys",
			"Keys (pods, namespaces, containers or field values) a throttle transform tracks.", "transform"),
		unrouted: desc("sluice_unrouted_records_total",
			"Records that matched no output and were acknowledged without being written."),
	}
}

type filterCollector struct {
	f                               Filters
	dropped, edited, keys, unrouted *prometheus.Desc
}

func (c *filterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.dropped, c.edited, c.keys, c.unrouted} {
		ch <- d
	}
}

func (c *filterCollector) Collect(ch chan<- prometheus.Metric) {
	if c.f.Unrouted != nil {
		ch <- prometheus.MustNewConstMetric(c.unrouted, prometheus.CounterValue, float64(c.f.Unrouted()))
	}
	if c.f.Stats == nil {
		return
	}
	for _, s := range c.f.Stats() {
		switch s.Type {
		case "fields":
			ch <- prometheus.MustNewConstMetric(c.edited, prometheus.CounterValue, float64(s.Edited), s.Name)
			continue
		case "throttle":
			ch <- prometheus.MustNewConstMetric(c.keys, prometheus.GaugeValue, float64(s.Keys), s.Name)
		}
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(s.Dropped), s.Name, s.Type)
	}
}
