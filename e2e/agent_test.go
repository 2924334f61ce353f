package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/proctest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// nodeName is the node_name of every test config; documents carry it as
// kubernetes.host.
const nodeName = "e2e-node"

// stopTimeout bounds a graceful stop: flush, acks, checkpoints.
const stopTimeout = 30 * time.Second

// configParams fills the test config of the brief.
type configParams struct {
	DataDir  string
	Paths    []string // globs of the container_logs input
	StoreURL string
}

// configYAML renders the agent config in block style, one key per line, so
// a test can point at the line of any key.
func configYAML(p configParams) string {
	var b strings.Builder
	w := func(s string) { b.WriteString(s); b.WriteByte('\n') }
	w("node_name: " + nodeName)
	w("data_dir: " + strconv.Quote(p.DataDir))
	w("memory_limit: 64MiB")
	w("checkpoint_interval: 100ms")
	w("http:")
	w("  listen: 127.0.0.1:0")
	w("inputs:")
	w("  - name: containers")
	w("    type: container_logs")
	w("    paths:")
	for _, g := range p.Paths {
		w("      - " + strconv.Quote(g))
	}
	w("    exclude: []")
	w("    start_at: head")
	w("    poll_interval: 50ms")
	w("kubernetes:")
	w("  enabled: false")
	w("transforms:")
	w("  - type: json")
	w("    field: log")
	w("outputs:")
	w("  - name: es")
	w("    type: elasticsearch")
	w("    urls:")
	w("      - " + strconv.Quote(p.StoreURL))
	w(`    index: "logs-{kubernetes.namespace_name}-%Y.%m.%d"`)
	w("    headers:")
	b.WriteString(vlstore.HeadersYAML("      "))
	w("    id_field: sluice_id")
	w("    bulk:")
	w("      max_bytes: 256KiB")
	w("      flush_interval: 200ms")
	w("      workers: 2")
	w("    retry:")
	w("      initial: 50ms")
	w("      max: 1s")
	return b.String()
}

// writeConfig writes the config into dir and returns its path.
func writeConfig(t *testing.T, dir string, p configParams) string {
	t.Helper()
	path := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(path, []byte(configYAML(p)), 0o600))
	return path
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer = proctest.Buffer

// agentProc is one running sluice process.
type agentProc struct {
	name   string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	stdout *lockedBuffer
	done   chan struct{} // closed when the process has exited
	state  *os.ProcessState
}

// startAgent runs `sluice -config cfg`. The process is killed when the test
// ends; its stderr goes to the test log if the test failed.
func startAgent(t *testing.T, name, cfg string) *agentProc {
	t.Helper()
	a := &agentProc{
		name:   name,
		cmd:    exec.Command(agentBin, "-config", cfg),
		stderr: &lockedBuffer{},
		stdout: &lockedBuffer{},
		done:   make(chan struct{}),
	}
	a.cmd.Stderr, a.cmd.Stdout = a.stderr, a.stdout
	a.cmd.Env = append(os.Environ(), "GORACE=halt_on_error=0 exitcode=66")
	require.NoError(t, a.cmd.Start(), "start %s", name)
	go func() {
		_ = a.cmd.Wait() // the exit status is read from ProcessState
		a.state = a.cmd.ProcessState
		close(a.done)
	}()
	t.Cleanup(func() {
		if a.running() {
			_ = a.cmd.Process.Kill()
			<-a.done
		}
		logs := a.stderr.String()
		if strings.Contains(logs, "WARNING: DATA RACE") {
			t.Errorf("%s: the race detector found a data race in the agent", a.name)
		}
		if t.Failed() || os.Getenv("SLUICE_E2E_VERBOSE") != "" {
			t.Logf("%s exited with %v; stderr (last 64 KiB):\n%s", a.name, a.state, tail(logs, 64<<10))
			if out := a.stdout.String(); out != "" {
				t.Logf("%s stdout (last 8 KiB):\n%s", a.name, tail(out, 8<<10))
			}
		}
	})
	return a
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "[...]\n" + s
}

// running reports whether the process has not exited.
func (a *agentProc) running() bool {
	select {
	case <-a.done:
		return false
	default:
		return true
	}
}

// requireRunning fails the test if the agent has exited.
func (a *agentProc) requireRunning(t *testing.T) {
	t.Helper()
	if !a.running() {
		t.Fatalf("%s exited unexpectedly: %v\nstderr:\n%s", a.name, a.state, tail(a.stderr.String(), 16<<10))
	}
}

// stop sends SIGTERM and waits for a graceful exit; it returns the exit code.
func (a *agentProc) stop(t *testing.T) int {
	t.Helper()
	a.requireRunning(t)
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-a.done:
	case <-time.After(stopTimeout):
		_ = a.cmd.Process.Kill()
		<-a.done
		t.Fatalf("%s did not exit within %v of SIGTERM", a.name, stopTimeout)
	}
	if ws, ok := a.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Errorf("%s died of signal %v after SIGTERM instead of exiting", a.name, ws.Signal())
	}
	return a.state.ExitCode()
}

// kill sends SIGKILL and waits for the process to be gone.
func (a *agentProc) kill(t *testing.T) {
	t.Helper()
	a.requireRunning(t)
	err := a.cmd.Process.Kill()
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		require.NoError(t, err)
	}
	<-a.done
}
