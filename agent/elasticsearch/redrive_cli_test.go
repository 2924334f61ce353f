package elasticsearch

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// buildSluice builds the agent binary for the CLI tests.
func buildSluice(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sluice")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/sluice").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func runRedrive(t *testing.T, bin, cfg string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"redrive", "-config", cfg}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stderr.String()
	}
	require.NoError(t, err)
	return 0, stderr.String()
}

// sluice redrive, end to end against the fake Elasticsearch 8: dead
// letters from a label collision stay (exit 1) until the mapping is
// fixed, then go back to their data stream (exit 0) and leave the
// dead-letter index; the summary says what happened.
func TestRedriveCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildSluice(t)
	f := newModelES(t, "8.17.0")
	ids := deadLettersAfterCollision(t, f)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`data_dir: `+dir+`
inputs:
  - { name: containers, type: container_logs, paths: [`+dir+`/*.log] }
outputs:
  - name: es
    type: elasticsearch
    urls: [`+f.srv.URL+`]
    retry: { initial: 1ms, max: 10ms }
`), 0o600))

	code, out := runRedrive(t, bin, cfg, "-dry-run")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "sluice redrive (dry run): 3 dead letters in sluice-dead-letter would be sent back")

	code, out = runRedrive(t, bin, cfg)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "read 3 of 3 dead letters in sluice-dead-letter: 0 stored, 0 already there, 3 refused again, 0 unusable; 0 deleted, 3 left")

	fixMapping(t, f)
	code, out = runRedrive(t, bin, cfg)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "read 3 of 3 dead letters in sluice-dead-letter: 3 stored, 0 already there, 0 refused again, 0 unusable; 3 deleted, 0 left")
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Empty(t, f.model.targets["sluice-dead-letter"].docs)
	for _, id := range ids {
		require.Contains(t, f.model.targets["logs-sluice.container_logs-default"].docs, id)
	}

	code, out = runRedrive(t, bin, cfg, "-since", "yesterday")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "-since: want a duration")
}
