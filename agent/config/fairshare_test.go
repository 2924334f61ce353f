package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseFairShare(t *testing.T) {
	cfg, err := Parse([]byte(mlBase+"  - { name: c, type: container_logs, paths: [/x/*.log], fair_share: { weights: { payments: 4 } } }\n"), env(nil))
	require.NoError(t, err)
	f := cfg.Inputs[0].FairShare
	require.Equal(t, "namespace", f.By, "default")
	require.Equal(t, 1, f.DefaultWeight, "default")
	require.Equal(t, 4, f.Weights["payments"])
	require.Zero(t, f.InFlight, "sized by the runtime from the outputs")
	require.Equal(t, "wait", f.OnMaxLag, "default: nothing dropped")
	require.True(t, f.MaxLag.IsZero())

	for lag, want := range map[string]MaxLag{"64Mi": {Bytes: 64 << 20}, "5m": {Time: Duration(5 * time.Minute)}, "10MB": {Bytes: 10e6}, "1500ms": {Time: Duration(1500 * time.Millisecond)}} {
		cfg, err = Parse([]byte(mlBase+"  - { name: c, type: container_logs, paths: [/x/*.log], fair_share: { max_lag: "+lag+", on_max_lag: drop_oldest } }\n"), env(nil))
		require.NoError(t, err, lag)
		require.Equal(t, want, cfg.Inputs[0].FairShare.MaxLag, lag)
		require.Equal(t, "drop_oldest", cfg.Inputs[0].FairShare.OnMaxLag)
	}

	cfg, err = Parse([]byte(mlBase+"  - { name: c, type: container_logs, paths: [/x/*.log] }\n"), env(nil))
	require.NoError(t, err)
	require.Nil(t, cfg.Inputs[0].FairShare, "off unless asked for")
}

// -validate reports every bad value of the section at once, by key and line.
func TestParseFairShareErrors(t *testing.T) {
	_, err := Parse([]byte(mlBase+"  - name: c\n    type: container_logs\n    paths: [/x/*.log]\n"+
		"    fair_share: { by: label, default_weight: -1, weights: { a: 5000 }, in_flight: 100, on_max_lag: drop }\n"), env(nil))
	require.Error(t, err)
	for _, want := range []string{
		`inputs[0].fair_share.by (line 7): must be namespace, pod or container, got "label"`,
		"inputs[0].fair_share.default_weight (line 7): must be between 1 and 1000, got -1",
		"inputs[0].fair_share.weights.a (line 7): must be between 1 and 1000, got 5000",
		"inputs[0].fair_share.in_flight (line 7): must be at least 4KiB",
		`inputs[0].fair_share.on_max_lag (line 7): must be wait or drop_oldest, got "drop"`,
	} {
		require.ErrorContains(t, err, want)
	}
	_, err = Parse([]byte(mlBase+"  - { name: c, type: container_logs, paths: [/x/*.log], fair_share: { label_weights: [ { selector: 'app in (', weight: 2 }, { selector: tier=web, weight: 0 } ], max_records_per_second: -1 } }\n"), env(nil))
	for _, want := range []string{
		`inputs[0].fair_share.label_weights[0].selector (line 4): must be a label selector`,
		"inputs[0].fair_share.label_weights[1].weight (line 4): must be between 1 and 1000, got 0",
		"inputs[0].fair_share.max_records_per_second (line 4): must be 0 (none) or more, got -1",
	} {
		require.ErrorContains(t, err, want)
	}
	cfg, err := Parse([]byte(mlBase+"  - { name: c, type: container_logs, paths: [/x/*.log], fair_share: { by: pod, label_weights: [ { selector: 'tier in (web)', weight: 4 } ], max_bytes_per_second: 1Mi, max_records_per_second: 500 } }\n"), env(nil))
	require.NoError(t, err)
	require.Equal(t, []LabelWeight{{Selector: "tier in (web)", Weight: 4}}, cfg.Inputs[0].FairShare.LabelWeights)
	require.Equal(t, ByteSize(1<<20), cfg.Inputs[0].FairShare.MaxBytesPerSecond)
	require.Equal(t, 500, cfg.Inputs[0].FairShare.MaxRecordsPerSecond)
	_, err = Parse([]byte(mlBase+"  - { name: c, type: container_logs, paths: [/x/*.log], fair_share: { on_max_lag: drop_oldest } }\n"), env(nil))
	require.ErrorContains(t, err, "inputs[0].fair_share.on_max_lag (line 4): drop_oldest needs max_lag")
	for _, bad := range []string{"0", "-5s", "lots", "10K"} {
		_, err = Parse([]byte(mlBase+"  - { name: c, type: container_logs, paths: [/x/*.log], fair_share: { max_lag: "+bad+" } }\n"), env(nil))
		require.ErrorContains(t, err, "must be", bad)
	}
	_, err = Parse([]byte(mlBase+"  - { name: s, type: syslog, tcp: 0.0.0.0:1, fair_share: { by: pod } }\n"), env(nil))
	require.ErrorContains(t, err, "inputs[0].fair_share (line 4): not a key of a syslog input (only for container_logs)")
	_, err = Parse([]byte(mlBase+"  - { name: c, type: container_logs, paths: [/x/*.log], fair_share: { weight: 2 } }\n"), env(nil))
	require.ErrorContains(t, err, "inputs[0].fair_share.weight (line 4): unknown key")
}
