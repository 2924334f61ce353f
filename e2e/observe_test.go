package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/promtest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// authGate fakes Elasticsearch's security layer in front of the real store:
// a request without the right basic-auth password gets what Elasticsearch
// answers then (401, a WWW-Authenticate challenge and a security_exception
// body, as in the Elasticsearch reference's "Security privileges" and REST
// API error pages); any other is proxied to the store. It listens on one
// fixed address, which it can leave (the agent then sees connection
// refused) and take again.
type authGate struct {
	addr  string
	proxy *httputil.ReverseProxy

	mu       sync.Mutex
	password string
	srv      *http.Server
}

func newAuthGate(t *testing.T, store string) *authGate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there until up
	target, err := url.Parse(store)
	require.NoError(t, err)
	g := &authGate{addr: addr, proxy: httputil.NewSingleHostReverseProxy(target)}
	t.Cleanup(g.down)
	return g
}

func (g *authGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	want := g.password
	g.mu.Unlock()
	if user, pass, ok := r.BasicAuth(); !ok || user != "sluice" || pass != want {
		w.Header().Set("WWW-Authenticate", `Basic realm="security" charset="UTF-8"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"root_cause":[{"type":"security_exception","reason":"unable to authenticate user [sluice] for REST request [/_bulk]"}],"type":"security_exception","reason":"unable to authenticate user [sluice] for REST request [/_bulk]"},"status":401}`))
		return
	}
	g.proxy.ServeHTTP(w, r)
}

// up listens on the gate's address, accepting password.
func (g *authGate) up(t *testing.T, password string) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.password = password
	if g.srv != nil {
		return
	}
	ln, err := net.Listen("tcp", g.addr)
	require.NoError(t, err, "take the gate's address again")
	g.srv = &http.Server{Handler: g, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = g.srv.Serve(ln) }()
}

// down closes the listener and every connection: new dials are refused.
func (g *authGate) down() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.srv != nil {
		_ = g.srv.Close()
		g.srv = nil
	}
}

// outputHealth is the part of /api/v1/status this test reads.
type outputHealth struct {
	Outputs []struct {
		Name   string `json:"name"`
		Health struct {
			State   string `json:"state"`
			Message string `json:"message"`
			Cause   string `json:"cause"`
		} `json:"health"`
	} `json:"outputs"`
	Inputs []struct {
		LagSeconds float64 `json:"lag_seconds"`
	} `json:"inputs"`
}

