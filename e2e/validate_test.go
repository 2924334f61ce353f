package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// unsetVar is a variable no environment sets.
const unsetVar = "SLUICE_E2E_UNSET_VAR"

// validate runs `sluice -config FILE -validate` on cfg and returns its exit
// code and stderr.
func validate(t *testing.T, cfg string, env ...string) (int, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sluice.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, agenttest.Binary(t), "-config", path, "-validate")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, unsetVar+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "-validate must return at once; stderr:\n%s", stderr.String())
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		require.NoError(t, err)
	}
	t.Logf("exit %d; stderr:\n%s", cmd.ProcessState.ExitCode(), stderr.String())
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// edit replaces the one line of cfg that equals old (after indentation)
// with repl, keeping the indentation, and returns the result and the
// 1-based line number.
func edit(t *testing.T, cfg, old, repl string) (string, int) {
	t.Helper()
	lines := strings.Split(cfg, "\n")
	at := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == old {
			require.Equal(t, -1, at, "%q is on more than one line", old)
			at = i
		}
	}
	require.NotEqual(t, -1, at, "no line %q in the config", old)
	indent := lines[at][:len(lines[at])-len(strings.TrimLeft(lines[at], " "))]
	lines[at] = indent + repl
	return strings.Join(lines, "\n"), at + 1
}

// lineRef matches a mention of line n: "line 22", "line: 22", "file.yaml:22".
func lineRef(n int) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`(?i)\bline\s*:?\s*%d\b|:%d\b`, n, n))
}

func baseConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	return configYAML(t, configParams{
		DataDir:  filepath.Join(dir, "data"),
		Paths:    []string{filepath.Join(dir, "logs", "*.log")},
		StoreURL: "http://127.0.0.1:9200",
	})
}

func TestValidate_Success(t *testing.T) {
	agenttest.Binary(t)
	f := func(name, cfg string, env ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, stderr := validate(t, cfg, env...)
			require.Equal(t, 0, code, "-validate must accept this config; stderr:\n%s", stderr)
		})
	}
	base := baseConfig(t)
	f("good", base)
	cfg, _ := edit(t, base, "node_name: "+nodeName, "node_name: ${"+unsetVar+":-x}")
	f("default for an unset variable", cfg)
	cfg, _ = edit(t, base, `- http://127.0.0.1:9200`, `- ${SLUICE_E2E_URL}`)
	f("set variable", cfg, "SLUICE_E2E_URL=http://127.0.0.1:9200")
}

func TestValidate_Failure(t *testing.T) {
	agenttest.Binary(t)
	// f wants a non-zero exit and, in stderr, every string of want and a
	// mention of every line of lines.
	f := func(name, cfg string, want []string, lines []int) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, stderr := validate(t, cfg)
			require.NotEqual(t, 0, code, "-validate must reject this config")
			for _, w := range want {
				require.Contains(t, stderr, w, "stderr must name it")
			}
			for _, n := range lines {
				require.Regexp(t, lineRef(n), stderr, "stderr must name line %d", n)
			}
		})
	}
	base := baseConfig(t)

	cfg, line := edit(t, base, "max_bytes: 256KiB", "max_byte: 256KiB")
	f("unknown key", cfg, []string{"max_byte"}, []int{line})

	cfg, _ = edit(t, base, "node_name: "+nodeName, "node_name: ${"+unsetVar+"}")
	f("unset variable", cfg, []string{unsetVar}, nil)

	// Every bad value is reported at once, each with its key and line.
	cfg, l1 := edit(t, base, "start_at: head", "start_at: middle")
	cfg, l2 := edit(t, cfg, "type: elasticsearch", "type: fluentd")
	f("bad values", cfg, []string{"inputs[0].start_at", "middle", "outputs[0].type", "fluentd"}, []int{l1, l2})
}

