package transform

import "github.com/prometheus/client_golang/prometheus"

// Collector returns the metrics of the drop, keep, throttle and fields
// transforms, read from their counters when Prometheus scrapes. The
// throttles' top offenders name pods, so they are not labels (a series per
// pod, churning): /api/v1/status and the summary records show them.
func (c *Chain) Collector() prometheus.Collector { return newCollector(c.Stats) }

func newCollector(stats func() []StepStats) *collector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &collector{
		stats: stats,
		dropped: desc("sluice_transform_dropped_records_total",
			"Records dropped by a drop, keep or throttle transform (the transform's name is the reason).", "transform", "type"),
		edited: desc("sluice_transform_edited_records_total",
			"Records changed by a fields transform.", "transform"),
		keys: desc("sluice_throttle_keys",
			"Keys (pods, namespaces, containers or field values) a throttle transform tracks.", "transform"),
	}
}

type collector struct {
	stats                 func() []StepStats
	dropped, edited, keys *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.dropped, c.edited, c.keys} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.stats() {
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
