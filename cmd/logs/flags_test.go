package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCommandLine: GNU-style flags with kubectl's short forms, help and
// the version on stdout, one-line errors, exit 2 for a bad command line.
func TestCommandLine(t *testing.T) {
	requireBinaries(t)
	env := cliEnv()

	out, stderr, code := runCLI(t, env, "--help")
	require.Equal(t, 0, code)
	require.Empty(t, stderr)
	require.Contains(t, out, "Usage:\n  logs [QUERY] [flags]")
	require.Contains(t, out, "-n, --namespace string")
	require.Contains(t, out, "Exit status: 0 done (or Ctrl-C), 1 a runtime error (one line on stderr),\n2 a bad command line.")

	out, stderr, code = runCLI(t, env, "--version")
	require.Equal(t, 0, code)
	require.Empty(t, stderr)
	require.Equal(t, "logs dev\n", out)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tial", "3"}, "logs: unknown flag: --tial (see logs --help)"},
		{[]string{"-x"}, "logs: unknown shorthand flag: 'x' in -x (see logs --help)"},
		{[]string{"--since", "2x"}, `logs: invalid argument "2x" for "--since" flag: want a duration like 30s, 15m, 2h30m, 1d or 1w (see logs --help)`},
		{[]string{"--tail", "many"}, `logs: invalid argument "many" for "--tail" flag: strconv.ParseInt: parsing "many": invalid syntax (see logs --help)`},
		{[]string{"-l", "app in (a"}, "logs: -l: unable to parse requirement: found '', expected: ',' or ')' (see logs --help)"},
		{[]string{"-c", "("}, "logs: -c: error parsing regexp: missing closing ): `(` (see logs --help)"},
		{[]string{"a", "b"}, `logs: one QUERY at most, got ["a" "b"] (see logs --help)`},
		{[]string{"deploy/"}, `logs: "deploy/": want TYPE/NAME, e.g. deploy/api (see logs --help)`},
		{[]string{"--timestamps=long"}, `logs: --timestamps="long": want default or short (see logs --help)`},
		{[]string{"--timezone", "Mars/Olympus"}, `logs: --timezone "Mars/Olympus": unknown time zone (want Local, UTC or an IANA name like Europe/Paris) (see logs --help)`},
		{[]string{"-p", "-f"}, "logs: --previous and -f: a previous container instance has ended; leave out -f (see logs --help)"},
		{[]string{"--template", "{{.Nope"}, "logs: --template: template: record:1: unclosed action (see logs --help)"},
		{[]string{"--completion", "tcsh"}, `logs: --completion "tcsh": want bash, zsh or fish (see logs --help)`},
	} {
		out, stderr, code := runCLI(t, env, append(tc.args, "--agent", "http://127.0.0.1:1", "-f")...)
		if tc.args[0] == "-p" {
			out, stderr, code = runCLI(t, env, tc.args...)
		}
		require.Equal(t, 2, code, "%v", tc.args)
		require.Empty(t, out, "%v", tc.args)
		require.Equal(t, tc.want+"\n", stderr, "%v", tc.args)
	}

	// Short flags combine as kubectl's do: -fA is -f -A.
	_, stderr, code = runCLI(t, env, "-fA", "--agent", "http://127.0.0.1:1")
	require.Equal(t, 1, code, "a runtime error")
	require.Equal(t, "logs: agent 127.0.0.1:1 unreachable: dial tcp 127.0.0.1:1: connect: connection refused\n", stderr)
}

// TestCompletionScripts: the scripts parse in their shells.
func TestCompletionScripts(t *testing.T) {
	requireBinaries(t)
	dir := t.TempDir()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, stderr, code := runCLI(t, cliEnv(), "--completion", shell)
		require.Equal(t, 0, code, shell)
		require.Empty(t, stderr, shell)
		require.Contains(t, out, "__complete", shell)
		script := filepath.Join(dir, "logs."+shell)
		require.NoError(t, os.WriteFile(script, []byte(out), 0o600))
		bin, err := exec.LookPath(shell)
		if err != nil {
			t.Logf("%s is not installed: its script is not syntax-checked", shell)
			continue
		}
		check := []string{"-n", script}
		if shell == "fish" {
			check = []string{"--no-execute", script}
		}
		msg, err := exec.Command(bin, check...).CombinedOutput()
		require.NoError(t, err, "%s -n: %s", shell, msg)
	}
}

// completions runs a __complete request, as the scripts do, and returns
// the offered words and the directive line.
func completions(t *testing.T, env []string, args ...string) ([]string, string) {
	t.Helper()
	out, stderr, code := runCLI(t, env, append([]string{"__complete"}, args...)...)
	require.Equal(t, 0, code, stderr)
	lines := splitLines(out)
	require.NotEmpty(t, lines)
	var words []string
	for _, l := range lines[:len(lines)-1] {
		words = append(words, strings.SplitN(l, "\t", 2)[0])
	}
	return words, lines[len(lines)-1]
}
