// Package promtest reads an agent's /metrics in tests, with the Prometheus
// text parser, so assertions are on what a scraper would see.
package promtest

import (
	"net/http"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// Scrape reads base+"/metrics".
func Scrape(t require.TestingT, base string) map[string]*dto.MetricFamily {
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return mfs
}

// Sample finds the metric of family name whose labels include labels
// (given as name, value pairs).
func Sample(t require.TestingT, mfs map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	mf, ok := mfs[name]
	require.True(t, ok, "no metric family %s", name)
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return m
	}
	require.Fail(t, "no sample", "%s%v", name, labels)
	return nil
}

// Value is the value of a counter or gauge sample.
func Value(t require.TestingT, mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	m := Sample(t, mfs, name, labels...)
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	}
	require.Fail(t, "not a counter or gauge", name)
	return 0
}