func readHealth(t require.TestingT, base string) outputHealth {
	resp, err := http.Get(base + "/api/v1/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st outputHealth
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	require.Len(t, st.Outputs, 1)
	require.Len(t, st.Inputs, 1)
	return st
}

// An operator's view of an outage, on the built binary: a refused
// connection and then a 401 are two causes on /metrics and in the status
// words; the last-success time stands still during the outage and moves
// after it; the lag in seconds grows while nothing is delivered and falls
// back to ~0 after catch-up; the 401 is one ERROR line, not one per retry;
// a fixed password file and a SIGHUP recover without a restart.
func TestOutputOutageSeenOnMetricsAndStatus(t *testing.T) {
	e := newEnv(t)
	c := e.corpus
	gate := newAuthGate(t, e.store.URL)
	pwFile := filepath.Join(t.TempDir(), "password")
	require.NoError(t, os.WriteFile(pwFile, []byte("first\n"), 0o600))
	cfg, err := os.ReadFile(e.config)
	require.NoError(t, err)
	text := strings.Replace(string(cfg), "      - "+e.store.URL+"\n", "      - http://"+gate.addr+"\n", 1)
	text = strings.Replace(text, "    type: elasticsearch\n", "    type: elasticsearch\n    username: sluice\n    password_file: "+pwFile+"\n", 1)
	// A reload stops the old agent, which cannot deliver during the
	// outage: it gives up at shutdown_timeout (its lines are read again).
	text = "shutdown_timeout: 2s\n" + text
	require.NotEqual(t, string(cfg), text)
	require.NoError(t, os.WriteFile(e.config, []byte(text), 0o600))

	gate.up(t, "first")
	lf := c.addFile(t, "ops", "api-1", "api", formatCRI)
	c.appendLines(t, lf, 50)
	a := agenttest.Start(t, e.config, agenttest.Options{Name: "agent"})
	base := a.APIURL(t, 1)
	waitForCount(t, e.store, a, c.count(), deliveryTimeout)
	var before float64
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		m := promtest.Scrape(ct, base)
		before = promtest.Value(ct, m, "sluice_output_last_success_timestamp_seconds", "output", "es")
		require.Positive(ct, before)
		require.Zero(ct, promtest.Value(ct, m, "sluice_input_lag_seconds", "input", "containers"))
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, "ok", readHealth(t, base).Outputs[0].Health.State)

	// Refused: nothing listens. New lines wait; their age grows.
	gate.down()
	c.appendLines(t, lf, 50)
	var lag float64
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		m := promtest.Scrape(ct, base)
		require.GreaterOrEqual(ct, promtest.Value(ct, m, "sluice_output_request_failures_total", "output", "es", "cause", "connection_refused"), 2.0)
		lag = promtest.Value(ct, m, "sluice_input_lag_seconds", "input", "containers")
		require.Positive(ct, lag)
	}, 30*time.Second, 20*time.Millisecond)
	st := readHealth(t, base).Outputs[0].Health
	require.Equal(t, "failing", st.State)
	require.Equal(t, "connection_refused", st.Cause)
	require.Contains(t, st.Message, "connection refused")
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.Greater(ct, metricValue(ct, base, "sluice_input_lag_seconds", "input", "containers"), lag+0.5, "the lag grows while nothing is delivered")
	}, 30*time.Second, 50*time.Millisecond)

	// 401: the server is back with other credentials.
	gate.up(t, "rotated-Zq81")
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.GreaterOrEqual(ct, metricValue(ct, base, "sluice_output_request_failures_total", "output", "es", "cause", "unauthorized"), 3.0)
	}, 30*time.Second, 20*time.Millisecond)
	st = readHealth(t, base).Outputs[0].Health
	require.Equal(t, "unauthorized", st.Cause)
	require.Contains(t, st.Message, "401 Unauthorized (check username/password_file")
	m := promtest.Scrape(t, base)
	require.Equal(t, before, promtest.Value(t, m, "sluice_output_last_success_timestamp_seconds", "output", "es"), "no success during the outage")
	auth := a.LogEvents("output failing: the server refuses the credentials; retrying until they are fixed")
	require.Len(t, auth, 1, "one ERROR for the change of state, not one per retry")
	require.Equal(t, "ERROR", auth[0]["level"])
	require.NotContains(t, a.Stderr.String(), "rotated-Zq81")

	// The fix: the Secret's file changes, SIGHUP. No restart.
	require.NoError(t, os.WriteFile(pwFile, []byte("rotated-Zq81\n"), 0o600))
	a.Signal(t, syscall.SIGHUP)
	a.WaitLog(t, "config reloaded", 1)
	base = a.APIURL(t, 2)
	waitForCount(t, e.store, a, c.count(), deliveryTimeout)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		m := promtest.Scrape(ct, base)
		require.Greater(ct, promtest.Value(ct, m, "sluice_output_last_success_timestamp_seconds", "output", "es"), before, "moves again")
		require.Less(ct, promtest.Value(ct, m, "sluice_input_lag_seconds", "input", "containers"), 1.0, "caught up")
		require.GreaterOrEqual(ct, promtest.Value(ct, m, "sluice_output_request_failures_total", "output", "es", "cause", "unauthorized"), 3.0,
			"the failures before the reload are still counted")
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, "ok", readHealth(t, base).Outputs[0].Health.State)
	requireExactlyOnce(t, waitForLines(t, e.store, c, a, deliveryTimeout))
	require.Equal(t, 0, a.Stop(t))
}

