package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/vlstore"
)

// bulkDocs posts documents to the store's _bulk endpoint.
func bulkDocs(t *testing.T, s *vlstore.Store, docs []map[string]any) {
	t.Helper()
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for _, d := range docs {
		require.NoError(t, enc.Encode(map[string]any{"create": map[string]any{"_index": "logs"}}))
		require.NoError(t, enc.Encode(d))
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/_bulk", &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-ndjson")
	for k, v := range vlstore.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// docOf is the document a correct agent ships for e.
func docOf(e *expectedLine, id string) map[string]any {
	lf := e.file
	d := map[string]any{
		"@timestamp": e.times[0].UTC().Format("2006-01-02T15:04:05.000000000Z"),
		"stream":     e.stream,
		"kubernetes": map[string]any{
			"namespace_name": lf.namespace, "pod_name": lf.pod, "container_name": lf.container,
			"container_id": lf.contID, "host": nodeName,
		},
		"sluice_id": id,
	}
	if e.kind == kindJSON {
		d["level"], d["file"], d["seq"], d["msg"] = e.level, e.key.file, e.key.seq, e.msgs[0]
		if e.status > 0 {
			d["http"] = map[string]any{"method": "GET", "status": e.status}
		}
	} else {
		d["log"] = e.msgs[0]
	}
	return d
}

// TestHarness checks the generator and the checker against the store
// without the agent: documents built from the expectations pass, and a
// lost line, a replay and a duplicate with a new id are each reported.
func TestHarness(t *testing.T) {
	s := vlstore.Start(t)
	c := newCorpus(t, filepath.Join(t.TempDir(), "logs"))
	files := []*logFile{
		c.addFile(t, "payments", "api-0", "api", formatCRI),
		c.addFile(t, "web", "web-0", "nginx", formatDocker),
	}
	for _, lf := range files {
		c.appendLines(t, lf, 400)
	}
	var docs []map[string]any
	var some *expectedLine
	for k, e := range c.lines {
		docs = append(docs, docOf(e, k.String()))
		if e.kind == kindJSON && some == nil {
			some = e
		}
	}
	bulkDocs(t, s, docs)
	rows, err := queryAll(t.Context(), s)
	require.NoError(t, err)
	requireExactlyOnce(t, c.check(rows))

	// A replay with the same id is idempotent but not exactly once; a line
	// that never arrived is missing.
	bulkDocs(t, s, []map[string]any{docOf(some, some.key.String())})
	lost := &expectedLine{key: lineKey{"f0", 99999}, file: files[0], kind: kindText, msgs: []string{"f0 seq=99999 lost"}, times: []time.Time{time.Now()}}
	c.expect(lost)
	rows, err = queryAll(t.Context(), s)
	require.NoError(t, err)
	rep := c.check(rows)
	require.Equal(t, []lineKey{lost.key}, rep.missing)
	require.Equal(t, map[lineKey]int{some.key: 2}, rep.dupes)
	require.Empty(t, rep.idProblems())
	require.Empty(t, rep.mismatches)
	require.Empty(t, rep.unexpected)

	// A duplicate with another id breaks the one-to-one map; a wrong field
	// and a foreign row are reported.
	d := docOf(some, "other-id")
	d["level"] = "bogus"
	bulkDocs(t, s, []map[string]any{d, {"@timestamp": time.Now().UTC().Format(time.RFC3339Nano), "log": "stranger"}})
	rows, err = queryAll(t.Context(), s)
	require.NoError(t, err)
	rep = c.check(rows)
	require.Len(t, rep.idProblems(), 1)
	require.Len(t, rep.unexpected, 1)
	require.Len(t, rep.mismatches, 1)
	t.Logf("report of a broken store: %v", rep)
}
