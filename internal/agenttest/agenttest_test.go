package agenttest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// The rendered config reads back as the same config, defaults and all.
func TestRenderRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := Config(dir)
	c.HTTP.TokenFile = filepath.Join(dir, "token with \"quotes\" and: colon")
	require.NoError(t, os.WriteFile(c.HTTP.TokenFile, []byte("secret\n"), 0o600))
	c.Inputs = []config.Input{ContainerLogs(filepath.Join(dir, "logs", "*.log"))}
	f := false
	c.Inputs[0].Watch = &f
	c.Transforms = []config.Transform{config.NewTransform(&config.JSON{Field: "log"})}
	c.Outputs = []config.Output{StoreOutput("http://127.0.0.1:9/insert/elasticsearch"), Console()}
	c.Outputs[0].Schema = "ecs" // in the inline ESConventions
	raw, err := Render(c)
	require.NoError(t, err)
	t.Logf("\n%s", raw)
	require.Contains(t, string(raw), "\nmemory_limit: 64MiB\n")
	require.Contains(t, string(raw), "\n    poll_interval: 50ms\n")
	require.Contains(t, string(raw), "\nkubernetes:\n  enabled: false\n")
	require.Contains(t, string(raw), "\n  - name: containers\n    type: container_logs\n")
	require.NotContains(t, string(raw), "shutdown_timeout", "a default is left out")

	got, err := config.Parse(raw, func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	require.Equal(t, c.NodeName, got.NodeName)
	require.Equal(t, c.DataDir, got.DataDir)
	require.Equal(t, c.MemoryLimit, got.MemoryLimit)
	require.Equal(t, c.CheckpointInterval, got.CheckpointInterval)
	require.Equal(t, c.HTTP, got.HTTP)
	require.False(t, got.Kubernetes.Enabled)
	require.Equal(t, config.Default().ShutdownTimeout, got.ShutdownTimeout)
	require.Len(t, got.Inputs, 1)
	in := got.Inputs[0]
	require.Equal(t, c.Inputs[0].Paths, in.Paths)
	require.Equal(t, "head", in.StartAt)
	require.Equal(t, c.Inputs[0].PollInterval, in.PollInterval)
	require.False(t, *in.Watch)
	require.Equal(t, c.Transforms, got.Transforms)
	require.Len(t, got.Outputs, 2)
	es := got.Outputs[0]
	require.Equal(t, c.Outputs[0].URLs, es.URLs)
	require.Equal(t, c.Outputs[0].Headers, es.Headers)
	require.Equal(t, c.Outputs[0].Bulk.MaxBytes, es.Bulk.MaxBytes)
	require.Equal(t, c.Outputs[0].Retry, es.Retry)
	require.Equal(t, "sluice_id", es.IDField)
	require.Equal(t, "ecs", es.Schema, "an inline section's keys are written")
	require.Equal(t, "console", got.Outputs[1].Type)
}

// A value the defaults set that the test clears is written, not left out.
func TestRenderClearedDefault(t *testing.T) {
	c := Config(t.TempDir())
	c.HTTP.Listen = ""
	raw, err := Render(c)
	require.NoError(t, err)
	require.Contains(t, string(raw), "\n  listen: \"\"\n")
}

// One agent's whole life through the package: ready, counted, stopped
// with exit code 0 and its log kept; a bad config exits 1.
func TestAgentLife(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	c := Config(dir)
	c.Inputs = []config.Input{ContainerLogs(filepath.Join(logs, "*.log"))}
	c.Outputs = []config.Output{Console()}
	a := Start(t, WriteConfig(t, dir, c), Options{Name: "life"})
	base := a.WaitReady(t)
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), base)

	line := time.Now().UTC().Format(time.RFC3339Nano) + " stdout F hello agenttest\n"
	require.NoError(t, os.WriteFile(filepath.Join(logs, "p_ns_c-"+strings.Repeat("a", 64)+".log"), []byte(line), 0o644))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, 1.0, a.Metric(c, "sluice_input_records_total", "input", "containers"))
	}, 30*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return a.Stdout.Count("hello agenttest") == 1 }, 30*time.Second, 10*time.Millisecond)

	require.Equal(t, 0, a.Stop(t))
	require.False(t, a.Running())
	require.NotEmpty(t, a.LogEvents("http api listening"))

	c.MemoryLimit = 1 // refused: far below what the pipeline needs
	bad := Start(t, WriteConfig(t, t.TempDir(), c), Options{Name: "bad"})
	require.Equal(t, 1, bad.Wait(t, StopTimeout))
	require.Contains(t, bad.Stderr.String(), "memory_limit")
}

// Kill ends the agent at once, as a crash would.
func TestAgentKill(t *testing.T) {
	dir := t.TempDir()
	c := Config(dir)
	c.Outputs = []config.Output{Console()}
	c.Inputs = []config.Input{ContainerLogs(filepath.Join(dir, "*.log"))}
	a := Start(t, WriteConfig(t, dir, c), Options{})
	a.WaitReady(t)
	a.Kill(t)
	ws, ok := a.State().Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.Equal(t, syscall.SIGKILL, ws.Signal())
}

// Strings that YAML would read as something else keep their quotes.
func TestRenderQuotes(t *testing.T) {
	c := Config(t.TempDir())
	c.NodeName = "true"
	c.Inputs = []config.Input{ContainerLogs("*.log")}
	c.Outputs = []config.Output{Console()}
	raw, err := Render(c)
	require.NoError(t, err)
	require.Contains(t, string(raw), `node_name: "true"`)
	require.Contains(t, string(raw), `- '*.log'`)
	got, err := config.Parse(raw, func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	require.Equal(t, "true", got.NodeName)
}

// A wait on an agent that has exited fails at once, with its stderr.
func TestWaitFailsWhenTheAgentExits(t *testing.T) {
	c := Config(t.TempDir())
	c.Outputs = []config.Output{Console()}
	c.MemoryLimit = 1 // refused at start
	a := Start(t, WriteConfig(t, t.TempDir(), c), Options{})
	ft := &fatalT{TB: t}
	start := time.Now()
	func() {
		defer func() { _ = recover() }()
		a.WaitLog(ft, "http api listening", 1)
	}()
	require.Less(t, time.Since(start), waitTimeout/2)
	require.Contains(t, ft.msg, "exited")
	require.Contains(t, ft.msg, "memory_limit")
}

// fatalT records the message of Fatalf and stops the call by panicking.
type fatalT struct {
	testing.TB
	msg string
}

func (f *fatalT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}
