// Package e2e runs the real sluice binary against a real VictoriaLogs
// (internal/vlstore) and checks the delivery and schema contracts of
// DESIGN.md end to end: every line written to a container log file arrives,
// once, with the right fields.
//
// The binary is built once in TestMain, with -race when the tests run with
// -race, so data races in the agent under real load fail the tests too.
// The tests skip in -short mode. SLUICE_E2E_SEED=N replays the generated
// lines of a failed run (each test logs its seed); SLUICE_E2E_VERBOSE=1
// logs the agents' stderr even when the tests pass; SLUICE_E2E_AGENT=BIN
// runs them against a binary built elsewhere (an older build, for a
// before/after).
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/sluicelog/sluice/internal/proctest"
)

var (
	// agentBin is the built sluice binary; empty when the build failed.
	agentBin string
	// buildErr says why agentBin is empty.
	buildErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sluice-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	switch {
	case testing.Short():
	case os.Getenv("SLUICE_E2E_AGENT") != "":
		agentBin = os.Getenv("SLUICE_E2E_AGENT")
	default:
		agentBin, buildErr = proctest.Build(context.Background(), dir, "sluice", "./cmd/sluice", raceEnabled)
	}
	return m.Run()
}

// requireAgent skips in -short mode and fails when the binary did not build.
func requireAgent(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	if buildErr != nil {
		t.Fatalf("build sluice: %v", buildErr)
	}
}
