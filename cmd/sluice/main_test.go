package main

import (
	"os"
	"testing"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// The tests run the built binary (agenttest builds it once).
func TestMain(m *testing.M) { os.Exit(agenttest.Main(m)) }
