package main

// The tests run the built logs binary as a user would, against real sluice
// agents on loopback, a real VictoriaLogs (internal/vlstore), an
// in-process imitation of the API server's pod list and pod proxy, and an
// in-process fake of Elasticsearch's _search; they assert on the exact
// lines the user sees. They skip in -short mode.

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/sluicelog/sluice/internal/proctest"
)

var (
	raceEnabled bool // set by race_test.go
	// logsBin and agentBin are the built binaries; buildErr says why not.
	logsBin, agentBin string
	buildErr          error
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sluice-logs-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if !testing.Short() {
		// The CLI is built with -race when the tests run with it, so its
		// races fail the tests; the agent is another package's to check.
		logsBin, buildErr = proctest.Build(context.Background(), dir, "logs", "./cmd/logs", raceEnabled)
		if buildErr == nil {
			agentBin, buildErr = proctest.Build(context.Background(), dir, "sluice", "./cmd/sluice", false)
		}
	}
	return m.Run()
}

// requireBinaries skips in -short mode and fails when a build failed.
func requireBinaries(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs binaries: skipped in -short mode")
	}
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
}
