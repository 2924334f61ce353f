package main

import (
	"os"
	"testing"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// TestChaosShort is the short chaos run of `make test`: every fault of the
// long run once (latency, 429s, resets, an outage, two SIGKILLs, an
// unwritable data_dir, hostile input), against the real store, in about a
// minute. The agent is built without -race so its RSS is the real one.
func TestChaosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos run: skipped in -short mode")
	}
	if _, err := vlstore.Binary(); err != nil {
		t.Fatal(err)
	}
	bin := agenttest.Bin(t, "./cmd/sluice", false)
	o := Short()
	o.Agent = bin
	o.Log = t.Logf
	if os.Getenv("SLUICE_CHAOS_KEEP") != "" {
		o.Keep = true
	}
	res, err := Run(t.Context(), o)
	if res != nil {
		t.Logf("\n%s", res)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("chaos run failed: %v", res.Failures)
	}
}

// TestChaosSyslogOutageShort is the syslog-outage scenario shortened for
// `make test`: the store down 18 s with two SIGKILLs in it, syslog TCP and
// UDP through a spool, every message exactly once afterwards.
func TestChaosSyslogOutageShort(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos run: skipped in -short mode")
	}
	if _, err := vlstore.Binary(); err != nil {
		t.Fatal(err)
	}
	o := SyslogOutageShort()
	o.Agent = agenttest.Bin(t, "./cmd/sluice", false)
	o.Log = t.Logf
	res, err := Run(t.Context(), o)
	if res != nil {
		t.Logf("\n%s", res)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("chaos run failed: %v", res.Failures)
	}
}
