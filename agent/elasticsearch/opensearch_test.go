package elasticsearch

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// By default the product check (productCheck) refuses a server that does not
// say it is Elasticsearch (OpenSearch): nothing is stored, and the
// documents are kept for retries, never dropped.
func TestOpenSearchRefusedByDefault(t *testing.T) {
	f := newFaultyBulk(t)
	f.openSearch = true
	o, err := New(testConfig(f.srv.URL), nil)
	require.NoError(t, err)
	_, _, err = newSender(o).send(t.Context(), []byte(`{"create":{"_index":"x"}}`+"\n{}\n"))
	require.ErrorContains(t, err, "not Elasticsearch")
}

// compatibility: opensearch skips the product check; everything else
// (auth, create, 409, item errors, rescue) is the same.
func TestOpenSearchCompatibility(t *testing.T) {
	f := newFaultyBulk(t)
	f.openSearch = true
	f.onItem = func(call, pos int, _ bulkOp) int {
		if call == 1 && pos == 1 {
			return http.StatusTooManyRequests
		}
		return 0
	}
	cfg := testConfig(f.srv.URL + "/")
	cfg.Compatibility = "opensearch"
	cfg.Username, cfg.Password = "admin", "admin-pw"
	cfg.Headers = map[string]string{"X-Tenant": "t1"}
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 5, nil))
	acks.waitAcked(t, 0)
	requireStoredOnce(t, f, src, 5, map[int]int{1: 2})

	// A replay answers 409s, counted as delivered.
	again := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, again, 0, 0, 5, nil))
	again.waitAcked(t, 0)
	require.Equal(t, int64(5), o.Stats().DocsDuplicate)
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Equal(t, bulkPath, f.paths[0])
	require.Equal(t, "t1", f.headers[0].Get("X-Tenant"))
	require.Contains(t, f.headers[0].Get("Authorization"), "Basic ")
}