// TestValidate_OperatorMessages: common operator mistakes, run
// through the built binary: exit 1 and, on stderr, exactly the problems,
// each as key (line N): what is wrong; what is expected.
func TestValidate_OperatorMessages(t *testing.T) {
	agenttest.Binary(t)
	f := func(name, cfg string, want ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, stderr := validate(t, cfg)
			require.Equal(t, 1, code)
			// The first problem follows the file's path on its line.
			_, got, ok := strings.Cut(stderr, ".yaml: ")
			require.True(t, ok, stderr)
			require.Equal(t, strings.Join(want, "\n")+"\n", got)
		})
	}
	base := baseConfig(t)
	cfg, l := edit(t, base, "max_bytes: 256KiB", "max_bytes: 2GiB")
	f("bulk over the output's cap", cfg, fmt.Sprintf("outputs[0].bulk.max_bytes (line %d): must be between 1Ki and 1Gi, got 2Gi", l))
	cfg, l = edit(t, base, "id_field: sluice_id", "password_file: /nonexistent/pw")
	f("missing password_file", cfg, fmt.Sprintf("outputs[0].password_file (line %d): file /nonexistent/pw does not exist", l))
	cfg, l = edit(t, base, "id_field: sluice_id", "template: { file: /nonexistent/t.json }")
	f("missing template file", cfg, fmt.Sprintf("outputs[0].template.file (line %d): file /nonexistent/t.json does not exist", l))
	cfg, l = edit(t, base, "listen: 127.0.0.1:0", "listen: 127.0.0.1:99999")
	f("port out of range", cfg, fmt.Sprintf(`http.listen (line %d): the port must be a number from 0 to 65535, got "99999"`, l))
	cfg, l = edit(t, base, "exclude: []", `exclude: ["/x/[.log"]`)
	f("bad glob", cfg, fmt.Sprintf(`inputs[0].exclude[0] (line %d): bad glob "/x/[.log": unclosed [ or a trailing \ (write [[] for a literal [)`, l))
	cfg, l = edit(t, base, "exclude: []", "udp_readers: 2")
	f("a syslog key on a container_logs input", cfg, fmt.Sprintf("inputs[0].udp_readers (line %d): not a key of a container_logs input (only for syslog)", l))
	cfg, l1 := edit(t, base, "checkpoint_interval: 100ms", "workers: two")
	cfg, l2 := edit(t, cfg, "poll_interval: 50ms", "pol_interval: 50ms")
	cfg, l3 := edit(t, cfg, "flush_interval: 200ms", "flush_interval: soon")
	cfg, l4 := edit(t, cfg, "max_bytes: 256KiB", "max_bytes: 64K")
	f("four mistakes at once", cfg,
		fmt.Sprintf(`workers (line %d): must be a whole number, got "two"`, l1),
		fmt.Sprintf("inputs[0].pol_interval (line %d): unknown key; did you mean `poll_interval`?", l2),
		fmt.Sprintf(`outputs[0].bulk.max_bytes (line %d): "64K" is ambiguous: write 64Ki for 64×1024 bytes or 64k for 64×1000`, l4),
		fmt.Sprintf(`outputs[0].bulk.flush_interval (line %d): must be a duration such as 250ms, 1s or 5m, got "soon"`, l3))
	f("two documents", base+"---\nworkers: 2\n",
		fmt.Sprintf("line %d: a second YAML document (after ---); a config file holds one, the rest would be ignored", strings.Count(base, "\n")+1))
	cfg, l = edit(t, base, `index: logs-{kubernetes.namespace_name}-%Y.%m.%d`, `index: "logs-{namespace}"`)
	f("index template", cfg, fmt.Sprintf(`outputs[0].index (line %d): unknown field {namespace} (known: kubernetes.namespace_name, kubernetes.pod_name, kubernetes.container_name, kubernetes.container_id, stream, input)`, l))
}

// TestValidate_Warnings: likely-wrong settings are reported, and
// -validate still exits 0.
func TestValidate_Warnings(t *testing.T) {
	agenttest.Binary(t)
	base := baseConfig(t)
	cfg, _ := edit(t, base, "listen: 127.0.0.1:0", "listen: 0.0.0.0:0")
	code, stderr := validate(t, cfg)
	require.Equal(t, 0, code)
	require.Contains(t, stderr, "sluice: warning: http.listen (line 6): 0.0.0.0:0 is reachable from other hosts and there is no http.token_file")
	require.Contains(t, stderr, "is valid\n")
}

