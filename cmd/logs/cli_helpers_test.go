package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// cli is one run of the logs binary.
type cli struct {
	cmd            *exec.Cmd
	stdout, stderr *agenttest.Buffer
	done           chan struct{}
}

// cliEnv is the environment of every run: no kubeconfig or store from the
// machine running the tests.
func cliEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "SLUICE_ES") && !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, append([]string{"KUBECONFIG=/nonexistent/kubeconfig", "HOME=/nonexistent"}, extra...)...)
}

// startCLI runs logs with args; it is killed when the test ends.
func startCLI(t *testing.T, env []string, args ...string) *cli {
	t.Helper()
	c := &cli{cmd: exec.Command(logsBin, args...), stdout: &agenttest.Buffer{}, stderr: &agenttest.Buffer{}, done: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = c.stdout, c.stderr
	c.cmd.Env = env
	require.NoError(t, c.cmd.Start())
	go func() {
		_ = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		if strings.Contains(c.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("logs %v: the race detector found a data race", args)
		}
		if t.Failed() {
			t.Logf("logs %v\nstdout:\n%s\nstderr:\n%s", args, agenttest.Tail(c.stdout.String(), 8<<10), agenttest.Tail(c.stderr.String(), 8<<10))
		}
	})
	return c
}

// runCLI runs logs to its end and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	c := startCLI(t, env, args...)
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("logs %v did not end", args)
	}
	return c.stdout.String(), c.stderr.String(), c.cmd.ProcessState.ExitCode()
}

// lines is the output's lines.
func (c *cli) lines() []string { return splitLines(c.stdout.String()) }

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// waitFor waits until the output holds every one of want.
func (c *cli) waitFor(t *testing.T, want ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		got := c.lines()
		for _, w := range want {
			if !slices.Contains(got, w) {
				return false
			}
		}
		return true
	}, 30*time.Second, 20*time.Millisecond, "waiting for %q", want)
}

// interrupt sends Ctrl-C and returns the exit code.
func (c *cli) interrupt(t *testing.T) int {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGINT))
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		t.Fatal("logs did not end on Ctrl-C")
	}
	return c.cmd.ProcessState.ExitCode()
}
