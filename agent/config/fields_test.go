package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const trBase = "data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs: [{ name: o, type: console }]\ntransforms:\n"

func TestParseTransformTimeAndLevel(t *testing.T) {
	cfg, err := Parse([]byte(trBase+`  - type: regex
    preset: nginx
    time: { field: time, layout: "%d/%b/%Y:%H:%M:%S %z" }
    normalize_level: true
  - { type: json, time: { field: ts, layout: epoch_ms } }
  - { type: level }
`), env(nil))
	require.NoError(t, err)
	tr := cfg.Transforms
	re := tr[0].Spec.(*Regex)
	require.Equal(t, "time", re.Time.Field)
	require.NotNil(t, re.Time.Parsed)
	require.True(t, re.NormalizeLevel)
	require.Equal(t, "epoch_ms", tr[1].Spec.(*JSON).Time.Parsed.String())
	require.Equal(t, "level", tr[2].Type)
	require.Equal(t, &Level{}, tr[2].Spec)
}

func TestParseTransformTimeBad(t *testing.T) {
	f := func(tr string, want string) {
		t.Helper()
		_, err := Parse([]byte(trBase+tr), env(nil))
		require.ErrorContains(t, err, want)
	}
	f("  - { type: json, time: { field: ts, layout: '%Q' } }\n", "transforms[0].time.layout (line 5): time layout \"%Q\": %Q is not supported")
	f("  - { type: json, time: { layout: rfc3339 } }\n", "transforms[0].time.field (line 5): must name the parsed field")
	f("  - { type: json, time: { field: ts } }\n", "transforms[0].time.layout (line 5): empty time layout")
	f("  - { type: level, target: x }\n", "transforms[0].target (line 5): not a key of a level transform (only for json, logfmt or regex)")
	f("  - { type: json, time: { field: ts, layout: rfc3339, zone: UTC } }\n", "transforms[0].time.zone (line 5): unknown key (known: field, layout)")
	f("  - { type: xml }\n", "want json, logfmt, regex or level")
}
