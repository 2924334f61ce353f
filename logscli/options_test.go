package logscli

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseArgs(t *testing.T) {
	env := func(k string) string {
		if k == "SLUICE_ES_URL" {
			return "http://es:9200"
		}
		return ""
	}
	o, err := ParseArgs([]string{"-n", "payments", "^api-", "-f", "--since", "15m", "--agent", "http://a:2020", "--agent=http://b:2020", "-o", "json"}, env)
	require.NoError(t, err)
	require.Equal(t, "^api-", o.PodRegex, "POD-REGEX between flags")
	require.Equal(t, "payments", o.Namespace)
	require.True(t, o.Follow)
	require.Equal(t, 15*time.Minute, o.Since)
	require.Equal(t, []string{"http://a:2020", "http://b:2020"}, o.Agents)
	require.Equal(t, "http://es:9200", o.ES)
	require.True(t, o.wantsHistory())

	o, err = ParseArgs([]string{"-f"}, env)
	require.NoError(t, err)
	require.False(t, o.wantsHistory(), "-f alone is live only")

	o, err = ParseArgs([]string{"--from", "2026-11-25 10:00:00", "--to", "2026-11-25T11:00:00Z"}, env)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 11, 25, 10, 0, 0, 0, time.Local), o.From)
	require.Equal(t, o.From, o.historyFrom(time.Now()))

	for args, msg := range map[string][]string{
		"one QUERY at most":          {"a", "b"},
		"-n and -A":                  {"-n", "x", "-A"},
		"want text, json or raw":     {"-o", "yaml"},
		"a live tail has no end":     {"-f", "--to", "2026-11-25"},
		"--since and --from":         {"--since", "1m", "--from", "2026-11-25"},
		"--from must be before --to": {"--from", "2026-11-25T10:00:00Z", "--to", "2026-11-25T09:00:00Z"},
	} {
		_, err := ParseArgs(msg, env)
		require.ErrorContains(t, err, args)
	}
}

func TestSeamCounts(t *testing.T) {
	s := newSeam(false)
	e := mustEntry(t, `{"@timestamp":"2026-11-25T10:00:00Z","log":"same"}`)
	s.add(e)
	s.add(e)
	require.True(t, s.seen(e))
	require.True(t, s.seen(e))
	require.False(t, s.seen(e), "history had it twice: the third live copy is new")
}
