package elasticsearch

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// TestVictoriaLogs ships batches from two pods into a real VictoriaLogs
// and reads them back: every document arrives once, with its fields and
// its id in id_field.
func TestVictoriaLogs(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run("compress="+strconv.FormatBool(compress), func(t *testing.T) {
			s := vlstore.Start(t)
			cfg := testConfig(s.URL)
			cfg.Headers = vlstore.Headers
			cfg.IDField = "sluice_id"
			cfg.Bulk.Compress = compress
			cfg.Bulk.MaxBytes = 8 << 10 // several requests in flight
			o := startOutput(t, cfg)

			srcs := []*record.Source{testSource("api-1"), testSource("api-2")}
			acks := newAckRecorder()
			const perBatch, batches = 25, 4
			w := o.NewWriter()
			var all []*record.Batch
			for i := range batches {
				src := srcs[i%2]
				all = append(all, newTestBatch(src, acks, uint64(i), i*perBatch, perBatch, nil))
			}
			write(t, w, all...)
			acks.waitAcked(t, 0, 1, 2, 3)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rows, err := s.Query(ctx, "*")
			require.NoError(t, err)
			require.Len(t, rows, perBatch*batches)
			byN := map[int]map[string]string{}
			for _, row := range rows {
				n, err := strconv.Atoi(row["n"])
				require.NoError(t, err, "row %v", row)
				require.NotContains(t, byN, n, "document %d stored twice", n)
				byN[n] = row
			}
			for n := range perBatch * batches {
				src := srcs[(n/perBatch)%2]
				row := byN[n]
				require.NotNil(t, row, "document %d missing", n)
				require.Equal(t, "line "+strconv.Itoa(n), row["_msg"])
				require.Equal(t, "stdout", row["stream"])
				require.Equal(t, "payments", row["kubernetes.namespace_name"])
				require.Equal(t, src.Pod, row["kubernetes.pod_name"])
				require.Equal(t, baseTime.Add(time.Duration(n)*time.Millisecond).Format(time.RFC3339Nano), row["_time"])
				require.Equal(t, idOf(src, n), row["sluice_id"])
			}
			st := o.Stats()
			require.Equal(t, int64(perBatch*batches), st.DocsSent)
			require.Zero(t, st.DocsFailed+st.RequestRetries+st.ItemRetries)
			require.Greater(t, st.Requests, int64(1))
		})
	}
}

// TestVictoriaLogsBadDocument sends a document VictoriaLogs cannot parse in
// the middle of a request: the output splits the request down to it,
// stores a rescue copy of it (the line in log, the error in sluice.error),
// acks the batch, and every other document is stored.
// VictoriaLogs ignores _id, so the documents it stored before failing a
// request are stored again by the halves: at least once, not exactly once.
func TestVictoriaLogsBadDocument(t *testing.T) {
	s := vlstore.Start(t)
	cfg := testConfig(s.URL)
	cfg.Headers = vlstore.Headers
	cfg.IDField = "sluice_id"
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	doc := func(n int) string {
		if n == 6 {
			return `{"log":"broken",` // not JSON
		}
		return testDoc(src, n)
	}
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 10, doc))
	acks.waitAcked(t, 0)
	st := o.Stats()
	require.Equal(t, int64(1), st.DocsRescued)
	require.Zero(t, st.DocsFailed)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := s.Query(ctx, "*")
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, row := range rows {
		seen[row["sluice_id"]] = true
		if row["sluice_id"] == idOf(src, 6) {
			require.Equal(t, "line 6", row["_msg"], "VL-Msg-Field: log")
			require.Contains(t, row["sluice.error"], "cannot decode log message #0")
			require.Equal(t, "payments", row["kubernetes.namespace_name"])
		}
	}
	for n := range 10 {
		require.True(t, seen[idOf(src, n)], "document %d stored", n)
	}
}
