package vlstore

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStoreRoundTrip(t *testing.T) {
	s := Start(t)
	body := `{"create":{"_index":"logs-a","_id":"x1"}}
{"@timestamp":"2026-11-25T10:00:00.123456789Z","log":"hello world","kubernetes":{"namespace_name":"ns1","pod_name":"p1"},"n":1}
{"create":{"_index":"logs-a","_id":"x2"}}
{"@timestamp":"2026-11-25T10:00:01Z","log":"second","kubernetes":{"namespace_name":"ns1","pod_name":"p1"},"n":2}
`
	req, err := http.NewRequest(http.MethodPost, s.URL+"/_bulk", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-ndjson")
	for k, v := range Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	ctx := context.Background()
	rows, err := s.Query(ctx, `kubernetes.pod_name:p1 | sort by (n)`)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, "hello world", rows[0]["_msg"])
	require.Equal(t, "ns1", rows[0]["kubernetes.namespace_name"])
	require.Equal(t, "2026-11-25T10:00:00.123456789Z", rows[0]["_time"])
	n, err := s.Count(ctx, `*`)
	require.NoError(t, err)
	require.Equal(t, 2, n)
}
