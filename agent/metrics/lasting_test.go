package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// instance is what one agent instance registers: a counter, a histogram,
// a gauge and a last-success timestamp.
type instance struct {
	reg     *prometheus.Registry
	records prometheus.Counter
	times   prometheus.Histogram
	gauge   prometheus.Gauge
	success prometheus.Gauge
}

func newInstance() instance {
	i := instance{
		reg:     prometheus.NewRegistry(),
		records: prometheus.NewCounter(prometheus.CounterOpts{Name: "t_records_total", Help: "h"}),
		times:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "t_seconds", Help: "h", Buckets: []float64{1, 10}}),
		gauge:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "t_open", Help: "h"}),
		success: prometheus.NewGauge(prometheus.GaugeOpts{Name: "t_last_success_timestamp_seconds", Help: "h"}),
	}
	i.reg.MustRegister(i.records, i.times, i.gauge, i.success)
	return i
}

func value(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	t.Fatalf("%s not gathered", name)
	return 0
}

// Counters and histograms go on from where the previous instance left
// them; gauges are the new instance's; a last-success time never goes
// back.
func TestLastingCarriesCountersAcrossInstances(t *testing.T) {
	l := NewLasting()
	a := newInstance()
	l.Attach(a.reg)
	a.records.Add(115)
	a.times.Observe(0.5)
	a.times.Observe(5)
	a.gauge.Set(7)
	a.success.Set(1000)
	require.Equal(t, 115.0, value(t, l, "t_records_total"))
	l.Detach(a.reg)

	b := newInstance()
	l.Attach(b.reg)
	b.records.Add(9)
	b.times.Observe(20)
	b.gauge.Set(2)
	require.Equal(t, 124.0, value(t, l, "t_records_total"), "115 + 9, not 9")
	require.Equal(t, 3.0, value(t, l, "t_seconds"))
	require.Equal(t, 2.0, value(t, l, "t_open"))
	require.Equal(t, 1000.0, value(t, l, "t_last_success_timestamp_seconds"), "not 0 before the new instance's first success")
	b.success.Set(2000)
	require.Equal(t, 2000.0, value(t, l, "t_last_success_timestamp_seconds"))
	require.NoError(t, testutil.GatherAndCompare(l, stringReader(`
# HELP t_seconds h
# TYPE t_seconds histogram
t_seconds_bucket{le="1"} 1
t_seconds_bucket{le="10"} 2
t_seconds_bucket{le="+Inf"} 3
t_seconds_sum 25.5
t_seconds_count 3
`), "t_seconds"))

	l.Reloaded(ReloadSuccess)
	l.Reloaded(ReloadInvalid)
	l.SetConfigHash("0123456789abcdef")
	require.NoError(t, testutil.GatherAndCompare(l, stringReader(`
# HELP sluice_config_info Always 1; sha256 is the first 16 hex digits of the SHA-256 of the running config file, to see which nodes run which config.
# TYPE sluice_config_info gauge
sluice_config_info{sha256="0123456789abcdef"} 1
# HELP sluice_config_reloads_total Config reloads (SIGHUP), by result: success, invalid (the file did not load; the running config stays), failed (it did not start; the previous config was started again).
# TYPE sluice_config_reloads_total counter
sluice_config_reloads_total{result="failed"} 0
sluice_config_reloads_total{result="invalid"} 1
sluice_config_reloads_total{result="success"} 1
`), "sluice_config_info", "sluice_config_reloads_total"))
	require.Positive(t, value(t, l, "sluice_config_last_reload_success_timestamp_seconds"))
	require.Positive(t, value(t, l, "go_goroutines"))
}
