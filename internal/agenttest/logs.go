package agenttest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// waitTimeout bounds the waits on the agent's own progress (a log line,
// readiness) on a busy machine.
const waitTimeout = 30 * time.Second

// LogEvents returns the agent's JSON log lines whose msg is msg.
func (a *Agent) LogEvents(msg string) []map[string]any {
	var out []map[string]any
	for line := range strings.SplitSeq(a.Stderr.String(), "\n") {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) == nil && ev["msg"] == msg {
			out = append(out, ev)
		}
	}
	return out
}

// WaitLog waits until the agent has logged msg at least n times and
// returns the nth event; it fails the test if the agent exits first.
func (a *Agent) WaitLog(t testing.TB, msg string, n int) map[string]any {
	t.Helper()
	var evs []map[string]any
	require.Eventually(t, func() bool {
		a.RequireRunning(t)
		evs = a.LogEvents(msg)
		return len(evs) >= n
	}, waitTimeout, 10*time.Millisecond, "%s: log %q #%d", a.Name, msg, n)
	return evs[n-1]
}
