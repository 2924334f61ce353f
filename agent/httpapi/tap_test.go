package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/tap"
	"github.com/sluicelog/sluice/internal/agenttest"
)

func TestTapRefusesOversizedFilters(t *testing.T) {
	hub := tap.NewHub(0, 0)
	base := serve(t, Options{Tap: hub})
	f := func(query, want string) {
		t.Helper()
		code, body, _ := get(t, base+"/api/v1/tap?"+query, "")
		require.Equal(t, http.StatusBadRequest, code, body)
		require.Contains(t, body, want)
		require.Zero(t, hub.Subscribers())
	}
	big := url.QueryEscape(strings.Repeat("(a|b)", 1100))
	f("grep="+big, "the query is 12105 bytes, over the limit of 4096")
	f("grep="+strings.Repeat("x", 2000), "grep: 2000 bytes, over the limit of 1024")
	f("grep="+url.QueryEscape("(a|b|c|d|e|f){1000}"), "grep: pattern compiles to 3002 instructions")
}

// TestTapLogsNoQuery: the log line of a tap client names its filters, not
// their values.
func TestTapLogsNoQuery(t *testing.T) {
	var logs agenttest.Buffer
	hub := tap.NewHub(0, 0)
	base := serve(t, Options{Tap: hub, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	const marker = "c0ffee-marker"
	_, closeBody := openTap(t, base+"/api/v1/tap?namespace=payments&grep="+marker)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "tap client connected") }, 10*time.Second, time.Millisecond)
	closeBody()
	require.Contains(t, logs.String(), `"filters":"grep,namespace","query_bytes":37`)
	require.NotContains(t, logs.String(), marker)
	require.NotContains(t, logs.String(), "payments")
}

// TestIdleTapClosed: a tap that has sent nothing for the idle limit ends,
// freeing its slot; the client sees the stream end.
func TestIdleTapClosed(t *testing.T) {
	hub := tap.NewHub(0, 1)
	base := serve(t, Options{Tap: hub, TapIdleTimeout: 100 * time.Millisecond})
	body, closeBody := openTap(t, base+"/api/v1/tap?grep=nothing-matches")
	defer closeBody()
	n, err := io.Copy(io.Discard, body)
	require.NoError(t, err, "the stream ended cleanly")
	require.Zero(t, n)
	require.Eventually(t, func() bool { return hub.Subscribers() == 0 }, 10*time.Second, time.Millisecond)
	_, c2 := openTap(t, base+"/api/v1/tap")
	c2()
}