// TestValidate_MemoryLimit: a memory_limit too small to run
// and a bulk.max_bytes it cannot hold are errors (exit 1) that name the
// memory_limit needed, and that memory_limit is then accepted (exit 0).
func TestValidate_MemoryLimit(t *testing.T) {
	agenttest.Binary(t)
	base, _ := edit(t, baseConfig(t), "checkpoint_interval: 100ms", "checkpoint_interval: 100ms\nworkers: 2")
	needs := regexp.MustCompile(`needs (?:memory_limit: )?(\d+Mi) or more`)
	for name, c := range map[string]struct{ old, repl, want string }{
		"too small to run": {"memory_limit: 64MiB", "memory_limit: 16Mi",
			"memory_limit (line %d): 16Mi is too small to run: with these inputs and outputs (2 workers) the agent needs "},
		"bodies it cannot hold": {"max_bytes: 256KiB", "max_bytes: 8MiB",
			"outputs[0].bulk.max_bytes (line %d): 8Mi needs memory_limit: "},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, l := edit(t, base, c.old, c.repl)
			code, stderr := validate(t, cfg)
			require.Equal(t, 1, code)
			require.Contains(t, stderr, "sluice: invalid config:\n")
			require.Contains(t, stderr, fmt.Sprintf(c.want, l))
			m := needs.FindStringSubmatch(stderr)
			require.NotNil(t, m, "names the memory_limit it needs")
			limit := "memory_limit: 64MiB"
			if c.old == limit {
				limit = c.repl
			}
			cfg, _ = edit(t, cfg, limit, "memory_limit: "+m[1])
			code, stderr = validate(t, cfg)
			require.Equal(t, 0, code, "the memory_limit named is enough: %s", stderr)
		})
	}
}

