package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// row is one document as the store returns it: nested fields flattened,
// log as _msg, @timestamp as _time.
type row = map[string]string

var (
	// textMarker finds the marker of a plain line, or of a raw line whose
	// framing was broken.
	textMarker = regexp.MustCompile(`\b(f\d+) seq=(\d+)\b`)
	// jsonMarker finds the marker of a JSON line kept as text.
	jsonMarker = regexp.MustCompile(`"file":"(f\d+)","seq":(\d+)`)
)

// rowKey rebuilds the marker of a row: from the merged file/seq fields of a
// JSON line, or from the text of its log.
func rowKey(r row) (lineKey, bool) {
	if f, s := r["file"], r["seq"]; f != "" && s != "" {
		n, err := strconv.Atoi(s)
		return lineKey{f, n}, err == nil
	}
	msg := r["_msg"]
	m := jsonMarker.FindStringSubmatch(msg)
	if m == nil {
		m = textMarker.FindStringSubmatch(msg)
	}
	if m == nil {
		return lineKey{}, false
	}
	n, err := strconv.Atoi(m[2])
	return lineKey{m[1], n}, err == nil
}

// report is what the checker found in the store.
type report struct {
	rows       int
	missing    []lineKey
	dupes      map[lineKey]int // rows per line, for lines with more than one
	unexpected []string        // rows that belong to no written line
	mismatches []string        // rows of a known line with a wrong field
	idsPerLine map[lineKey]map[string]bool
	linesPerID map[string]map[lineKey]bool
}

// replays is the number of rows beyond one per line.
func (r *report) replays() int {
	n := 0
	for _, c := range r.dupes {
		n += c - 1
	}
	return n
}

// idProblems lists the breaks of the one-to-one map between distinct
// sluice_id values and distinct lines.
func (r *report) idProblems() []string {
	var out []string
	for k, ids := range r.idsPerLine {
		if len(ids) > 1 {
			out = append(out, fmt.Sprintf("%v has %d different sluice_id values %v", k, len(ids), sortedKeys(ids)))
		}
	}
	for id, keys := range r.linesPerID {
		if len(keys) > 1 {
			ks := make([]string, 0, len(keys))
			for k := range keys {
				ks = append(ks, k.String())
			}
			sort.Strings(ks)
			out = append(out, fmt.Sprintf("sluice_id %q is shared by different lines %v", id, ks))
		}
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

const maxListed = 12

func listHead(items []string) string {
	var b strings.Builder
	for i, s := range items {
		if i == maxListed {
			fmt.Fprintf(&b, "\n    ... and %d more", len(items)-maxListed)
			break
		}
		b.WriteString("\n    ")
		b.WriteString(s)
	}
	return b.String()
}

// missingByFile groups the missing lines of each file into seq ranges.
func (r *report) missingByFile() []string {
	byFile := map[string][]int{}
	for _, k := range r.missing {
		byFile[k.file] = append(byFile[k.file], k.seq)
	}
	var out []string
	for f, seqs := range byFile {
		slices.Sort(seqs)
		var ranges []string
		for i := 0; i < len(seqs); {
			j := i
			for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
				j++
			}
			if i == j {
				ranges = append(ranges, strconv.Itoa(seqs[i]))
			} else {
				ranges = append(ranges, fmt.Sprintf("%d-%d", seqs[i], seqs[j]))
			}
			i = j + 1
		}
		if len(ranges) > 20 {
			ranges = append(ranges[:20], "...")
		}
		out = append(out, fmt.Sprintf("%s: %d missing, seq %s", f, len(seqs), strings.Join(ranges, ",")))
	}
	sort.Strings(out)
	return out
}

func (r *report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows: %d lines missing, %d lines duplicated (%d extra rows), %d unexpected rows, %d field mismatches",
		r.rows, len(r.missing), len(r.dupes), r.replays(), len(r.unexpected), len(r.mismatches))
	if len(r.missing) > 0 {
		b.WriteString("\n  missing:" + listHead(r.missingByFile()))
	}
	if len(r.dupes) > 0 {
		var d []string
		for k, n := range r.dupes {
			d = append(d, fmt.Sprintf("%v: %d rows, sluice_id %v", k, n, sortedKeys(r.idsPerLine[k])))
		}
		sort.Strings(d)
		b.WriteString("\n  duplicated:" + listHead(d))
	}
	if len(r.unexpected) > 0 {
		b.WriteString("\n  unexpected:" + listHead(r.unexpected))
	}
	if len(r.mismatches) > 0 {
		b.WriteString("\n  mismatches:" + listHead(r.mismatches))
	}
	return b.String()
}

