package runtime

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An input with fair_share shows its scheduler on /api/v1/status (budget,
// keys with their weights and admitted bytes) and on /metrics; every line
// still arrives.
func TestFairShareStatusAndMetrics(t *testing.T) {
	d := newTestDir(t)
	raw := strings.Replace(d.yaml("*.log", ""), "poll_interval: 20ms }",
		"poll_interval: 20ms, fair_share: { weights: { payments: 4 } } }", 1)
	out := &lineBuffer{}
	_, base := runAgent(t, raw, out)
	writeCRI(t, d.logPath("api-0", "payments", "api"), numbered("pay", 0, 100)...)
	writeCRI(t, d.logPath("web-0", "shop", "web"), numbered("shop", 0, 50)...)
	require.Eventually(t, func() bool { return out.count() == 150 }, 10*time.Second, time.Millisecond)

	var fs *FairShareStatus
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		code, body := httpGet(t, base+"/api/v1/status", "")
		require.Equal(c, http.StatusOK, code)
		var st Status
		require.NoError(c, json.Unmarshal(body, &st))
		require.Len(c, st.Inputs, 1)
		fs = st.Inputs[0].FairShare
		require.NotNil(c, fs)
		require.Zero(c, fs.InFlightBytes, "every admitted byte given back on ack")
		require.Len(c, fs.Keys, 2)
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, int64(defaultFairInFlight/4), fs.LimitBytes, "a console output holds no bulk bodies: a quarter of the default")
	weights := map[string]int{}
	for _, k := range fs.Keys {
		weights[k.Key] = k.Weight
		require.Positive(t, k.AdmittedBytes, k.Key)
		require.Equal(t, 1, k.Files, k.Key)
	}
	require.Equal(t, map[string]int{"payments": 4, "shop": 1}, weights)

	code, body := httpGet(t, base+"/metrics", "")
	require.Equal(t, http.StatusOK, code)
	for _, m := range []string{
		`sluice_fair_share_limit_bytes{input="containers"} 262144`,
		`sluice_fair_share_in_flight_bytes{input="containers"} 0`,
		`sluice_fair_share_admitted_batches_total{input="containers"}`,
		`sluice_fair_share_delayed_batches_total{input="containers"}`,
	} {
		require.Contains(t, string(body), m)
	}
}
