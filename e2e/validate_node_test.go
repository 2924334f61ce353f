package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// TestValidate_DataDirNotWritable: -validate refuses a data_dir the agent
// could not create or write its checkpoints in, with every other problem
// of the file (here the kubelet's token and CA, which kube.New and the
// polls read), each with its line. Run as nobody when the tests run as
// root, since root passes permission checks.
func TestValidate_DataDirNotWritable(t *testing.T) {
	bin := agenttest.Binary(t)
	// Readable by nobody all the way down (t.TempDir's top folder is 0700).
	dir, err := os.MkdirTemp("", "sluice-datadir")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	locked := filepath.Join(dir, "locked")
	require.NoError(t, os.Mkdir(locked, 0o555))

	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	run := func(t *testing.T, dataDir string) (int, string) {
		cfg := fmt.Sprintf(`data_dir: %s
http: { listen: "" }
inputs:
  - { name: c, type: container_logs, paths: [%s/*.log] }
kubernetes:
  source: kubelet
  kubelet:
    url: https://127.0.0.1:10250
    token_file: /nonexistent/token
    ca_file: /nonexistent/ca.crt
outputs:
  - { name: o, type: console }
`, dataDir, dir)
		path := filepath.Join(dir, fmt.Sprintf("sluice-%d.yaml", time.Now().UnixNano()))
		require.NoError(t, os.WriteFile(path, []byte(cfg), 0o644))
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "-config", path, "-validate")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			require.NoError(t, err)
		}
		t.Logf("stderr:\n%s", stderr.String())
		return cmd.ProcessState.ExitCode(), stderr.String()
	}
	tail := "kubernetes.kubelet.token_file (line 9): file /nonexistent/token does not exist; the kubelet refuses a pod list without a token (token_file: \"\" for a kubelet that takes none)\n" +
		"kubernetes.kubelet.ca_file (line 10): file /nonexistent/ca.crt does not exist\n"

	code, stderr := run(t, locked)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, ".yaml: data_dir (line 1): folder "+locked+" is not writable (permission denied): the agent keeps its checkpoints there\n"+tail)

	code, stderr = run(t, filepath.Join(locked, "data"))
	require.Equal(t, 1, code)
	require.Contains(t, stderr, ".yaml: data_dir (line 1): folder "+locked+"/data does not exist and cannot be created: "+locked+" is not writable (permission denied)\n"+tail)
}
