package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestColourOnTerminalOnly runs the CLI under a pseudo-terminal (util-linux
// script) and through a pipe: on the terminal each source is coloured, the
// same colour for the same pod on every line and every run; in the pipe
// there is no escape sequence at all.
func TestColourOnTerminalOnly(t *testing.T) {
	requireBinaries(t)
	// A missing tool fails rather than skips (as in collector/syslog's
	// interop tests): `make test` installs it (syslog-tools, bsdutils).
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatal("util-linux script is not installed: run `make syslog-tools` (Debian bsdutils)")
	}
	es := newFakeElasticsearchSearch(t)
	now := time.Now().Add(-time.Minute)
	es.add("logs-a", esDoc(now, "payments", "api-1", "1", "one"),
		esDoc(now.Add(time.Millisecond), "payments", "db-0", "2", "two"),
		esDoc(now.Add(2*time.Millisecond), "payments", "api-1", "3", "three"))
	env := cliEnv("SLUICE_ES_USERNAME=elastic", "SLUICE_ES_PASSWORD=changeme")
	args := []string{"--es", es.srv.URL, "-A"}

	out, stderr, code := runCLI(t, env, args...)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "payments/api-1 app │ one\npayments/db-0 app │ two\npayments/api-1 app │ three\n", out, "no colour in a pipe")

	onTTY := func() string {
		cmd := exec.Command("script", "-qec", shellQuote(append([]string{logsBin}, args...)), "/dev/null")
		cmd.Env = env
		b, err := cmd.Output()
		require.NoError(t, err, "%s", b)
		return strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	tty := onTTY()
	re := regexp.MustCompile(`^\x1b\[(\d+)mpayments/api-1 app\x1b\[0m │ one\n\x1b\[(\d+)mpayments/db-0 app\x1b\[0m │ two\n\x1b\[(\d+)mpayments/api-1 app\x1b\[0m │ three\n$`)
	m := re.FindStringSubmatch(tty)
	require.NotNil(t, m, "coloured on a terminal: %q", tty)
	require.Equal(t, m[1], m[3], "one pod, one colour")
	require.Equal(t, tty, onTTY(), "the same colours on every run")

	// --color never turns it off on a terminal too.
	cmd := exec.Command("script", "-qec", shellQuote(append([]string{logsBin, "--color", "never"}, args...)), "/dev/null")
	cmd.Env = env
	b, err := cmd.Output()
	require.NoError(t, err)
	require.Equal(t, out, strings.ReplaceAll(string(b), "\r\n", "\n"))
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
