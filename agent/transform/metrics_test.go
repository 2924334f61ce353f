package transform

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// The throttle's top offenders (pods) are no labels: no series per pod.
func TestCollector(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(newCollector(func() []StepStats {
		return []StepStats{
			{Name: "no-debug", Type: "drop", Dropped: 12},
			{Name: "scrub", Type: "fields", Edited: 3},
			{Name: "pods", Type: "throttle", Dropped: 40, Keys: 2, Top: []KeyDrops{{Key: "ns/a", Dropped: 30}, {Key: "ns/b", Dropped: 10}}},
		}
	})))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sluice_transform_dropped_records_total Records dropped by a drop, keep or throttle transform (the transform's name is the reason).
# TYPE sluice_transform_dropped_records_total counter
sluice_transform_dropped_records_total{transform="no-debug",type="drop"} 12
sluice_transform_dropped_records_total{transform="pods",type="throttle"} 40
# HELP sluice_transform_edited_records_total Records changed by a fields transform.
# TYPE sluice_transform_edited_records_total counter
sluice_transform_edited_records_total{transform="scrub"} 3
# HELP sluice_throttle_keys Keys (pods, namespaces, containers or field values) a throttle transform tracks.
# TYPE sluice_throttle_keys gauge
sluice_throttle_keys{transform="pods"} 2
`)))
}

// A chain built from a config reports what its transforms did.
func TestChainCollector(t *testing.T) {
	f := newFixture(t, "  - { type: drop, name: no-debug, field: level, pattern: \"^debug$\" }\n")
	f.run(apiSource, `{"level":"debug","msg":"d1"}`, `{"level":"info","msg":"i1"}`)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(f.chain.Collector()))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sluice_transform_dropped_records_total Records dropped by a drop, keep or throttle transform (the transform's name is the reason).
# TYPE sluice_transform_dropped_records_total counter
sluice_transform_dropped_records_total{transform="no-debug",type="drop"} 1
`)))
}
