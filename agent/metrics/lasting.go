package metrics

import (
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

// Lasting is the process's metrics: it outlives the agent instances that
// config reloads replace. Each instance registers its collectors on a
// registry of its own and attaches it here while it runs; when it stops,
// its counters' final values are kept and added to the next instance's,
// so a SIGHUP never sends a counter back (rate() sees no reset). Histograms
// go on the same way, and last-success timestamps never go back. The Go
// runtime, the process and the config reload metrics live here directly.
// Lasting is the Gatherer that /metrics serves.
type Lasting struct {
	own        *prometheus.Registry
	reloads    *prometheus.CounterVec
	lastReload prometheus.Gauge
	configInfo *prometheus.GaugeVec

	mu    sync.Mutex
	agent prometheus.Gatherer // the running instance's; nil between instances
	base  map[string]*dto.Metric
}

// Reload results, the result label of sluice_config_reloads_total.
const (
	ReloadSuccess = "success" // the new config runs
	ReloadInvalid = "invalid" // it did not load; the old one runs on
	ReloadFailed  = "failed"  // it loaded but did not start; the old one was started again
)

// NewLasting returns the process's metrics, with the Go runtime and
// process collectors registered.
func NewLasting() *Lasting {
	l := &Lasting{
		own: prometheus.NewRegistry(),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_config_reloads_total",
			Help: "Config reloads (SIGHUP), by result: success, invalid (the file did not load; the running config stays), failed (it did not start; the previous config was started again).",
		}, []string{"result"}),
		lastReload: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_config_last_reload_success_timestamp_seconds",
			Help: "When the running config was loaded (start or successful reload), in Unix seconds.",
		}),
		configInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_config_info",
			Help: "Always 1; sha256 is the first 16 hex digits of the SHA-256 of the running config file, to see which nodes run which config.",
		}, []string{"sha256"}),
		base: map[string]*dto.Metric{},
	}
	for _, r := range []string{ReloadSuccess, ReloadInvalid, ReloadFailed} {
		l.reloads.WithLabelValues(r)
	}
	l.own.MustRegister(l.reloads, l.lastReload, l.configInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return l
}

// Reloaded counts a reload by its result; a success also marks the time.
func (l *Lasting) Reloaded(result string) {
	l.reloads.WithLabelValues(result).Inc()
	if result == ReloadSuccess {
		l.lastReload.SetToCurrentTime()
	}
}

// Loaded marks the time the running config was loaded (at start).
func (l *Lasting) Loaded() { l.lastReload.SetToCurrentTime() }

// SetConfigHash shows the running config's hash in sluice_config_info.
func (l *Lasting) SetConfigHash(sha256 string) {
	if sha256 == "" {
		return
	}
	l.configInfo.Reset()
	l.configInfo.WithLabelValues(sha256).Set(1)
}

// Attach makes g, a running instance's registry, part of what Gather
// returns.
func (l *Lasting) Attach(g prometheus.Gatherer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.agent = g
}

// Detach keeps the final values of g's counters, histograms and
// timestamps, to continue from them, and stops gathering g. Call it once
// the instance has stopped.
func (l *Lasting) Detach(g prometheus.Gatherer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.agent != g {
		return
	}
	mfs, _ := l.gatherAgent() // what could be gathered is kept
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if carried(mf) {
				l.base[seriesKey(mf.GetName(), m)] = m
			}
		}
	}
	l.agent = nil
}

// Gather implements prometheus.Gatherer.
func (l *Lasting) Gather() ([]*dto.MetricFamily, error) {
	return prometheus.Gatherers{l.own, prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.gatherAgent()
	})}.Gather()
}

// gatherAgent gathers the running instance with the kept values added.
// Call with l.mu held.
func (l *Lasting) gatherAgent() ([]*dto.MetricFamily, error) {
	if l.agent == nil {
		return nil, nil
	}
	mfs, err := l.agent.Gather()
	for _, mf := range mfs {
		if !carried(mf) {
			continue
		}
		for _, m := range mf.GetMetric() {
			if b := l.base[seriesKey(mf.GetName(), m)]; b != nil {
				addTo(mf, m, b)
			}
		}
	}
	return mfs, err
}

// carried is whether a family's values go on across instances: counters,
// histograms, and the last-success timestamps (which must not go back to
// 0 or to an instance's start).
func carried(mf *dto.MetricFamily) bool {
	switch mf.GetType() {
	case dto.MetricType_COUNTER, dto.MetricType_HISTOGRAM:
		return true
	case dto.MetricType_GAUGE:
		return strings.HasSuffix(mf.GetName(), "_last_success_timestamp_seconds")
	}
	return false
}

// addTo adds the kept values b to m, in place.
func addTo(mf *dto.MetricFamily, m, b *dto.Metric) {
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		v := m.GetCounter().GetValue() + b.GetCounter().GetValue()
		m.Counter.Value = &v
	case dto.MetricType_GAUGE:
		v := max(m.GetGauge().GetValue(), b.GetGauge().GetValue())
		m.Gauge.Value = &v
	case dto.MetricType_HISTOGRAM:
		h, bh := m.GetHistogram(), b.GetHistogram()
		count := h.GetSampleCount() + bh.GetSampleCount()
		sum := h.GetSampleSum() + bh.GetSampleSum()
		h.SampleCount, h.SampleSum = &count, &sum
		for _, bk := range h.GetBucket() {
			i := slices.IndexFunc(bh.GetBucket(), func(x *dto.Bucket) bool { return x.GetUpperBound() == bk.GetUpperBound() })
			if i >= 0 {
				c := bk.GetCumulativeCount() + bh.GetBucket()[i].GetCumulativeCount()
				bk.CumulativeCount = &c
			}
		}
	}
}

// seriesKey names one series: the family and its label pairs (sorted by
// name in a gathered metric).
func seriesKey(name string, m *dto.Metric) string {
	var b strings.Builder
	b.WriteString(name)
	for _, lp := range m.GetLabel() {
		b.WriteByte(0xff)
		b.WriteString(lp.GetName())
		b.WriteByte('=')
		b.WriteString(lp.GetValue())
	}
	return b.String()
}
