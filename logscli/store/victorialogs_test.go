package store

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/vlstore"
	"github.com/sluicelog/sluice/logscli/entry"
)

func bulk(t *testing.T, s *vlstore.Store, docs []string) {
	t.Helper()
	var b strings.Builder
	for _, d := range docs {
		b.WriteString(`{"create":{"_index":"logs"}}` + "\n" + d + "\n")
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/_bulk", strings.NewReader(b.String()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-ndjson")
	for k, v := range vlstore.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, s.Flush(context.Background()))
}

// TestVictoriaLogsPagesThroughTies: more records of one nanosecond than a
// page holds are each returned once, and the rows come back as the
// documents the agent shipped.
func TestVictoriaLogsPagesThroughTies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs VictoriaLogs")
	}
	s := vlstore.Start(t)
	ts := "2026-11-25T10:00:00.123456789Z"
	var docs []string
	for i := range 10 {
		docs = append(docs, fmt.Sprintf(`{"@timestamp":%q,"log":"tie %d","sluice_id":"id%02d","kubernetes":{"namespace_name":"ns","pod_name":"p","container_name":"c"}}`, ts, i, 9-i))
	}
	docs = append(docs, `{"@timestamp":"2026-11-25T10:00:01Z","level":"info","n":5,"sluice_id":"zz","kubernetes":{"namespace_name":"ns","pod_name":"p","container_name":"c"}}`)
	bulk(t, s, docs)
	require.Eventually(t, func() bool { n, _ := s.Count(context.Background(), "*"); return n == 11 }, 10*time.Second, 50*time.Millisecond)

	st, err := New(context.Background(), Options{URL: s.URL, Kind: "auto"})
	require.NoError(t, err)
	require.IsType(t, &VictoriaLogs{}, st, "detected")
	f := &entry.Filter{Namespace: "ns"}
	require.NoError(t, f.Compile())
	var got []string
	err = st.Search(context.Background(), Query{Filter: f, PageSize: 3}, func(e *entry.Entry) error {
		got = append(got, e.Line("sluice_id"))
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{
		"tie 9", "tie 8", "tie 7", "tie 6", "tie 5", "tie 4", "tie 3", "tie 2", "tie 1", "tie 0", // by id at one time
		`{"level":"info","n":"5"}`, // VictoriaLogs keeps strings only
	}, got)

	// The document: nested again, @timestamp as the agent writes it.
	var first *entry.Entry
	_ = st.Search(context.Background(), Query{Filter: f, PageSize: 1}, func(e *entry.Entry) error {
		if first == nil {
			first = e
		}
		return nil
	})
	require.JSONEq(t, `{"@timestamp":"2026-11-25T10:00:00.123456789Z","log":"tie 9","sluice_id":"id00","kubernetes":{"namespace_name":"ns","pod_name":"p","container_name":"c"}}`, string(first.Raw))
}
