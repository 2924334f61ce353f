// Package agenttest runs the sluice agent binary in tests, the one way
// every package does it: build or locate the binary (build.go), write its
// config from a config.Config (config.go), start it, wait for /readyz, read
// /metrics, stop it by signal and check its exit, and keep its logs in a
// locked Buffer that the test reads while the agent writes.
//
// A started agent is killed when its test ends; its stderr goes to the
// test log when the test failed (or always, with SLUICE_TEST_VERBOSE set),
// and a data race reported by a -race build fails the test.
package agenttest

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// StopTimeout bounds a graceful stop: flush, acks, checkpoints.
const StopTimeout = 30 * time.Second

// Options shape one agent process; the zero value runs Binary(t) with
// stdout and stderr collected.
type Options struct {
	Name string   // in messages; default "agent"
	Bin  string   // default Binary(t)
	Args []string // after -config FILE
	Env  []string // added to the test's environment
	// Wrap runs the agent under a command, e.g. prlimit --nofile=128.
	Wrap []string
	// Stdout receives the console output instead of the Stdout buffer.
	Stdout io.Writer
}

// Agent is one running sluice process.
type Agent struct {
	Name   string
	Stderr *Buffer // the agent's log
	Stdout *Buffer // its console output, unless Options.Stdout was set
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	state  *os.ProcessState
}

// Start runs `sluice -config cfg`. The process is killed when the test
// ends if it still runs.
func Start(t testing.TB, cfg string, o Options) *Agent {
	t.Helper()
	if o.Bin == "" {
		o.Bin = Binary(t)
	}
	if o.Name == "" {
		o.Name = "agent"
	}
	args := append(append(append([]string{}, o.Wrap...), o.Bin, "-config", cfg), o.Args...)
	a := &Agent{
		Name:   o.Name,
		Stderr: &Buffer{},
		Stdout: &Buffer{},
		cmd:    exec.Command(args[0], args[1:]...),
		done:   make(chan struct{}),
	}
	a.cmd.Stderr, a.cmd.Stdout = a.Stderr, a.Stdout
	if o.Stdout != nil {
		a.cmd.Stdout = o.Stdout
	}
	// A race report does not end the agent: the test sees it in stderr.
	a.cmd.Env = append(append(os.Environ(), "GORACE=halt_on_error=0 exitcode=66"), o.Env...)
	require.NoError(t, a.cmd.Start(), "start %s", a.Name)
	go func() {
		_ = a.cmd.Wait() // the exit status is read from ProcessState
		a.state = a.cmd.ProcessState
		close(a.done)
	}()
	t.Cleanup(func() { a.cleanup(t) })
	return a
}

func (a *Agent) cleanup(t testing.TB) {
	if a.Running() {
		_ = a.cmd.Process.Kill()
		<-a.done
	}
	logs := a.Stderr.String()
	if strings.Contains(logs, "WARNING: DATA RACE") {
		t.Errorf("%s: the race detector found a data race in the agent", a.Name)
	}
	if t.Failed() || os.Getenv("SLUICE_TEST_VERBOSE") != "" || os.Getenv("SLUICE_E2E_VERBOSE") != "" {
		t.Logf("%s exited with %v; stderr (last 64 KiB):\n%s", a.Name, a.state, Tail(logs, 64<<10))
		if out := a.Stdout.String(); out != "" {
			t.Logf("%s stdout (last 8 KiB):\n%s", a.Name, Tail(out, 8<<10))
		}
	}
}

// Pid is the process id, for /proc.
func (a *Agent) Pid() int { return a.cmd.Process.Pid }

// Done is closed when the process has exited.
func (a *Agent) Done() <-chan struct{} { return a.done }

// State is how the process ended; nil while it runs.
func (a *Agent) State() *os.ProcessState {
	select {
	case <-a.done:
		return a.state
	default:
		return nil
	}
}

// Running reports whether the process has not exited.
func (a *Agent) Running() bool { return a.State() == nil }

// RequireRunning fails the test if the agent has exited.
func (a *Agent) RequireRunning(t testing.TB) {
	t.Helper()
	if !a.Running() {
		t.Fatalf("%s exited unexpectedly: %v\nstderr:\n%s", a.Name, a.state, Tail(a.Stderr.String(), 16<<10))
	}
}

// Signal sends sig to the running agent.
func (a *Agent) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	a.RequireRunning(t)
	require.NoError(t, a.cmd.Process.Signal(sig), "%s: signal %v", a.Name, sig)
}

// Wait waits up to timeout for the process to exit and returns its exit
// code; it fails the test if the agent is still running then, or died of
// a signal.
func (a *Agent) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-a.done:
	case <-time.After(timeout):
		_ = a.cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump into stderr
		select {
		case <-a.done:
		case <-time.After(5 * time.Second):
			_ = a.cmd.Process.Kill()
			<-a.done
		}
		t.Fatalf("%s did not exit within %v", a.Name, timeout)
	}
	if ws, ok := a.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("%s died of signal %v instead of exiting", a.Name, ws.Signal())
	}
	return a.state.ExitCode()
}

// Stop sends SIGTERM and waits up to StopTimeout for a graceful exit; it
// returns the exit code.
func (a *Agent) Stop(t testing.TB) int {
	t.Helper()
	a.Signal(t, syscall.SIGTERM)
	return a.Wait(t, StopTimeout)
}

// Kill sends SIGKILL and waits for the process to be gone.
func (a *Agent) Kill(t testing.TB) {
	t.Helper()
	a.RequireRunning(t)
	err := a.cmd.Process.Kill()
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		require.NoError(t, err)
	}
	<-a.done
}

// Tail is the last n bytes of s, from a line start.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "[...]\n" + s
}
