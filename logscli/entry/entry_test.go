package entry

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKeySameRecordEveryWay: the tap's document and the one a store gives
// back (other member order, zeros trimmed from the time, the id added,
// numbers as strings) have one key; another line, time or pod has another.
func TestKeySameRecordEveryWay(t *testing.T) {
	tapped, err := Parse([]byte(`{"@timestamp":"2026-11-25T10:00:00.120000000Z","stream":"stdout","log":"hi","kubernetes":{"namespace_name":"a","pod_name":"p","container_name":"c","host":"n"}}`))
	require.NoError(t, err)
	stored, err := Parse([]byte(`{"sluice_id":"x","kubernetes":{"container_name":"c","pod_name":"p","namespace_name":"a"},"log":"hi","stream":"stdout","@timestamp":"2026-11-25T10:00:00.12Z"}`))
	require.NoError(t, err)
	require.Equal(t, tapped.Key(), stored.Key())
	for _, other := range []string{
		`{"@timestamp":"2026-11-25T10:00:00.120000001Z","stream":"stdout","log":"hi","kubernetes":{"namespace_name":"a","pod_name":"p","container_name":"c"}}`,
		`{"@timestamp":"2026-11-25T10:00:00.12Z","stream":"stdout","log":"hi!","kubernetes":{"namespace_name":"a","pod_name":"p","container_name":"c"}}`,
		`{"@timestamp":"2026-11-25T10:00:00.12Z","stream":"stdout","log":"hi","kubernetes":{"namespace_name":"a","pod_name":"q","container_name":"c"}}`,
		`{"@timestamp":"2026-11-25T10:00:00.12Z","stream":"stderr","log":"hi","kubernetes":{"namespace_name":"a","pod_name":"p","container_name":"c"}}`,
	} {
		e, err := Parse([]byte(other))
		require.NoError(t, err)
		require.NotEqual(t, tapped.Key(), e.Key(), other)
	}
}

func TestLineAndFilter(t *testing.T) {
	merged, err := Parse([]byte(`{"@timestamp":"2026-11-25T10:00:00Z","stream":"stdout","level":"error","msg":"boom","sluice_id":"x","kubernetes":{"namespace_name":"a","pod_name":"api-1","container_name":"c","labels":{"app":"api"}}}`))
	require.NoError(t, err)
	require.Equal(t, `{"level":"error","msg":"boom"}`, merged.Line("sluice_id"))
	sys, err := Parse([]byte(`{"@timestamp":"2026-11-25T10:00:00Z","log":"su: failed","syslog":{"hostname":"h","app_name":"su"},"source_ip":"10.0.0.1"}`))
	require.NoError(t, err)

	for _, tc := range []struct {
		f          Filter
		merged, sy bool
	}{
		{Filter{}, true, true},
		{Filter{Namespace: "a"}, true, false},
		{Filter{Pod: "^api-"}, true, false},
		{Filter{Grep: `"level":"error"`}, true, false},
		{Filter{Grep: "failed"}, false, true},
		{Filter{Input: "syslog"}, false, true},
		{Filter{Input: "containers"}, true, false},
		{Filter{Labels: "app=api"}, true, false},
		{Filter{Labels: "app!=api"}, false, true},
		{Filter{Container: "d"}, false, false},
	} {
		require.NoError(t, tc.f.Compile())
		require.Equal(t, tc.merged, tc.f.Match(merged, "sluice_id"), "%+v", tc.f)
		require.Equal(t, tc.sy, tc.f.Match(sys, "sluice_id"), "%+v", tc.f)
	}
}
