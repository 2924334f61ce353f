package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/parsers/multiline"
)

const mlBase = "data_dir: /tmp/x\noutputs: [{ name: o, type: console }]\ninputs:\n"

func TestParseMultiline(t *testing.T) {
	cfg, err := Parse([]byte(mlBase+"  - { name: c, type: container_logs, paths: [/x/*.log], multiline: { mode: java } }\n"), env(nil))
	require.NoError(t, err)
	m := cfg.Inputs[0].Multiline
	require.Equal(t, time.Second, m.FlushTimeout.Duration(), "default")
	require.Equal(t, 500, m.MaxLines)
	require.Equal(t, ByteSize(1<<20), m.MaxBytes)
	require.Equal(t, multiline.Java, m.Rule.Mode())

	cfg, err = Parse([]byte(mlBase+`  - name: c
    type: container_logs
    paths: [/x/*.log]
    multiline:
      mode: regex
      start: '^\d{4}-'
      continue: '^\s'
      flush_timeout: 250ms
      max_lines: 50
      max_bytes: 64KiB
`), env(nil))
	require.NoError(t, err)
	m = cfg.Inputs[0].Multiline
	require.Equal(t, multiline.Regex, m.Rule.Mode())
	require.Equal(t, 250*time.Millisecond, m.FlushTimeout.Duration())
	require.Equal(t, 50, m.MaxLines)
	require.Equal(t, ByteSize(64<<10), m.MaxBytes)

	cfg, err = Parse([]byte(mlBase+"  - { name: c, type: container_logs, paths: [/x/*.log] }\n"), env(nil))
	require.NoError(t, err)
	require.Nil(t, cfg.Inputs[0].Multiline, "off unless configured")
}

func TestParseMultilineBad(t *testing.T) {
	f := func(ml string, want ...string) {
		t.Helper()
		_, err := Parse([]byte(mlBase+"  - name: c\n    type: container_logs\n    paths: [/x/*.log]\n    multiline: "+ml+"\n"), env(nil))
		require.Error(t, err)
		for _, w := range want {
			require.ErrorContains(t, err, w)
		}
	}
	f("{ mode: ruby }", `inputs[0].multiline.mode (line 7): unknown multiline mode "ruby" (want java, python, go or regex)`)
	f("{ mode: regex }", "inputs[0].multiline.mode (line 7): mode regex needs start, continue or both")
	f("{ mode: regex, start: '(' }", "inputs[0].multiline.start (line 7): start: error parsing regexp")
	f("{ mode: regex, start: 'x', continue: '[' }", "inputs[0].multiline.continue (line 7): continue: error parsing regexp")
	f("{ mode: java, start: 'x' }", "inputs[0].multiline.start (line 7): only for mode regex")
	f("{ mode: go, max_lines: -1, max_bytes: 10, flush_timeout: 1h }",
		"inputs[0].multiline.max_lines (line 7): must be at least 1", "max_bytes (line 7): must be at least 1KiB",
		"flush_timeout (line 7): must be between 1ms and close_inactive (5m0s), got 1h0m0s")
	f("{ mode: go, flush: 1s }", "inputs[0].multiline.flush (line 7): unknown key (known: continue, flush_timeout, max_bytes, max_lines, mode, start)")

	_, err := Parse([]byte(mlBase+"  - { name: s, type: syslog, tcp: 0.0.0.0:1, multiline: { mode: java } }\n"), env(nil))
	require.ErrorContains(t, err, "inputs[0].multiline (line 4): not a key of a syslog input (only for container_logs)")
}
