package config

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const filterBase = "data_dir: /tmp/x\ninputs:\n  - { name: containers, type: container_logs, paths: [/x/*.log] }\n  - { name: syslog, type: syslog, tcp: 127.0.0.1:5140 }\n"

// docs/configuration.md's example of filters and routing is a valid config.
func TestParseFiltersReadmeExample(t *testing.T) {
	raw, err := os.ReadFile("../../docs/configuration.md")
	require.NoError(t, err)
	s := string(raw)
	i := strings.Index(s, "## Filters and routing")
	require.Positive(t, i)
	s = s[i:]
	s = s[strings.Index(s, "```yaml\n")+8:]
	s = s[:strings.Index(s, "```")]
	cfg, err := Parse([]byte(filterBase+s), env(map[string]string{}))
	require.NoError(t, err)
	require.Len(t, cfg.Transforms, 7)
	require.Equal(t, "no-debug", cfg.Transforms[1].Filter().Name)
	require.Equal(t, "drop_2", cfg.Transforms[2].Filter().Name)
	th := cfg.Transforms[5].Spec.(*Throttle)
	require.Equal(t, 100.0, th.Rate)
	require.Equal(t, 200, th.Burst)
	require.Equal(t, "pod", th.Key)
	require.Equal(t, "_", cfg.Transforms[6].Spec.(*Fields).DedotSeparator)
	require.Equal(t, []string{"payments"}, cfg.Outputs[2].Match.Namespaces)
}

func TestParseFiltersDefaults(t *testing.T) {
	cfg, err := Parse([]byte(filterBase+"outputs: [{ name: o, type: console }]\ntransforms:\n  - { type: throttle, rate: 2.5 }\n"), env(nil))
	require.NoError(t, err)
	th := cfg.Transforms[0].Spec.(*Throttle)
	require.Equal(t, "throttle_0", th.Name)
	require.Equal(t, 3, th.Burst, "burst defaults to the rate, rounded up")
	require.Equal(t, "pod", th.Key)
	require.Equal(t, 10000, th.MaxKeys)
	require.Equal(t, "10s", th.SummaryInterval.Duration().String())
}

func TestParseFiltersBad(t *testing.T) {
	f := func(body string, want ...string) {
		t.Helper()
		_, err := Parse([]byte(filterBase+"kubernetes: { enabled: false }\n"+body), env(nil))
		require.Error(t, err)
		for _, w := range want {
			require.ErrorContains(t, err, w)
		}
	}
	out := "outputs: [{ name: o, type: console }]\n"
	f(out+"transforms:\n  - { type: drop, field: level }\n", "transforms[0].pattern (line 8): field and pattern go together")
	f(out+"transforms:\n  - { type: drop, field: level, pattern: '(' }\n", "transforms[0].pattern (line 8): error parsing regexp")
	f(out+"transforms:\n  - { type: drop }\n", "transforms[0].type (line 8): a drop transform without a condition or match would drop every record")
	f(out+"transforms:\n  - { type: keep, match: { inputs: [nope] } }\n",
		`transforms[0].match.inputs[0] (line 8): no input is named "nope"`, "transforms[0].type (line 8): a keep transform needs a condition")
	f(out+"transforms:\n  - { type: drop, labels: 'app in (' }\n", "transforms[0].labels (line 8): bad label selector")
	f(out+"transforms:\n  - { type: drop, labels: 'app=x' }\n", "transforms[0].labels (line 8): a label selector needs kubernetes.enabled and kubernetes.labels")
	f(out+"transforms:\n  - type: throttle\n    rate: 0\n    key: user\n", "transforms[0].rate (line 9): must be a number of records per second above 0",
		`transforms[0].key (line 10): must be pod, namespace, container or field, got "user"`)
	f(out+"transforms:\n  - { type: throttle, rate: 1, key: field }\n", "transforms[0].field (line 8): key: field needs field")
	f(out+"transforms:\n  - { type: fields }\n", "a fields transform needs add, add_env, rename, remove, redact or dedot")
	f(out+"transforms:\n  - type: fields\n    remove: [a..b]\n    redact: [{ field: log }]\n",
		`transforms[0].remove[0] (line 9): must be a dotted field path`, "transforms[0].redact[0].pattern (line 10): must be set")
	f(out+"transforms:\n  - { type: fields, add: { x: y }, rate: 3 }\n", "transforms[0].rate (line 8): not a key of a fields transform (only for throttle)")
	f(out+"transforms:\n  - { type: drop, namespaces: [a], name: n }\n  - { type: drop, namespaces: [b], name: n }\n", `transforms[1].name (line 9): duplicate transform name "n"`)
	f(out+"transforms:\n  - { type: drop, namespaces: [a], rates: 3 }\n", "transforms[0].rates (line 8): unknown key")
	f("outputs:\n  - name: o\n    type: console\n    match: { inputs: [nope], labels: 'a=b' }\n",
		`outputs[0].match.inputs[0] (line 9): no input is named "nope"`, "outputs[0].match.labels (line 9): a label selector needs kubernetes.enabled")
}
