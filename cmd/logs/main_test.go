package main

// The tests run the built logs binary as a user would, against real sluice
// agents on loopback, a real VictoriaLogs (internal/vlstore), an
// in-process imitation of the API server's pod list and pod proxy, and an
// in-process fake of Elasticsearch's _search; they assert on the exact
// lines the user sees. They skip in -short mode.

import (
	"flag"
	"os"
	"sync"
	"testing"

	"github.com/sluicelog/sluice/internal/agenttest"
)

var (
	// logsBin is the built logs binary, set by requireBinaries.
	logsBin  string
	logsOnce sync.Once
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(agenttest.Main(m))
}

// requireBinaries skips in -short mode, builds the logs CLI (with -race
// when the tests run with it, so its races fail the tests) and fails when
// the build fails.
func requireBinaries(t *testing.T) {
	t.Helper()
	bin := agenttest.Bin(t, "./cmd/logs", agenttest.Race)
	logsOnce.Do(func() { logsBin = bin })
}

// agentBinary is the agent, built without -race: its races are e2e's to
// find, and a plain build starts faster.
func agentBinary(t *testing.T) string {
	t.Helper()
	return agenttest.Bin(t, "./cmd/sluice", false)
}
