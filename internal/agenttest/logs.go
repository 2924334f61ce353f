package agenttest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
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
// returns the nth event; it fails the test at once if the agent exits
// first.
func (a *Agent) WaitLog(t testing.TB, msg string, n int) map[string]any {
	t.Helper()
	var evs []map[string]any
	a.waitFor(t, fmt.Sprintf("log %q #%d", msg, n), func() bool {
		evs = a.LogEvents(msg)
		return len(evs) >= n
	})
	return evs[n-1]
}

// waitFor polls cond until it holds. It fails the test as soon as the
// agent has exited without cond holding, or after waitTimeout.
func (a *Agent) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-a.done:
			if cond() {
				return
			}
			t.Fatalf("%s exited (%v) while the test waited for %s; stderr:\n%s", a.Name, a.state, what, Tail(a.Stderr.String(), 16<<10))
		case <-deadline.C:
			t.Fatalf("%s: no %s within %v", a.Name, what, waitTimeout)
		case <-tick.C:
		}
	}
}