// describe renders a row for a failure message, long values shortened.
func describe(r row) string {
	short := make(map[string]string, len(r))
	for k, v := range r {
		if k == "_stream" || k == "_stream_id" {
			continue
		}
		if len(v) > 100 {
			v = v[:50] + fmt.Sprintf("…(%d bytes)…", len(v)) + v[len(v)-30:]
		}
		short[k] = v
	}
	b, _ := json.Marshal(short)
	return string(b)
}

func shorten(s string) string {
	if len(s) > 160 {
		return s[:80] + fmt.Sprintf("…(%d bytes)…", len(s)) + s[len(s)-60:]
	}
	return strconv.Quote(s)
}

// check compares the rows of the store with every line written.
func (c *corpus) check(rows []row) *report {
	c.mu.Lock()
	defer c.mu.Unlock()
	rep := &report{
		rows:       len(rows),
		dupes:      map[lineKey]int{},
		idsPerLine: map[lineKey]map[string]bool{},
		linesPerID: map[string]map[lineKey]bool{},
	}
	seen := map[lineKey]int{}
	reported := map[string]bool{}
	for _, r := range rows {
		k, ok := rowKey(r)
		e := c.lines[k]
		if !ok || e == nil {
			rep.unexpected = append(rep.unexpected, describe(r))
			continue
		}
		seen[k]++
		id := r["sluice_id"]
		if rep.idsPerLine[k] == nil {
			rep.idsPerLine[k] = map[string]bool{}
		}
		rep.idsPerLine[k][id] = true
		if id != "" {
			if rep.linesPerID[id] == nil {
				rep.linesPerID[id] = map[lineKey]bool{}
			}
			rep.linesPerID[id][k] = true
		}
		for _, m := range e.mismatches(r) { // every row: a replay may differ
			msg := fmt.Sprintf("%v (%s%s): %s", k, e.file.format, e.descSuffix(), m)
			if !reported[msg] {
				reported[msg] = true
				rep.mismatches = append(rep.mismatches, msg)
			}
		}
	}
	for k := range c.lines {
		switch n := seen[k]; {
		case n == 0:
			rep.missing = append(rep.missing, k)
		case n > 1:
			rep.dupes[k] = n
		}
	}
	sort.Slice(rep.missing, func(i, j int) bool {
		a, b := rep.missing[i], rep.missing[j]
		return a.file < b.file || a.file == b.file && a.seq < b.seq
	})
	sort.Strings(rep.mismatches)
	return rep
}

func (e *expectedLine) descSuffix() string {
	if e.desc == "" {
		return ""
	}
	return ", " + e.desc
}

// mismatches lists every field of r that differs from what e requires.
func (e *expectedLine) mismatches(r row) []string {
	var out []string
	want := func(field, value string) {
		if got := r[field]; got != value {
			out = append(out, fmt.Sprintf("%s = %s, want %s", field, shorten(got), shorten(value)))
		}
	}
	lf := e.file
	want("kubernetes.namespace_name", lf.namespace)
	want("kubernetes.pod_name", lf.pod)
	want("kubernetes.container_name", lf.container)
	want("kubernetes.container_id", lf.contID)
	want("kubernetes.host", nodeName)
	if e.stream != "" {
		want("stream", e.stream)
	}
	if r["sluice_id"] == "" {
		out = append(out, "sluice_id is missing")
	}
	if e.times != nil {
		got, err := time.Parse(time.RFC3339Nano, r["_time"])
		ok := err == nil && slices.ContainsFunc(e.times, got.Equal)
		if !ok {
			ws := make([]string, len(e.times))
			for i, w := range e.times {
				ws[i] = w.Format(time.RFC3339Nano)
			}
			out = append(out, fmt.Sprintf("@timestamp = %q, want one of %v", r["_time"], ws))
		}
	}
	switch e.kind {
	case kindJSON:
		want("level", e.level)
		if !slices.Contains(e.msgs, r["msg"]) {
			out = append(out, fmt.Sprintf("msg = %s, want %s", shorten(r["msg"]), shorten(e.msgs[0])))
		}
		if e.status > 0 {
			want("http.status", strconv.Itoa(e.status))
		}
		if strings.HasPrefix(r["_msg"], "{") {
			out = append(out, "log kept the JSON line ("+shorten(r["_msg"])+"); a JSON object line is merged and has no log")
		}
	case kindText:
		if !slices.Contains(e.msgs, r["_msg"]) {
			ws := make([]string, len(e.msgs))
			for i, m := range e.msgs {
				ws[i] = shorten(m)
			}
			out = append(out, fmt.Sprintf("log = %s, want %s", shorten(r["_msg"]), strings.Join(ws, " or ")))
		}
		if r["file"] != "" || r["level"] != "" {
			out = append(out, "a text line has merged JSON fields")
		}
	}
	return out
}

