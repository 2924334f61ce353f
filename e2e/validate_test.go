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
	cmd := exec.CommandContext(ctx, requireAgent(t), "-config", path, "-validate")
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
	return configYAML(configParams{
		DataDir:  filepath.Join(dir, "data"),
		Paths:    []string{filepath.Join(dir, "logs", "*.log")},
		StoreURL: "http://127.0.0.1:9200",
	})
}

func TestValidate_Success(t *testing.T) {
	requireAgent(t)
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
	cfg, _ = edit(t, base, `- "http://127.0.0.1:9200"`, `- ${SLUICE_E2E_URL}`)
	f("set variable", cfg, "SLUICE_E2E_URL=http://127.0.0.1:9200")
}

func TestValidate_Failure(t *testing.T) {
	requireAgent(t)
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
	cfg, l2 := edit(t, cfg, "type: elasticsearch", "type: kafka")
	f("bad values", cfg, []string{"inputs[0].start_at", "middle", "outputs[0].type", "kafka"}, []int{l1, l2})
}
