package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

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
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(t.TempDir(), "sluice")
	build := exec.Command("go", "build", "-o", bin, "./cmd/sluice")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the agent: %v\n%s", err, out)
	}
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
