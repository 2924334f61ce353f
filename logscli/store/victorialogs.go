package store

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sluicelog/sluice/logscli/entry"
)

// VictoriaLogs searches with LogsQL (/select/logsql/query), oldest first.
// LogsQL has no search_after: each page asks for the records from the last
// page's newest time on, sorted by (_time, id field), and skips the ones
// of that very time it already returned.
type VictoriaLogs struct {
	base, idField string
	opts          Options
}

// vlMissingMsg starts the _msg that VictoriaLogs stores for a document
// without the message field (a JSON line merged by the agent has no `log`).
const vlMissingMsg = "missing _msg field"

// docTime is how the agent writes @timestamp; VictoriaLogs trims zeros.
const docTime = "2006-01-02T15:04:05.000000000Z07:00"

// Search implements Store.
func (s *VictoriaLogs) Search(ctx context.Context, q Query, fn func(*entry.Entry) error) error {
	size := q.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	from, to := q.From, q.To
	if from.IsZero() {
		from = time.Unix(0, 0)
	}
	if to.IsZero() {
		to = time.Now().Add(365 * 24 * time.Hour)
	}
	// seen holds the rows already returned whose time is from (the cursor).
	seen := map[string]bool{}
	for {
		limit := size + len(seen)
		rows, err := s.page(ctx, s.logsQL(q.Filter, from, to, limit))
		if err != nil {
			return err
		}
		var last time.Time
		for _, row := range rows {
			t, err := time.Parse(time.RFC3339Nano, row["_time"])
			if err != nil {
				return fmt.Errorf("victorialogs: row with _time %q: %w", row["_time"], err)
			}
			id := s.rowID(row)
			if t.Equal(from) && seen[id] {
				continue
			}
			if !t.Equal(last) {
				// Rows come sorted by time: a new time starts a new set.
				if !t.Equal(from) {
					clear(seen)
				}
				last = t
			}
			seen[id] = true
			from = t
			e, err := entry.FromDoc(vlDoc(row, t))
			if err != nil {
				return fmt.Errorf("victorialogs: %w", err)
			}
			if !q.Filter.Match(e, s.idField) {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(rows) < limit {
			return nil
		}
	}
}

// rowID names a row across pages: its id field, or, for documents without
// one, the row itself.
func (s *VictoriaLogs) rowID(row map[string]string) string {
	if id := row[s.idField]; id != "" {
		return id
	}
	b, _ := json.Marshal(row) // map keys are sorted: the same row, the same bytes
	return string(b)
}

// logsQL is the query for one page: the exact parts of the filter (LogsQL
// regexps are RE2, unanchored, like Go's) and the time range; the rest is
// checked by Filter.Match.
func (s *VictoriaLogs) logsQL(f *entry.Filter, from, to time.Time, limit int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "_time:[%s, %s)", from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano))
	if f.Namespace != "" {
		fmt.Fprintf(&b, " kubernetes.namespace_name:=%s", strconv.Quote(f.Namespace))
	}
	if f.Container != "" {
		fmt.Fprintf(&b, " kubernetes.container_name:~%s", strconv.Quote(f.Container))
	}
	if f.Pod != "" {
		fmt.Fprintf(&b, " kubernetes.pod_name:~%s", strconv.Quote(f.Pod))
	}
	fmt.Fprintf(&b, " | sort by (_time, %s) | limit %d", s.idField, limit)
	return b.String()
}

func (s *VictoriaLogs) page(ctx context.Context, query string) ([]map[string]string, error) {
	form := url.Values{"query": {query}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/select/logsql/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("victorialogs: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	authorize(req, s.opts)
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return nil, unreachable(s.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("victorialogs %s: query: status %d: %s", s.base, resp.StatusCode, snippet(resp.Body))
	}
	var rows []map[string]string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		row := map[string]string{}
		if err := json.Unmarshal(line, &row); err != nil {
			return nil, fmt.Errorf("victorialogs %s: decode row: %w", s.base, err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("victorialogs %s: read rows: %w", s.base, err)
	}
	return rows, nil
}

// vlDoc turns a row back into the document the agent shipped, as far as
// VictoriaLogs kept it: dotted names nest again, _msg is `log` again and
// _time is @timestamp. VictoriaLogs stores every value as a string, so
// numbers and booleans of merged JSON lines come back as strings.
func vlDoc(row map[string]string, t time.Time) map[string]any {
	doc := map[string]any{"@timestamp": t.UTC().Format(docTime)}
	for k, v := range row {
		switch k {
		case "_time", "_stream", "_stream_id":
			continue
		case "_msg":
			if !strings.HasPrefix(v, vlMissingMsg) {
				doc["log"] = v
			}
			continue
		}
		setPath(doc, k, v)
	}
	return doc
}

// setPath sets a.b.c to v, nesting objects; a name that clashes with a
// value already there is kept flat.
func setPath(doc map[string]any, key, v string) {
	parts := strings.Split(key, ".")
	m := doc
	for i, p := range parts[:len(parts)-1] {
		next, ok := m[p]
		if !ok {
			nm := map[string]any{}
			m[p] = nm
			m = nm
			continue
		}
		nm, ok := next.(map[string]any)
		if !ok {
			m[strings.Join(parts[i:], ".")] = v
			return
		}
		m = nm
	}
	last := parts[len(parts)-1]
	if _, clash := m[last].(map[string]any); clash {
		doc[key] = v
		return
	}
	m[last] = v
}
