// Package e2e runs the real sluice binary against a real VictoriaLogs
// (internal/vlstore) and checks the delivery and schema contracts of
// DESIGN.md end to end: every line written to a container log file arrives,
// once, with the right fields.
//
// The binary is built once (internal/agenttest), with -race when the tests
// run with -race, so data races in the agent under real load fail the
// tests too. The tests skip in -short mode. SLUICE_E2E_SEED=N replays the
// generated lines of a failed run (each test logs its seed);
// SLUICE_E2E_VERBOSE=1 logs the agents' stderr even when the tests pass;
// SLUICE_E2E_AGENT=BIN (or SLUICE_AGENT_BIN) runs them against a binary
// built elsewhere (an older build, for a before/after).
package e2e

import (
	"flag"
	"os"
	"testing"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// raceEnabled: the tests run with -race, so the agent is built with it too.
const raceEnabled = agenttest.Race

func TestMain(m *testing.M) {
	flag.Parse()
	if bin := os.Getenv("SLUICE_E2E_AGENT"); bin != "" && os.Getenv(agenttest.BinEnv) == "" {
		os.Setenv(agenttest.BinEnv, bin)
	}
	os.Exit(agenttest.Main(m))
}
