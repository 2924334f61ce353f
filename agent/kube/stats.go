package kube

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

type stats struct {
	enriched, unknown, excluded                          atomic.Int64 // records
	fetchFound, fetchNotFound, fetchErrors, fetchLimited atomic.Int64 // direct lookups
}

// Collector returns the enricher's metrics, read at scrape time.
func (e *Enricher) Collector() prometheus.Collector { return collector{e} }

var (
	descRecords = prometheus.NewDesc("sluice_kubernetes_records_total",
		"Container log records by enrichment result: enriched from the pod cache, unknown_pod (shipped with the names from the file path), excluded (dropped by the sluice.io/exclude annotation).",
		[]string{"result"}, nil)
	descFetches = prometheus.NewDesc("sluice_kubernetes_pod_fetches_total",
		"Direct lookups of pods the cache did not hold yet, by result: found, not_found, error, rate_limited.",
		[]string{"result"}, nil)
	descPods = prometheus.NewDesc("sluice_kubernetes_cache_pods",
		"Pods in the metadata cache: live, or deleted and kept for deleted_pod_ttl.",
		[]string{"state"}, nil)
	descSynced = prometheus.NewDesc("sluice_kubernetes_cache_synced",
		"1 once the pod cache holds a full list of this node's pods.", nil, nil)
)

type collector struct{ e *Enricher }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRecords
	ch <- descFetches
	ch <- descPods
	ch <- descSynced
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := &c.e.stats
	counter := func(d *prometheus.Desc, v int64, label string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), label)
	}
	counter(descRecords, s.enriched.Load(), "enriched")
	counter(descRecords, s.unknown.Load(), "unknown_pod")
	counter(descRecords, s.excluded.Load(), "excluded")
	counter(descFetches, s.fetchFound.Load(), "found")
	counter(descFetches, s.fetchNotFound.Load(), "not_found")
	counter(descFetches, s.fetchErrors.Load(), "error")
	counter(descFetches, s.fetchLimited.Load(), "rate_limited")
	live, deleted := c.e.cache.counts()
	ch <- prometheus.MustNewConstMetric(descPods, prometheus.GaugeValue, float64(live), "live")
	ch <- prometheus.MustNewConstMetric(descPods, prometheus.GaugeValue, float64(deleted), "deleted")
	synced := 0.0
	if c.e.isSynced.Load() {
		synced = 1
	}
	ch <- prometheus.MustNewConstMetric(descSynced, prometheus.GaugeValue, synced)
}
