package fairshare

import (
	"github.com/prometheus/client_golang/prometheus"
)

// collector exports a container_logs input's scheduler. Keys
// (namespaces, pods) stay out of labels: they are on the status page.
type collector struct {
	s *Scheduler

	inFlight, limit, waiting, admitted, admittedBytes, delayed, delay *prometheus.Desc
	ceilingDelayed, ceilingDelay                                      *prometheus.Desc
}

// Collector returns the collector of s, the scheduler of input.
func (s *Scheduler) Collector(input string) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, nil, prometheus.Labels{"input": input})
	}
	return &collector{
		s:              s,
		inFlight:       d("sluice_fair_share_in_flight_bytes", "Bytes read and admitted by fair_share, not yet acknowledged."),
		limit:          d("sluice_fair_share_limit_bytes", "fair_share's budget of bytes in flight (in_flight)."),
		waiting:        d("sluice_fair_share_waiting_batches", "Batches waiting for fair_share to admit them (their files are not read meanwhile)."),
		admitted:       d("sluice_fair_share_admitted_batches_total", "Batches admitted by fair_share."),
		admittedBytes:  d("sluice_fair_share_admitted_bytes_total", "Bytes of the batches admitted by fair_share."),
		delayed:        d("sluice_fair_share_delayed_batches_total", "Batches that waited for fair_share's budget."),
		delay:          d("sluice_fair_share_delay_seconds_total", "Time batches waited for fair_share's budget, summed."),
		ceilingDelayed: d("sluice_fair_share_ceiling_delayed_batches_total", "Batches delayed by their key's ceiling (max_bytes_per_second, max_records_per_second)."),
		ceilingDelay:   d("sluice_fair_share_ceiling_delay_seconds_total", "Time batches were delayed by their key's ceiling, summed."),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.inFlight, c.limit, c.waiting, c.admitted, c.admittedBytes, c.delayed, c.delay, c.ceilingDelayed, c.ceilingDelay} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	n := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	g(c.inFlight, float64(st.InFlight.Load()))
	g(c.limit, float64(c.s.Limit()))
	g(c.waiting, float64(st.Waiting.Load()))
	n(c.admitted, float64(st.Admitted.Load()))
	n(c.admittedBytes, float64(st.AdmittedByte.Load()))
	n(c.delayed, float64(st.Waited.Load()))
	n(c.delay, float64(st.WaitNanos.Load())/1e9)
	n(c.ceilingDelayed, float64(st.CeilingWaited.Load()))
	n(c.ceilingDelay, float64(st.CeilingNanos.Load())/1e9)
}