// queryAll returns every row of the store. The store answers tens of
// thousands of long rows in seconds, but on a loaded 2-core machine under
// -race it took more than 20 s (the torture test's final check).
func queryAll(ctx context.Context, s *vlstore.Store) ([]row, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	return s.Query(ctx, "*")
}

// mustQueryAll returns every row of the store, trying again after a
// failed query: the store is not under test.
func mustQueryAll(t *testing.T, s *vlstore.Store) []row {
	t.Helper()
	var err error
	for range 3 {
		var rows []row
		if rows, err = queryAll(t.Context(), s); err == nil {
			return rows
		}
		t.Logf("query the store: %v", err)
		time.Sleep(time.Second) // let the store recover
	}
	require.NoError(t, err, "query the store")
	return nil
}

// queryRaw returns the undecoded body of a query, to look at the bytes the
// store holds (the JSON decoder would hide invalid UTF-8).
func queryRaw(ctx context.Context, s *vlstore.Store, query string) ([]byte, error) {
	if err := s.Flush(ctx); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Root+"/select/logsql/query?query="+url.QueryEscape(query), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query %q: status %d: %s", query, resp.StatusCode, body)
	}
	return body, nil
}

// waitForLines polls the store until every written line is there at least
// once, or timeout passes; it returns the last check either way (the
// caller's assertions say what is wrong). a must stay up meanwhile.
func waitForLines(t *testing.T, s *vlstore.Store, c *corpus, a *agenttest.Agent, timeout time.Duration) *report {
	t.Helper()
	ctx := t.Context()
	deadline := time.Now().Add(timeout)
	start := time.Now()
	var (
		rep     *report
		lastErr error
	)
	for {
		final := time.Now().After(deadline)
		// Counting is cheap; fetch every row only once there can be enough.
		n, err := s.Count(ctx, "*")
		if err == nil && (n >= c.count() || final) {
			var rows []row
			rows, err = queryAll(ctx, s)
			if err == nil {
				rep = c.check(rows)
				if len(rep.missing) == 0 {
					t.Logf("all %d lines in the store after %v (%d rows)", c.count(), time.Since(start).Round(time.Millisecond), rep.rows)
					return rep
				}
			}
		}
		if err != nil {
			lastErr = err
		}
		if a != nil {
			a.RequireRunning(t)
		}
		if final {
			break
		}
		time.Sleep(250 * time.Millisecond) // poll interval
	}
	require.NotNil(t, rep, "the store never answered: %v", lastErr)
	t.Logf("timed out after %v waiting for %d lines", timeout, c.count())
	return rep
}

// waitForCount polls until the store holds at least n rows.
func waitForCount(t *testing.T, s *vlstore.Store, a *agenttest.Agent, n int, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	got := 0
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		c, err := s.Count(ctx, "*")
		cancel()
		if err == nil {
			got = c
			if got >= n {
				return got
			}
		}
		a.RequireRunning(t)
		if time.Now().After(deadline) {
			t.Fatalf("the store holds %d rows after %v, want at least %d (last error: %v)", got, timeout, n, err)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
}

// requireExactlyOnce: every line arrived once, with the right fields, and
// nothing else arrived.
func requireExactlyOnce(t *testing.T, rep *report) {
	t.Helper()
	ok := len(rep.missing) == 0 && len(rep.dupes) == 0 && len(rep.unexpected) == 0 && len(rep.mismatches) == 0
	require.True(t, ok, "want every line exactly once: %v", rep)
	require.Empty(t, rep.idProblems(), "sluice_id must be one per line")
}

// requireIdempotent: every line arrived with the right fields, nothing else
// arrived, and every repeated row is a replay carrying the line's sluice_id,
// so an Elasticsearch with op_type create would have kept exactly one.
func requireIdempotent(t *testing.T, rep *report) {
	t.Helper()
	ok := len(rep.missing) == 0 && len(rep.unexpected) == 0 && len(rep.mismatches) == 0
	require.True(t, ok, "want every line at least once: %v", rep)
	require.Empty(t, rep.idProblems(), "distinct sluice_id values must map one-to-one onto distinct lines")
}
