package promtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Promtool returns the path of bin/promtool, which `make tools` builds
// (the Makefile's pinned version). Without it the test is skipped with one
// line outside CI and fails in CI (CI set, as CI systems do).
func Promtool(tb testing.TB) string {
	tb.Helper()
	root, err := moduleRoot()
	if err != nil {
		tb.Fatalf("promtool: %v", err)
	}
	path := filepath.Join(root, "bin", "promtool")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	msg := "bin/promtool missing: `make tools` builds it"
	if v := strings.ToLower(os.Getenv("CI")); v != "" && v != "false" && v != "0" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// CheckMetrics runs `promtool check metrics` on a /metrics body; it
// returns promtool's complaints and whether it found the body clean.
func CheckMetrics(tb testing.TB, promtool string, body []byte) (string, bool) {
	tb.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		tb.Fatalf("run promtool: %v", err)
	}
	return string(out), err == nil
}

// moduleRoot is the first folder at or above the working directory (a
// test's package folder) that holds a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
