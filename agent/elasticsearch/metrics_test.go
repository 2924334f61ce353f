package elasticsearch

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/metrics/series"
)

// The output's own collector: every series under its name, two outputs
// side by side on one registry, and the request durations it observes.
func TestCollector(t *testing.T) {
	newOut := func(name string) *Output {
		cfg := testConfig("http://127.0.0.1:9")
		cfg.Name = name
		o, err := New(cfg, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		return o
	}
	es, idle := newOut("es"), newOut("idle")
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(es.Collector()))
	require.NoError(t, reg.Register(idle.Collector()))

	s := &es.stats
	s.docsSent.Store(8)
	s.docsDuplicate.Store(1)
	s.docsFailed.Store(1)
	s.docsRescued.Store(4)
	s.docsDeadLettered.Store(5)
	s.docsFailureStore.Store(6)
	s.labelsDropped.Store(7)
	s.itemRetries.Store(2)
	s.requestRetries.Store(3)
	s.bytes.Store(9000)
	s.flights.Store(2)
	es.health.requests[CauseConnectionRefused].Store(3)
	es.health.docs[DocRejected].Store(5)
	es.health.docs[DocDeadLetterRejected].Store(1)
	es.health.lastSuccess.Store(time.Unix(1795669535, 0).UnixNano())
	es.health.pendingDocs.Store(40)
	es.requestTimes.Observe(0.02)
	es.requestTimes.Observe(3)

	want := `
# HELP sluice_lost_records_total ` + series.Lost.Help + `
# TYPE sluice_lost_records_total counter
sluice_lost_records_total{component="es",reason="dead_letter_rejected"} 1
sluice_lost_records_total{component="idle",reason="dead_letter_rejected"} 0
# HELP sluice_output_last_success_timestamp_seconds When a request to the output was last answered with success (Unix seconds); 0 before the first since the process started. Stops moving while the output fails.
# TYPE sluice_output_last_success_timestamp_seconds gauge
sluice_output_last_success_timestamp_seconds{output="es"} 1.795669535e+09
sluice_output_last_success_timestamp_seconds{output="idle"} 0
# HELP sluice_output_pending_documents Documents in requests an output is sending or will send again after a backoff.
# TYPE sluice_output_pending_documents gauge
sluice_output_pending_documents{output="es"} 40
sluice_output_pending_documents{output="idle"} 0
# HELP sluice_output_documents_total Documents an output finished with, by result: sent, duplicate (409 on create: stored by an earlier try), rescued (refused, stored without merged fields), dead_lettered (rescue refused too, stored in the dead-letter index), failed (lost: even the dead letter was refused), failure_store (kept in the data stream's failure store: stored, not searchable as logs).
# TYPE sluice_output_documents_total counter
sluice_output_documents_total{output="es",result="dead_lettered"} 5
sluice_output_documents_total{output="es",result="duplicate"} 1
sluice_output_documents_total{output="es",result="failed"} 1
sluice_output_documents_total{output="es",result="failure_store"} 6
sluice_output_documents_total{output="es",result="rescued"} 4
sluice_output_documents_total{output="es",result="sent"} 8
sluice_output_documents_total{output="idle",result="dead_lettered"} 0
sluice_output_documents_total{output="idle",result="duplicate"} 0
sluice_output_documents_total{output="idle",result="failed"} 0
sluice_output_documents_total{output="idle",result="failure_store"} 0
sluice_output_documents_total{output="idle",result="rescued"} 0
sluice_output_documents_total{output="idle",result="sent"} 0
# HELP sluice_output_labels_dropped_total Labels, namespace labels and annotations left out of documents by max_labels, summed over documents.
# TYPE sluice_output_labels_dropped_total counter
sluice_output_labels_dropped_total{output="es"} 7
sluice_output_labels_dropped_total{output="idle"} 0
# HELP sluice_output_retries_total Documents (kind=item) and whole requests (kind=request) sent again.
# TYPE sluice_output_retries_total counter
sluice_output_retries_total{kind="item",output="es"} 2
sluice_output_retries_total{kind="request",output="es"} 3
sluice_output_retries_total{kind="item",output="idle"} 0
sluice_output_retries_total{kind="request",output="idle"} 0
# HELP sluice_output_bytes_total Bytes an output wrote (request bodies as sent, after compression).
# TYPE sluice_output_bytes_total counter
sluice_output_bytes_total{output="es"} 9000
sluice_output_bytes_total{output="idle"} 0
# HELP sluice_output_inflight_requests Requests an output is sending now.
# TYPE sluice_output_inflight_requests gauge
sluice_output_inflight_requests{output="es"} 2
sluice_output_inflight_requests{output="idle"} 0
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"sluice_lost_records_total", "sluice_output_last_success_timestamp_seconds", "sluice_output_pending_documents",
		"sluice_output_documents_total", "sluice_output_labels_dropped_total", "sluice_output_retries_total",
		"sluice_output_bytes_total", "sluice_output_inflight_requests"))

	mfs, err := reg.Gather()
	require.NoError(t, err)
	byCause := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "sluice_output_request_failures_total":
				if labels["output"] == "es" {
					byCause[labels["cause"]] = m.GetCounter().GetValue()
				}
			case "sluice_output_document_failures_total":
				if labels["output"] == "es" {
					byCause["doc_"+labels["cause"]] = m.GetCounter().GetValue()
				}
			case "sluice_output_request_duration_seconds":
				want := map[string]uint64{"es": 2, "idle": 0}[labels["output"]]
				require.Equal(t, want, m.GetHistogram().GetSampleCount(), labels["output"])
			}
		}
	}
	require.Len(t, byCause, len(Causes())+len(DocCauses()), "every cause, at 0 too")
	require.Equal(t, 3.0, byCause["connection_refused"])
	require.Zero(t, byCause["unauthorized"])
	require.Equal(t, 5.0, byCause["doc_rejected"])
	require.Equal(t, 1.0, byCause["doc_dead_letter_rejected"])
}