// A config that does not load is one JSON log line at start, with the
// problems as a list, and the exit code 1.
func TestConfigErrorIsOneJSONLine(t *testing.T) {
	agenttest.Binary(t)
	dir := t.TempDir()
	path := writeConfig(t, dir, configParams{DataDir: dir, Paths: []string{filepath.Join(dir, "*.log")}, StoreURL: "http://127.0.0.1:9"})
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	bad := strings.Replace(string(raw), "memory_limit: 64MiB", "memory_limit: lots", 1)
	require.NoError(t, os.WriteFile(path, []byte(bad), 0o600))
	a := agenttest.Start(t, path, agenttest.Options{Name: "agent"})
	select {
	case <-a.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the agent did not exit on a bad config")
	}
	require.Equal(t, 1, a.State().ExitCode())
	lines := strings.Split(strings.TrimSpace(a.Stderr.String()), "\n")
	var ev map[string]any
	var found int
	for _, l := range lines {
		var x map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &x), "every stderr line is JSON: %q", l)
		if x["msg"] == "invalid config; not starting" {
			ev, found = x, found+1
		}
	}
	require.Equal(t, 1, found, a.Stderr.String())
	require.Equal(t, "ERROR", ev["level"])
	probs, ok := ev["problems"].([]any)
	require.True(t, ok, "problems is a list: %v", ev)
	all := strings.Join(func() []string {
		var s []string
		for _, p := range probs {
			s = append(s, p.(string))
		}
		return s
	}(), "\n")
	require.Contains(t, all, "lots")
}

// A syslog input's lag in time, on the built binary: 0 with nothing read,
// then the age of a message the store has not taken, growing while the
// store is down (connections refused), on /metrics and /api/v1/status;
// back under a second once the store is up and the message stored.
func TestSyslogLagSeenOnMetricsAndStatus(t *testing.T) {
	agenttest.Binary(t)
	s := vlstore.Start(t)
	gate := newAuthGate(t, s.URL) // down: connections refused
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	require.NoError(t, os.WriteFile(pwFile, []byte("pw-Lag7\n"), 0o600))
	addr := freeAddr(t)
	text := syslogConfig(filepath.Join(dir, "data"), addr, addr, "http://"+gate.addr)
	// Retries stay a second apart at most, so the store's return is seen
	// at once however long the outage lasted on a loaded machine.
	text = strings.Replace(text, "    type: elasticsearch\n", "    type: elasticsearch\n    username: sluice\n    password_file: "+pwFile+"\n    retry: { initial: 100ms, max: 1s }\n", 1)
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(text), 0o600))
	a := agenttest.Start(t, cfg, agenttest.Options{Name: "sluice"})
	base := a.APIURL(t, 1)
	require.Zero(t, metricValue(t, base, "sluice_input_lag_seconds", "input", "syslog"), "nothing read yet")

	sendLine(t, addr, "<13>1 - h app - - - lag probe")
	var lag float64
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		lag = metricValue(ct, base, "sluice_input_lag_seconds", "input", "syslog")
		require.Positive(ct, lag)
		require.Positive(ct, readHealth(ct, base).Inputs[0].LagSeconds)
	}, 30*time.Second, 20*time.Millisecond)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.Greater(ct, metricValue(ct, base, "sluice_input_lag_seconds", "input", "syslog"), lag+0.5, "the lag grows while nothing is delivered")
	}, 30*time.Second, 50*time.Millisecond)

	gate.up(t, "pw-Lag7")
	waitForCount(t, s, a, 1, deliveryTimeout)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.Less(ct, metricValue(ct, base, "sluice_input_lag_seconds", "input", "syslog"), 1.0, "caught up")
		require.Less(ct, readHealth(ct, base).Inputs[0].LagSeconds, 1.0)
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, 0, a.Stop(t))
}
