package runtime

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
)

func TestSuperviseReload(t *testing.T) {
	d := newTestDir(t)
	cfgPath := filepath.Join(d.root, "sluice.yaml")
	// The first config reads the payments namespace only.
	require.NoError(t, os.WriteFile(cfgPath, []byte(d.yaml("*_payments_*.log", "")), 0o600))
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)

	out := &lineBuffer{}
	logs := &agenttest.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	var mu sync.Mutex
	var agents []*Agent
	build := func(c *config.Config) (*Agent, error) {
		a, err := New(c, out, logger)
		if err == nil {
			mu.Lock()
			agents = append(agents, a)
			mu.Unlock()
		}
		return a, err
	}
	current := func() *Agent {
		mu.Lock()
		defer mu.Unlock()
		return agents[len(agents)-1]
	}
	reload := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Supervise(ctx, cfg, reload, func() (*config.Config, error) { return config.Load(cfgPath) }, build, logger)
	}()

	pay := d.logPath("api-0", "payments", "api")
	web := d.logPath("web-0", "web", "nginx")
	writeCRI(t, pay, numbered("pay", 0, 100)...)
	writeCRI(t, web, numbered("web", 0, 100)...)
	require.Eventually(t, func() bool { return out.count() == 100 }, 10*time.Second, time.Millisecond)
	first := current()

	// A broken config is refused; the running agent carries on.
	require.NoError(t, os.WriteFile(cfgPath, []byte(strings.Replace(d.yaml("*_payments_*.log", ""), "memory_limit: 64MiB", "memory_limit: lots", 1)), 0o600))
	reload <- struct{}{}
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "reload refused") }, 10*time.Second, time.Millisecond)
	require.Contains(t, logs.String(), `sluice.yaml: memory_limit (line 3): must be a size such as 512Ki, 256Mi, 1Gi or 500M, got \"lots\"`)
	writeCRI(t, pay, numbered("pay", 100, 100)...)
	require.Eventually(t, func() bool { return out.count() == 200 }, 10*time.Second, time.Millisecond)
	require.Same(t, first, current(), "no new agent was built")
	// Ready is set just after the inputs start, so lines can be out before
	// it on a loaded machine: wait for it rather than assume it.
	require.Eventually(t, func() bool { return first.readiness() == nil }, 10*time.Second, time.Millisecond, "the old agent still runs")

	// A good config takes effect: the web file is read now, and the
	// payments file resumes from its checkpoint (no line twice).
	require.NoError(t, os.WriteFile(cfgPath, []byte(d.yaml("*.log", "")), 0o600))
	reload <- struct{}{}
	require.Eventually(t, func() bool { return out.count() == 300 }, 10*time.Second, time.Millisecond)
	require.NotSame(t, first, current())
	require.Contains(t, logs.String(), "config reloaded")
	writeCRI(t, pay, numbered("pay", 200, 10)...)
	require.Eventually(t, func() bool { return out.count() == 310 }, 10*time.Second, time.Millisecond)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("Supervise did not return")
	}
	// Stopped, the agent has written all it ever will: a line read twice
	// would be here.
	require.Equal(t, 310, out.count(), "nothing read twice")
	for _, want := range []string{`"log":"pay 0"`, `"log":"pay 209"`, `"log":"web 0"`, `"log":"web 99"`} {
		require.Equal(t, 1, strings.Count(out.String(), want+","), want)
	}
}

func TestSuperviseFallsBackWhenNewConfigCannotStart(t *testing.T) {
	d := newTestDir(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	good := parseConfig(t, d.yaml("*.log", ""))
	bad := parseConfig(t, strings.Replace(d.yaml("*.log", ""), `"127.0.0.1:0"`, `"`+busy.Addr().String()+`"`, 1))
	out := &lineBuffer{}
	logs := &agenttest.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	reload := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Supervise(ctx, good, reload, func() (*config.Config, error) { return bad, nil },
			func(c *config.Config) (*Agent, error) { return New(c, out, logger) }, logger)
	}()
	reload <- struct{}{}
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "starting the old one again") }, 10*time.Second, time.Millisecond)
	p := d.logPath("api-0", "payments", "api")
	writeCRI(t, p, "after the failed reload")
	require.Eventually(t, func() bool { return out.count() == 1 }, 10*time.Second, time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}