// TestValidate_CorpusStarts: -validate is the truth. Each config of a
// corpus of broken ones (and a few valid ones) goes to -validate; every
// one it accepts must then start: the agent logs "agent started" and runs.
// A config -validate accepts that the start refuses fails here.
func TestValidate_CorpusStarts(t *testing.T) {
	agenttest.Binary(t)
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	empty := file("empty", "")
	notJSON := file("t.json", "index_patterns: [x]")
	noPatterns := file("np.json", `{"template":{}}`)
	notPEM := file("ca.crt", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	kubeconfig := filepath.Join(dir, "no-kubeconfig")
	// Each entry replaces one line of the base config (edit) or appends.
	type change struct{ old, repl string }
	corpus := map[string][]change{
		"valid":                       nil,
		"valid: start_at head":        {{"poll_interval: 50ms", "poll_interval: 1s"}},
		"memory_limit too small":      {{"memory_limit: 64MiB", "memory_limit: 16Mi"}},
		"bulk too large for memory":   {{"max_bytes: 256KiB", "max_bytes: 8MiB"}},
		"valid: Kubernetes quantity":  {{"max_bytes: 256KiB", "max_bytes: 500k"}},
		"bulk over the cap":           {{"max_bytes: 256KiB", "max_bytes: 2GiB"}},
		"bulk workers":                {{"workers: 2", "workers: 100"}},
		"bulk too small":              {{"max_bytes: 256KiB", "max_bytes: 10"}},
		"password file missing":       {{"id_field: sluice_id", "password_file: /nonexistent/pw"}},
		"password file empty":         {{"id_field: sluice_id", "password_file: " + empty}},
		"api key file empty":          {{"id_field: sluice_id", "api_key_file: " + empty}},
		"template missing":            {{"id_field: sluice_id", "template: { file: /nonexistent/t.json }"}},
		"template not JSON":           {{"id_field: sluice_id", "template: { file: " + notJSON + " }"}},
		"template no index_patterns":  {{"id_field: sluice_id", "template: { file: " + noPatterns + " }"}},
		"CA not PEM":                  {{"id_field: sluice_id", "tls: { ca_file: " + notPEM + " }"}},
		"client cert not PEM":         {{"id_field: sluice_id", "tls: { cert_file: " + notPEM + ", key_file: " + notPEM + " }"}},
		"client cert without key":     {{"id_field: sluice_id", "tls: { cert_file: " + notPEM + " }"}},
		"http port out of range":      {{"listen: 127.0.0.1:0", "listen: 127.0.0.1:99999"}},
		"http listen without port":    {{"listen: 127.0.0.1:0", "listen: localhost"}},
		"token file empty":            {{"listen: 127.0.0.1:0", "listen: 127.0.0.1:0\n  token_file: " + empty}},
		"bad glob":                    {{"exclude: []", `exclude: ["/x/[.log"]`}},
		"index unknown field":         {{`index: logs-{kubernetes.namespace_name}-%Y.%m.%d`, `index: "logs-{namespace}"`}},
		"index unknown verb":          {{`index: logs-{kubernetes.namespace_name}-%Y.%m.%d`, `index: "logs-%Q"`}},
		"index empty":                 {{`index: logs-{kubernetes.namespace_name}-%Y.%m.%d`, `index: ""`}},
		"data stream placeholder":     {{"id_field: sluice_id", "data_stream: logs-{stream}"}},
		"dead letter upper case":      {{"id_field: sluice_id", "dead_letter_index: DL"}},
		"retry max below initial":     {{"max: 1s", "max: 10ms"}},
		"timeout zero":                {{"id_field: sluice_id", "timeout: 0s"}},
		"workers negative":            {{"checkpoint_interval: 100ms", "workers: -1"}},
		"kubeconfig missing":          {{"enabled: false", "enabled: true\n  kubeconfig: " + kubeconfig}},
		"regex does not compile":      {{"- type: json", "- type: regex\n    pattern: \"(?P<a>x\""}},
		"throttle rate zero":          {{"- type: json", "- type: throttle\n    rate: 0"}},
		"match of no input":           {{"- type: json", "- type: drop\n    match: { inputs: [nope] }"}},
		"labels without kubernetes":   {{"- type: json", "- type: keep\n    labels: app=api"}},
		"multiline regex":             {{"exclude: []", "multiline: { mode: regex, start: \"(\" }"}},
		"multiline flush too long":    {{"exclude: []", "multiline: { mode: java, flush_timeout: 1h }"}},
		"syslog port out of range":    {{"inputs:", "inputs:\n  - { name: s, type: syslog, tcp: \"127.0.0.1:99999\" }"}},
		"syslog tls without tcp":      {{"inputs:", "inputs:\n  - { name: s, type: syslog, udp: \"127.0.0.1:0\", tls: { cert_file: " + notPEM + ", key_file: " + notPEM + " } }"}},
		"syslog tls not PEM":          {{"inputs:", "inputs:\n  - { name: s, type: syslog, tcp: \"127.0.0.1:0\", tls: { cert_file: " + notPEM + ", key_file: " + notPEM + " } }"}},
		"syslog key on file input":    {{"exclude: []", "udp_readers: 2"}},
		"two documents":               {{"checkpoint_interval: 100ms", "checkpoint_interval: 100ms\n---\nworkers: 2"}},
		"memory_limit below 1Mi":      {{"memory_limit: 64MiB", "memory_limit: 1k"}},
		"duplicate output name":       {{"outputs:", "outputs:\n  - { name: es, type: console }"}},
		"console output with es keys": {{"outputs:", "outputs:\n  - { name: out, type: console, urls: [http://x] }"}},
	}
	for name, changes := range corpus {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := baseConfig(t)
			for _, c := range changes {
				cfg, _ = edit(t, cfg, c.old, c.repl)
			}
			code, stderr := validate(t, cfg)
			if code != 0 {
				require.Equal(t, 1, code, "-validate refuses with exit 1")
				require.Contains(t, stderr, "sluice: invalid config:\n")
				require.True(t, strings.HasPrefix(name, "valid") == false, "a valid config refused:\n%s", stderr)
				return
			}
			path := filepath.Join(t.TempDir(), "sluice.yaml")
			require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
			a := agenttest.Start(t, path, agenttest.Options{Name: name})
			require.Eventually(t, func() bool {
				return strings.Contains(a.Stderr.String(), `"agent started"`) || !a.Running()
			}, 15*time.Second, 10*time.Millisecond)
			a.RequireRunning(t)
			require.Equal(t, 0, a.Stop(t), "-validate accepted it; it must start and stop cleanly")
		})
	}
}
