package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// e2eSecret marks every secret of these tests: it must never be in what a
// binary prints (DESIGN.md, Security; internal/redact).
const e2eSecret = "e2eSECRETpw"

// hostilePassword, pasted into YAML text, would be an alias that fails
// with its own name printed; with the rest it would be cut at " #", split
// at the comma and would add a key. Expanded as a value, it is itself.
const hostilePassword = "*" + e2eSecret + " #x, \"q'\nnode_name: evil"

func requireNoSecret(t *testing.T, what, out string) {
	t.Helper()
	require.NotContains(t, out, e2eSecret, "%s carries a secret:\n%s", what, out)
}

// passwordConfig adds username and password lines (password from
// $SLUICE_E2E_PW) to the elasticsearch output of cfg.
func passwordConfig(t *testing.T, cfg string) string {
	t.Helper()
	cfg, _ = edit(t, cfg, "type: elasticsearch", "type: elasticsearch\n    username: elastic\n    password: ${SLUICE_E2E_PW}")
	return cfg
}

func TestSecrets_Validate(t *testing.T) {
	agenttest.Binary(t)
	base := baseConfig(t)
	pw := "SLUICE_E2E_PW=" + hostilePassword
	f := func(name, cfg string, wantCode int, want ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, stderr := validate(t, cfg, pw)
			require.Equal(t, wantCode, code, "stderr:\n%s", stderr)
			requireNoSecret(t, "-validate", stderr)
			for _, w := range want {
				require.Contains(t, stderr, w)
			}
		})
	}
	url := func(u string) string {
		cfg, _ := edit(t, base, `- http://127.0.0.1:9200`, `- "`+u+`"`)
		return cfg
	}
	f("bad scheme with userinfo", url("htps://elastic:"+e2eSecret+"@127.0.0.1:9200"), 1, "outputs[0].urls[0]", "http://")
	f("upper-case scheme", url("HTTPS://elastic:"+e2eSecret+"@127.0.0.1:9200"), 0)
	f("unparsable URL", url("http//elastic:"+e2eSecret+"@127.0.0.1:9200"), 1, "outputs[0].urls[0]")
	f("hostile password from the environment", passwordConfig(t, base), 0)
	cfg, _ := edit(t, passwordConfig(t, base), "memory_limit: 64MiB", "memory_limit: ${SLUICE_E2E_PW}")
	f("environment value in a bad place", cfg, 1, "line 3", "${SLUICE_E2E_PW}")
}

// echoES fakes an Elasticsearch behind a proxy that quotes the request's
// credentials in its error pages (what the agent must not log). It answers
// GET / like Elasticsearch (X-Elastic-Product, as go-elasticsearch's
// product check reads it) and every _bulk with a 502.
type echoES struct {
	mu    sync.Mutex
	auth  []string // the decoded passwords of Basic Authorization headers
	bulks int
}

func (e *echoES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pw, _ := r.BasicAuth()
	e.mu.Lock()
	e.auth = append(e.auth, pw)
	if r.URL.Path == "/_bulk" {
		e.bulks++
	}
	e.mu.Unlock()
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if r.URL.Path != "/_bulk" {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"version":{"number":"8.15.0"}}`)
		return
	}
	w.WriteHeader(http.StatusBadGateway)
	fmt.Fprintf(w, "password=%s; %s; Authorization: %s", pw, pw, r.Header.Get("Authorization"))
}

func (e *echoES) seen() (bulks int, auth []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.bulks, append([]string(nil), e.auth...)
}

// The agent sends every byte of a hostile password from the environment
// and never prints it, though the server quotes it back in its errors.
func TestSecrets_AgentLogs(t *testing.T) {
	agenttest.Binary(t)
	es := &echoES{}
	srv := httptest.NewServer(es) // 127.0.0.1
	t.Cleanup(srv.Close)
	t.Setenv("SLUICE_E2E_PW", hostilePassword)

	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(logs, "web-1_default_app-0123456789abcdef.log"),
		[]byte("2026-12-06T10:00:00.000000000Z stdout F hello\n"), 0o644))
	cfg := configYAML(t, configParams{DataDir: filepath.Join(dir, "data"), Paths: []string{filepath.Join(logs, "*.log")}, StoreURL: srv.URL})
	cfg = passwordConfig(t, cfg)
	cfg, _ = edit(t, cfg, "memory_limit: 64MiB", "memory_limit: 64MiB\nshutdown_timeout: 2s") // the server never takes them
	path := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))

	a := agenttest.Start(t, path, agenttest.Options{Name: "agent"})
	require.Eventually(t, func() bool {
		bulks, _ := es.seen()
		return bulks >= 2 && strings.Contains(a.Stderr.String(), "502")
	}, 60*time.Second, 50*time.Millisecond, "the agent must send bulks and log the refusals")
	a.Stop(t)

	_, auth := es.seen()
	for _, pw := range auth {
		require.Equal(t, hostilePassword, pw, "every byte of the password arrives as it is")
	}
	requireNoSecret(t, "the agent's stderr", a.Stderr.String())
	requireNoSecret(t, "the agent's stdout", a.Stdout.String())
}

// runLogs runs the built logs CLI and returns its exit code and stderr.
func runLogs(t *testing.T, args ...string) (int, string) {
	t.Helper()
	logsBin := agenttest.Bin(t, "./cmd/logs", raceEnabled)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, logsBin, args...)
	cmd.Env = append(os.Environ(), "SLUICE_ES_URL=", "KUBECONFIG=/nonexistent")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "logs must return; stderr:\n%s", stderr.String())
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		require.NoError(t, err)
	}
	requireNoSecret(t, "logs stdout", stdout.String())
	t.Logf("logs %q: exit %d; stderr:\n%s", args, cmd.ProcessState.ExitCode(), stderr.String())
	return cmd.ProcessState.ExitCode(), stderr.String()
}

func TestSecrets_LogsCLI(t *testing.T) {
	agenttest.Binary(t)
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	require.NoError(t, l.Close())
	// An agent that refuses, quoting the token and the URL it was asked.
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "no: %s token=%s", r.Header.Get("Authorization"), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	t.Cleanup(agent.Close)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(e2eSecret+"-tok\n"), 0o600))

	f := func(want string, args ...string) {
		t.Helper()
		code, stderr := runLogs(t, args...)
		require.NotEqual(t, 0, code)
		requireNoSecret(t, "logs stderr", stderr)
		require.Contains(t, stderr, want)
	}
	f("--agent", "-f", "--agent", "htp://u:"+e2eSecret+"@127.0.0.1:2020")
	f("htp://", "--since", "1h", "--es", "htp://u:"+e2eSecret+"@"+closed)
	f("--es", "--since", "1h", "--es", "http//u:"+e2eSecret+"@"+closed)
	f("refused", "--since", "1h", "--es", "http://u:"+e2eSecret+"@"+closed)
	f("forbidden", "-f", "--token-file", tokenFile, "--agent", strings.Replace(agent.URL, "://", "://u:"+e2eSecret+"@", 1))
}
