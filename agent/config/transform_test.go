package config

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// TestTransformTypes: each entry is decoded into its own type's struct,
// with that type's defaults, and written back the same.
func TestTransformTypes(t *testing.T) {
	cfg, err := Parse([]byte(filterBase+`outputs: [{ name: o, type: console }]
kubernetes: { enabled: false }
transforms:
  - { type: json, target: app, time: { field: ts, layout: epoch_ms } }
  - { type: logfmt, keep_original: true }
  - { type: regex, pattern: '^(?P<n>\d+)', types: { n: int } }
  - { type: level }
  - { type: drop, field: level, pattern: debug }
  - { type: keep, namespaces: [payments] }
  - { type: throttle, rate: 5 }
  - { type: fields, add: { env: prod }, dedot: [labels] }
`), env(nil))
	require.NoError(t, err)
	ts := cfg.Transforms
	require.Equal(t, []string{"json", "logfmt", "regex", "level", "drop", "keep", "throttle", "fields"},
		[]string{ts[0].Type, ts[1].Type, ts[2].Type, ts[3].Type, ts[4].Type, ts[5].Type, ts[6].Type, ts[7].Type})
	js := ts[0].Spec.(*JSON)
	require.Equal(t, "app", js.Target)
	require.NotNil(t, js.Time.Parsed, "compiled once, by Parse")
	require.True(t, ts[1].Spec.(*Logfmt).KeepOriginal)
	re := ts[2].Spec.(*Regex)
	require.Equal(t, []string{"n"}, re.Compiled.Names())
	require.Equal(t, &Level{}, ts[3].Spec)
	require.Equal(t, &Drop{FilterOptions: FilterOptions{Name: "drop_4"}, Field: "level", Pattern: "debug"}, ts[4].Spec)
	require.Equal(t, &Keep{FilterOptions: FilterOptions{Name: "keep_5"}, Namespaces: []string{"payments"}}, ts[5].Spec)
	require.Equal(t, &Throttle{FilterOptions: FilterOptions{Name: "throttle_6"}, Rate: 5, Burst: 5, Key: "pod",
		SummaryInterval: Duration(10e9), MaxKeys: 10000}, ts[6].Spec)
	require.Equal(t, "_", ts[7].Spec.(*Fields).DedotSeparator)
	require.Nil(t, ts[0].Filter())
	require.Nil(t, ts[4].Parser())
	require.Same(t, &re.ParserOptions, ts[2].Parser())

	// Written back (agenttest renders configs so): the same entries.
	out, err := yaml.Marshal(map[string]any{"transforms": ts[4:]})
	require.NoError(t, err)
	again, err := Parse([]byte(filterBase+"outputs: [{ name: o, type: console }]\nkubernetes: { enabled: false }\n"+string(out)), env(nil))
	require.NoError(t, err)
	require.Equal(t, ts[4].Spec, again.Transforms[0].Spec)
	require.Equal(t, ts[6].Spec, again.Transforms[2].Spec)
}

// TestTransformKeysByType: a key is checked against its entry's own type;
// the messages name the types that have it and suggest from the type's
// own keys.
func TestTransformKeysByType(t *testing.T) {
	f := func(entry string, want ...string) {
		t.Helper()
		_, err := Parse([]byte(trBase+"  - "+entry+"\n"), env(nil))
		require.Error(t, err)
		for _, w := range want {
			require.Contains(t, err.Error(), w)
		}
	}
	f("{ type: throttle, rat: 3 }", "transforms[0].rat (line 5): unknown key; did you mean `rate`?")
	f("{ type: level, field: log }", "transforms[0].field (line 5): not a key of a level transform (only for json, logfmt, regex, drop, keep or throttle)")
	f("{ type: json, pattern: x }", "transforms[0].pattern (line 5): not a key of a json transform (only for regex, drop or keep)")
	f("{ type: keep, rate: 3, namespaces: [a] }", "transforms[0].rate (line 5): not a key of a keep transform (only for throttle)")
	f("{ type: fields, add: { a: b }, field: x }", "transforms[0].field (line 5): not a key of a fields transform (only for json, logfmt, regex, drop, keep or throttle)")
	f("{ type: json, targte: x }", "transforms[0].targte (line 5): unknown key; did you mean `target`?")
	f("{ type: level, zzz: 1 }", "transforms[0].zzz (line 5): unknown key (keys of a level transform: type)")
	f("{ type: drop, zzz: 1, namespaces: [a] }", "transforms[0].zzz (line 5): unknown key (keys of a drop transform: field, labels, match, name, namespaces, pattern, type)")
	f("{ type: throttle, rate: fast }", `transforms[0].rate (line 5): must be a number, got "fast"`)
	f("{ field: log }", "transforms[0].type (line 5): must be set")
}
