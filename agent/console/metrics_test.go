package console

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
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
# HELP sluice_lost_records_total Records read that will never reach any store, by component (the input or output name) and reason: udp_overflow (pipeline full), udp_receive_buffer (dropped by the kernel: the UDP socket's receive buffer was full), shutdown (read but not handed over at stop), spool_full (dropped by a full spool with when_full: drop_newest or drop_oldest), dead_letter_rejected (the document, its rescue copy and its dead letter all refused), write_failed (a console write failed), too_large (a kafka record its topic refused as too large, with no dead-letter topic or refused there too), otlp_rejected (refused for good by an OTLP server: a partial success or a 4xx).
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
