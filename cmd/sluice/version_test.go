package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeBuildVersion runs `make build` as the README says and checks the
// binary names the checkout: `git describe` as its version and the commit
// as its revision, not "dev".
func TestMakeBuildVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent")
	}
	git := func(args ...string) string {
		out, err := exec.Command("git", args...).Output()
		if err != nil {
			t.Skipf("not a git checkout: git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	rev := git("rev-parse", "HEAD")
	bin := t.TempDir()
	mk := exec.Command("make", "-C", "../..", "build", "BIN="+bin)
	// Not from this environment: make's ?= keeps even an empty one.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VERSION=") && !strings.HasPrefix(kv, "REVISION=") {
			mk.Env = append(mk.Env, kv)
		}
	}
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	// Read after the build: a file changed meanwhile makes both -dirty.
	desc := git("describe", "--tags", "--always", "--dirty")
	got, err := exec.Command(filepath.Join(bin, "sluice"), "-version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "sluice " + desc + " (revision " + rev + ", go"
	if !strings.HasPrefix(string(got), want) {
		t.Errorf("-version printed %q, want it to start %q", got, want)
	}
}

func TestBuildVersionFallbacks(t *testing.T) {
	defer func(v, r string) { version, revision = v, r }(version, revision)
	version, revision = "v1.2.3", "abc"
	if v, r := buildVersion(); v != "v1.2.3" || r != "abc" {
		t.Errorf("stamped: %s %s", v, r)
	}
	version, revision = "", "0123456789abcdef"
	if v, r := buildVersion(); v != "dev-0123456789ab" || r != "0123456789abcdef" {
		t.Errorf("revision only: %s %s", v, r)
	}
}
