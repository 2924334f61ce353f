package console

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/metrics/series"
)

// The console's collector: what it wrote, and a failed write as a lost
// document, beside another console on one registry.
func TestCollector(t *testing.T) {
	ok, bad := New("stdout", io.Discard), New("bad", failWriter{})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(ok.Collector()))
	require.NoError(t, reg.Register(bad.Collector()))
	require.NoError(t, ok.NewWriter().Write(context.Background(), encoded(`{"a":1}`, `{"b":2}`)))
	require.Error(t, bad.NewWriter().Write(context.Background(), encoded(`{}`)))
	want := `
# HELP sluice_lost_records_total ` + series.Lost.Help + `
# TYPE sluice_lost_records_total counter
sluice_lost_records_total{component="bad",reason="write_failed"} 1
sluice_lost_records_total{component="stdout",reason="write_failed"} 0
# HELP sluice_output_bytes_total Bytes an output wrote (request bodies as sent, after compression).
# TYPE sluice_output_bytes_total counter
sluice_output_bytes_total{output="bad"} 0
sluice_output_bytes_total{output="stdout"} 16
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "sluice_lost_records_total", "sluice_output_bytes_total"))
	n, err := testutil.GatherAndCount(reg, "sluice_output_documents_total")
	require.NoError(t, err)
	require.Equal(t, 12, n, "every result of both, at 0 too")
}
