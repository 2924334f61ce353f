package agenttest

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/promtest"
)

// APIURL is the base URL (http://127.0.0.1:PORT) of the nth HTTP API the
// agent started: each reload starts a new one, and a config may ask for a
// free port (127.0.0.1:0), so the address comes from the agent's log.
func (a *Agent) APIURL(t testing.TB, n int) string {
	t.Helper()
	ev := a.WaitLog(t, "http api listening", n)
	addr, ok := ev["addr"].(string)
	require.True(t, ok, "addr in %v", ev)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err, "addr %q", addr)
	return "http://127.0.0.1:" + port
}

// URL is the base URL of the agent's first HTTP API.
func (a *Agent) URL(t testing.TB) string {
	t.Helper()
	return a.APIURL(t, 1)
}

// WaitReady waits until /readyz of the agent's first HTTP API answers 200
// and returns the API's base URL.
func (a *Agent) WaitReady(t testing.TB) string {
	t.Helper()
	base := a.URL(t)
	c := http.Client{Timeout: 5 * time.Second}
	a.waitFor(t, "/readyz 200", func() bool {
		resp, err := c.Get(base + "/readyz")
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return base
}

// Metrics scrapes the HTTP API the agent logged last (the current one
// after a reload), without waiting: call WaitReady or URL first. It takes
// a require.TestingT so it works inside require.EventuallyWithT.
func (a *Agent) Metrics(t require.TestingT) map[string]*dto.MetricFamily {
	return promtest.Scrape(t, a.lastURL(t))
}

// Metric is one counter or gauge sample of /metrics; labels are name,
// value pairs that the sample must carry.
func (a *Agent) Metric(t require.TestingT, name string, labels ...string) float64 {
	return promtest.Value(t, a.Metrics(t), name, labels...)
}

// lastURL is the API the agent logged last, without waiting.
func (a *Agent) lastURL(t require.TestingT) string {
	evs := a.LogEvents("http api listening")
	require.NotEmpty(t, evs, "%s: no http api yet", a.Name)
	addr, _ := evs[len(evs)-1]["addr"].(string)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err, "addr %q", addr)
	return "http://127.0.0.1:" + port
}
