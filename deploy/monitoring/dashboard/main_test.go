package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDashboardGenerated: the dashboard files in the repository are this
// generator's output (run `go run ./deploy/monitoring/dashboard` after
// changing it).
func TestDashboardGenerated(t *testing.T) {
	want, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Files {
		got, err := os.ReadFile(filepath.Join("../../..", p))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not the generator's output: run go run ./deploy/monitoring/dashboard", p)
		}
	}
	if len(Queries()) < 20 {
		t.Errorf("%d queries", len(Queries()))
	}
}
