package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// esDoc is a document as the agent ships it, with its id in sluice_id.
func esDoc(ts time.Time, ns, pod, id, line string) map[string]any {
	return map[string]any{
		"@timestamp": ts.UTC().Format("2006-01-02T15:04:05.000000000Z"),
		"stream":     "stdout", "log": line, "sluice_id": id,
		"kubernetes": map[string]any{"namespace_name": ns, "pod_name": pod, "container_name": "app", "host": "node-1"},
	}
}

// TestHistoryFromElasticsearch pages through _search with search_after:
// records of the same millisecond (Elasticsearch keeps no more) are
// ordered by id, and no page boundary loses or repeats one.
func TestHistoryFromElasticsearch(t *testing.T) {
	requireBinaries(t)
	es := newFakeElasticsearchSearch(t)
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	var want []string
	for i := range 10 {
		ms := base.Add(time.Duration(i) * time.Millisecond)
		// Three records per millisecond; ids sort c < d < e whatever the
		// nanoseconds say.
		for j, id := range []string{"e", "c", "d"} {
			es.add("logs-payments-2026.11.26", esDoc(ms.Add(time.Duration(j)), "payments", "api-1", fmt.Sprintf("%02d%s", i, id), fmt.Sprintf("line %d%s", i, id)))
		}
		for _, id := range []string{"c", "d", "e"} {
			want = append(want, fmt.Sprintf("payments/api-1 app │ line %d%s", i, id))
		}
		es.add("logs-web-2026.11.26", esDoc(ms, "web", "web-1", fmt.Sprintf("%02dw", i), "web"))
	}
	es.add("logs-payments-2026.11.25", esDoc(base.Add(-2*time.Hour), "payments", "api-1", "old", "too old"))
	es.add("other-index", esDoc(base, "payments", "api-1", "zz", "not a logs index"))

	env := cliEnv("SLUICE_ES_USERNAME=elastic", "SLUICE_ES_PASSWORD=changeme")
	out, stderr, code := runCLI(t, env, "--es", es.srv.URL, "-n", "payments", "--since", "1h", "--page-size", "4")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, want, splitLines(out))
	searches := es.searches()
	require.Len(t, searches, 8, "30 records by 4: 7 full pages and the short last one")
	require.Nil(t, searches[0]["search_after"])
	require.Equal(t, "02d", searches[2]["search_after"].([]any)[1], "the third page starts after the 8th record")

	out, stderr, code = runCLI(t, env, "--es", es.srv.URL, "--store", "elasticsearch", "-A", "web", "--grep", "^web$", "-o", "raw")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, 10, len(splitLines(out)))

	_, stderr, code = runCLI(t, cliEnv(), "--es", es.srv.URL, "-A")
	require.Equal(t, 1, code)
	require.Equal(t, "logs: elasticsearch "+es.srv.URL+": unauthorized (401): set SLUICE_ES_USERNAME/SLUICE_ES_PASSWORD or SLUICE_ES_API_KEY\n", stderr)
}
