package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/sluicelog/sluice/logscli/entry"
)

// Elasticsearch searches indices with _search, oldest first, paging with
// search_after on (@timestamp, id field): the id field breaks ties between
// records of the same millisecond (an Elasticsearch date keeps no more), so
// no page boundary skips or repeats a record. The id field should be a
// keyword in the mapping; unmapped_type covers indices without it.
type Elasticsearch struct {
	base, index, idField string
	opts                 Options
}

// esHit is what is read of one hit.
type esHit struct {
	Source json.RawMessage   `json:"_source"`
	Sort   []json.RawMessage `json:"sort"`
}

type esResponse struct {
	Hits struct {
		Hits []esHit `json:"hits"`
	} `json:"hits"`
}

// Search implements Store.
func (s *Elasticsearch) Search(ctx context.Context, q Query, fn func(*entry.Entry) error) error {
	size := q.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	body := map[string]any{
		"size":             size,
		"track_total_hits": false,
		"query":            map[string]any{"bool": map[string]any{"filter": s.filters(q)}},
		"sort": []any{
			map[string]any{"@timestamp": map[string]any{"order": "asc"}},
			map[string]any{s.idField: map[string]any{"order": "asc", "unmapped_type": "keyword"}},
		},
	}
	// Missing indices are an empty history, not an error: a namespace that
	// never logged has no logs-<ns>-* index.
	u := s.base + "/" + url.PathEscape(s.index) + "/_search?ignore_unavailable=true&allow_no_indices=true"
	for {
		hits, err := s.page(ctx, u, body)
		if err != nil {
			return err
		}
		for _, h := range hits {
			e, err := entry.Parse(h.Source)
			if err != nil {
				return fmt.Errorf("elasticsearch: hit: %w", err)
			}
			if !q.Filter.Match(e, s.idField) {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(hits) < size {
			return nil
		}
		last := hits[len(hits)-1].Sort
		if len(last) == 0 {
			return fmt.Errorf("elasticsearch: hits without sort values; cannot page")
		}
		body["search_after"] = last
	}
}

// filters are the exact parts of the filter and the time range, as
// Elasticsearch filters; the rest is checked by Filter.Match. A term on
// `f` or `f.keyword` works with the sluice index template (keywords) and
// with dynamic mappings (text with a keyword sub-field) alike.
func (s *Elasticsearch) filters(q Query) []any {
	var fs []any
	rng := map[string]any{}
	if !q.From.IsZero() {
		rng["gte"] = q.From.UTC().Format(time.RFC3339Nano)
	}
	if !q.To.IsZero() {
		rng["lt"] = q.To.UTC().Format(time.RFC3339Nano)
	}
	if len(rng) > 0 {
		rng["format"] = "strict_date_optional_time_nanos"
		fs = append(fs, map[string]any{"range": map[string]any{"@timestamp": rng}})
	}
	term := func(field, v string) {
		if v == "" {
			return
		}
		fs = append(fs, map[string]any{"bool": map[string]any{
			"should": []any{
				map[string]any{"term": map[string]any{field: v}},
				map[string]any{"term": map[string]any{field + ".keyword": v}},
			},
			"minimum_should_match": 1,
		}})
	}
	term("kubernetes.namespace_name", q.Filter.Namespace)
	return fs
}

func (s *Elasticsearch) page(ctx context.Context, u string, body map[string]any) ([]esHit, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch: encode search: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("elasticsearch: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	authorize(req, s.opts)
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return nil, unreachable(s.base, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("elasticsearch %s: unauthorized (401): set SLUICE_ES_USERNAME/SLUICE_ES_PASSWORD or SLUICE_ES_API_KEY", s.base)
	case resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("elasticsearch %s: forbidden (403) to read %s: %s", s.base, s.index, snippet(resp.Body))
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("elasticsearch %s: search %s: status %d: %s", s.base, s.index, resp.StatusCode, snippet(resp.Body))
	}
	var r esResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("elasticsearch %s: decode search response: %w", s.base, err)
	}
	return r.Hits.Hits, nil
}
