package elasticsearch

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/corpus"
)

// The corpus's esbulk folder holds real bulk responses (README there).

func TestParseBulkResponseCorpus(t *testing.T) {
	dir := corpus.Lookup(t, "esbulk")
	type want struct {
		verdict verdict
		status  int
		errType string
	}
	var (
		ok      = want{delivered, 0, ""} // no error: status not read
		rej429  = want{retry, 429, "es_rejected_execution_exception"}
		legacy  = want{retry, 0, "EsRejectedExecutionException"}
		old503  = want{retry, 503, "EsRejectedExecutionException"}
		old429  = want{retry, 429, "EsRejectedExecutionException"}
		parse   = want{rejected, 400, "document_parsing_exception"}
		missing = want{rejected, 404, "document_missing_exception"}
		exists  = want{duplicate, 0, "DocumentAlreadyExistsException"}
	)
	f := func(file string, wants ...want) {
		t.Helper()
		body, err := os.ReadFile(filepath.Join(dir, file))
		require.NoError(t, err)
		got, err := parseBulkResponse(nil, body, len(wants))
		require.NoError(t, err, file)
		require.Len(t, got, len(wants))
		for i, w := range wants {
			require.Equal(t, w, want{got[i].verdict, got[i].status, got[i].errType}, "%s item %d", file, i)
			if w.errType != "" {
				require.NotEmpty(t, got[i].reason, "%s item %d", file, i)
			}
		}
	}
	f("fluent-bit/response_successes.json", ok, ok, ok, ok)
	f("fluent-bit/response_partially_success.json", ok, parse, parse, ok)
	f("elasticsearch-hadoop/bulk-retry-output-es090x.json", ok, legacy, ok, legacy, legacy)
	f("elasticsearch-hadoop/bulk-retry-output-es10x.json", ok, old503, ok, old503, old503)
	f("elasticsearch-hadoop/bulk-retry-output-es1x.json", ok, old429, ok, old429, old429)
	f("elasticsearch-hadoop/bulk-retry-output-es2x.json", ok, rej429, ok, rej429, rej429)
	// "errors": false next to 429 items: the flag alone is not trusted.
	f("elasticsearch-hadoop/bulk-retry-output-es5x.json", ok, rej429, ok, rej429, rej429)
	f("elasticsearch-hadoop/bulk-error.json", exists, exists, exists, exists, exists)
	// "errors": false and no error object: a delete's 404 "not_found" is
	// not a failure in ES's eyes, and we never send deletes.
	f("elasticsearch-specification/BulkResponseExample1.value.json", ok, ok, ok, ok)
	f("elasticsearch-specification/BulkResponseExample2.value.json", missing, missing, ok)
	// filter_path=items.*.error: no status, only the error.
	f("elasticsearch-specification/BulkResponseExample3.value.json",
		want{rejected, 0, "document_missing_exception"}, want{rejected, 0, "document_missing_exception"})
}

func TestParseBulkResponseReason(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(corpus.Lookup(t, "esbulk"), "fluent-bit/response_partially_success.json"))
	require.NoError(t, err)
	got, err := parseBulkResponse(nil, body, 4)
	require.NoError(t, err)
	require.Equal(t, "[1:65] failed to parse field [_id] of type [_id] in document with id 'iBELapEB_XqxG5Ydupgb'. "+
		"Preview of field's value: 'fhHraZEB_XqxG5Ydzpjv': [1:65] Field [_id] is a metadata field and cannot be added inside a document. "+
		"Use the index API request parameters.", got[1].reason)
}

func TestParseBulkResponseFailure(t *testing.T) {
	f := func(body string, n int, want string) {
		t.Helper()
		_, err := parseBulkResponse(nil, []byte(body), n)
		require.ErrorContains(t, err, want)
	}
	f(``, 1, "decode bulk response")
	f(`<html>502 Bad Gateway</html>`, 1, "decode bulk response")
	f(`{}`, 1, "bulk response has 0 items for 1 documents")
	f(`{"errors":false,"items":[{"create":{"status":201}}]}`, 2, "bulk response has 1 items for 2 documents")
	f(`{"errors":true,"items":[{"create":{"status":201}}]}`, 2, "bulk response has 1 items for 2 documents")
	f(`{"errors":false,"items":[{"create":{"status":429,"error":{"type":"es_rejected_execution_exception"}}}]}`, 3, "bulk response has 1 items for 3 documents")
	// Truncated in the middle of an item.
	f(`{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":4`, 2, "decode bulk response")
}

func TestParseBulkResponseVictoriaLogs(t *testing.T) {
	// What VictoriaLogs answers (captured from the real server).
	got, err := parseBulkResponse(nil, []byte(`{"took":7,"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]}`), 2)
	require.NoError(t, err)
	require.Equal(t, []outcome{{verdict: delivered}, {verdict: delivered}}, got)
	// It answers this when it ignored the body (a form Content-Type): no
	// item for the documents sent, so nothing counts as delivered.
	_, err = parseBulkResponse(got[:0], []byte(`{"took":0,"errors":false,"items":[]}`), 3)
	require.EqualError(t, err, "bulk response has 0 items for 3 documents")
}

func TestRequestVerdict(t *testing.T) {
	for _, st := range []int{400, 413, 422} {
		require.Equal(t, rejected, requestVerdict(st), "status %d", st)
	}
	for _, st := range []int{301, 401, 403, 404, 405, 407, 408, 429, 500, 502, 503, 504} {
		require.Equal(t, retry, requestVerdict(st), "status %d", st)
	}
}

func TestRequestError(t *testing.T) {
	oc := requestError(413, []byte(`{"error":{"type":"http_content_too_long","reason":"too long"},"status":413}`))
	require.Equal(t, outcome{verdict: rejected, status: 413, errType: "http_content_too_long", reason: "too long"}, oc)
	oc = requestError(400, []byte("cannot decode log message #3 in /_bulk request\n"))
	require.Equal(t, outcome{verdict: rejected, status: 400, reason: "cannot decode log message #3 in /_bulk request"}, oc)
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	f := func(v string, want time.Duration) {
		t.Helper()
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		require.Equal(t, want, retryAfter(h, now))
	}
	f("", 0)
	f("3", 3*time.Second)
	f(" 7 ", 7*time.Second)
	f("-1", 0)
	f("soon", 0)
	f("Wed, 25 Nov 2026 10:00:30 GMT", 30*time.Second)
	f("Wed, 25 Nov 2026 09:00:00 GMT", 0)
}
