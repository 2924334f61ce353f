package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

// RedriveOptions say which dead letters to send back.
type RedriveOptions struct {
	Since    time.Time // only dead letters with @timestamp at or after it; zero = all
	DryRun   bool      // read and encode, send and delete nothing
	PageSize int       // dead letters per search page and bulk request (default 500)
	Attempts int       // tries of a page's 429/5xx documents (default 5)
}

// RedriveSummary is what a redrive did.
type RedriveSummary struct {
	Total     int64 // dead letters matching, as the first page counted them
	Read      int64 // dead letters read
	Stored    int64 // sent back and stored (2xx)
	Duplicate int64 // already in their target (409 on create: redriven before)
	Failing   int64 // refused again, or still failing after the retries: left in place
	Deleted   int64 // dead letters deleted once their document was stored
	Unusable  int64 // dead letters without a line or a target: left in place
}

// Left is how many dead letters a redrive left in the dead-letter index
// (dry runs leave all).
func (s RedriveSummary) Left(dry bool) int64 {
	if dry {
		return s.Read
	}
	return s.Read - s.Deleted
}

// deadLetter is a document of the dead-letter index, as appendDeadLetter
// writes it.
type deadLetter struct {
	Timestamp  string          `json:"@timestamp"`
	Stream     string          `json:"stream"`
	Log        *string         `json:"log"`
	Index      string          `json:"index"`
	Input      string          `json:"input"`
	Path       string          `json:"path"`
	Kubernetes json.RawMessage `json:"kubernetes"`
}

type hit struct {
	ID     string          `json:"_id"`
	Source deadLetter      `json:"_source"`
	Sort   json.RawMessage `json:"sort"`
}

// Redrive sends the dead letters back through enc (the config's parsers
// as they are now, after an operator fixed a parser or a mapping) into the
// index or data stream each was meant for, under its original _id with
// op_type create, so that a redrive run twice stores each line once; and
// deletes from the dead-letter index only those the server acknowledged
// (stored, or 409: already there). It reads the index through a point in
// time with search_after
// (https://www.elastic.co/docs/reference/elasticsearch/rest-apis/paginate-search-results#search-after),
// so deletions do not shift the pages. progress, when set, sees the
// dead letters read so far and the total. Call it on an output that is
// not running, once: it closes the output's client when done.
func (o *Output) Redrive(ctx context.Context, enc *document.Encoder, opts RedriveOptions, progress func(done, total int64)) (RedriveSummary, error) {
	var sum RedriveSummary
	if opts.PageSize <= 0 {
		opts.PageSize = 500
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	defer func() {
		o.trip.CloseIdleConnections()
		_ = o.closeClient()
	}()
	pit, err := o.openPIT(ctx)
	if err != nil {
		return sum, err
	}
	defer o.closePIT(pit)
	var after json.RawMessage
	var sh shapeCache
	for first := true; ; first = false {
		hits, total, next, err := o.searchPage(ctx, pit, opts, after, first)
		if err != nil {
			return sum, err
		}
		pit = next
		if first {
			sum.Total = total
		}
		if len(hits) == 0 {
			return sum, nil
		}
		after = hits[len(hits)-1].Sort
		sum.Read += int64(len(hits))
		if err := o.redrivePage(ctx, enc, &sh, hits, opts, &sum); err != nil {
			return sum, err
		}
		if progress != nil {
			progress(sum.Read, sum.Total)
		}
	}
}

// redrivePage encodes and sends one page, then deletes what was stored.
func (o *Output) redrivePage(ctx context.Context, enc *document.Encoder, sh *shapeCache, hits []hit, opts RedriveOptions, sum *RedriveSummary) error {
	var body []byte
	var ids []string // of the documents in body, in order
	for _, h := range hits {
		dl := h.Source
		if dl.Log == nil || dl.Index == "" || !plainName(dl.Index) || !plainName(h.ID) {
			sum.Unusable++
			continue
		}
		src := &record.Source{Input: dl.Input, Path: dl.Path, Meta: dl.Kubernetes}
		r := record.Record{Line: []byte(*dl.Log), Stream: parseStream(dl.Stream)}
		if t, err := time.Parse(time.RFC3339Nano, dl.Timestamp); err == nil {
			r.Time = t.UnixNano()
		}
		doc := enc.Append(nil, src, &r)
		if o.conv.shaping() {
			doc = o.shape(sh, src.Meta, doc, []byte(dl.Index), true)
		}
		body = appendAction(body, []byte(dl.Index), []byte(h.ID))
		body = appendDoc(body, doc, o.idKey, []byte(h.ID))
		ids = append(ids, h.ID)
	}
	if opts.DryRun || len(ids) == 0 {
		return nil
	}
	acked, err := o.sendRedrive(ctx, body, ids, opts, sum)
	if err != nil {
		return err
	}
	return o.deleteDeadLetters(ctx, acked, sum)
}

// plainName reports whether s can go into an action line unescaped.
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return s != ""
}

func parseStream(s string) stream.Stream {
	switch s {
	case "stdout":
		return stream.Stdout
	case "stderr":
		return stream.Stderr
	}
	return 0
}

// sendRedrive sends body (one create per id) and returns the ids the
// server stored or already had. 429/5xx documents are sent again, a few
// times; refused ones are counted failing.
func (o *Output) sendRedrive(ctx context.Context, body []byte, ids []string, opts RedriveOptions, sum *RedriveSummary) ([]string, error) {
	var acked []string
	for attempt := 0; len(ids) > 0; attempt++ {
		status, resp, err := o.post(ctx, bulkPath, "application/x-ndjson", body)
		if err != nil || status == http.StatusTooManyRequests || status >= 500 {
			if attempt+1 >= opts.Attempts {
				sum.Failing += int64(len(ids))
				return acked, nil
			}
			if !o.backoff.Wait(ctx, attempt, 0) {
				return acked, ctx.Err()
			}
			continue
		}
		if status < 200 || status > 299 {
			return acked, fmt.Errorf("bulk request refused (status %d): %s", status, snippet(resp))
		}
		outs, err := parseBulkResponse(nil, resp, len(ids))
		if err != nil {
			return acked, err
		}
		var again []string
		var next []byte
		for k, oc := range outs {
			switch oc.verdict {
			case delivered:
				sum.Stored++
				acked = append(acked, ids[k])
			case duplicate:
				sum.Duplicate++
				acked = append(acked, ids[k])
			case retry:
				again = append(again, ids[k])
				next = append(next, bulkItemAt(body, k)...)
			default:
				sum.Failing++
				o.log.Warn("dead letter refused again; left in the dead-letter index", "id", ids[k], "status", oc.status, "error_type", oc.errType, "reason", oc.reason)
			}
		}
		if len(again) == 0 {
			break
		}
		if attempt+1 >= opts.Attempts || !o.backoff.Wait(ctx, attempt, 0) {
			sum.Failing += int64(len(again))
			break
		}
		ids, body = again, next
	}
	return acked, nil
}

// bulkItemAt returns the k-th action and document lines of body.
func bulkItemAt(body []byte, k int) []byte {
	start := 0
	for line := 0; line < 2*k; line++ {
		start += bytes.IndexByte(body[start:], '\n') + 1
	}
	end := start
	for line := 0; line < 2; line++ {
		end += bytes.IndexByte(body[end:], '\n') + 1
	}
	return body[start:end]
}

// deleteDeadLetters deletes the dead letters of ids with bulk delete
// actions; one already gone (404) counts as deleted.
func (o *Output) deleteDeadLetters(ctx context.Context, ids []string, sum *RedriveSummary) error {
	if len(ids) == 0 {
		return nil
	}
	var body []byte
	for _, id := range ids {
		body = append(body, `{"delete":{"_index":"`...)
		body = append(body, o.deadLetterIndex...)
		body = append(body, `","_id":"`...)
		body = append(body, id...)
		body = append(body, "\"}}\n"...)
	}
	status, resp, err := o.post(ctx, bulkPath, "application/x-ndjson", body)
	if err != nil {
		return fmt.Errorf("delete dead letters: %w", err)
	}
	if status < 200 || status > 299 {
		return fmt.Errorf("delete dead letters: status %d: %s", status, snippet(resp))
	}
	outs, err := parseBulkResponse(nil, resp, len(ids))
	if err != nil {
		return fmt.Errorf("delete dead letters: %w", err)
	}
	for _, oc := range outs {
		if oc.verdict == delivered || oc.status == http.StatusNotFound {
			sum.Deleted++
		}
	}
	return nil
}

// openPIT opens a point in time on the dead-letter index.
func (o *Output) openPIT(ctx context.Context) (string, error) {
	status, resp, err := o.post(ctx, "/"+string(o.deadLetterIndex)+"/_pit?keep_alive=5m", "application/json", nil)
	if err != nil {
		return "", fmt.Errorf("open a point in time on %s: %w", o.deadLetterIndex, err)
	}
	if status == http.StatusNotFound {
		return "", fmt.Errorf("dead-letter index %s not found: nothing to redrive", o.deadLetterIndex)
	}
	if status < 200 || status > 299 {
		return "", fmt.Errorf("open a point in time on %s: status %d: %s", o.deadLetterIndex, status, snippet(resp))
	}
	var r struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp, &r); err != nil || r.ID == "" {
		return "", fmt.Errorf("open a point in time on %s: no id in the answer", o.deadLetterIndex)
	}
	return r.ID, nil
}

func (o *Output) closePIT(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"id": id})
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, "/_pit", bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if res, err := o.client.Perform(req); err == nil {
		_ = res.Body.Close()
	}
}

// searchPage reads the next page of dead letters after the sort values
// after, sorted by @timestamp and the point in time's _shard_doc.
func (o *Output) searchPage(ctx context.Context, pit string, opts RedriveOptions, after json.RawMessage, first bool) ([]hit, int64, string, error) {
	q := map[string]any{
		"size":             opts.PageSize,
		"pit":              map[string]any{"id": pit, "keep_alive": "5m"},
		"sort":             []any{map[string]any{"@timestamp": "asc"}, map[string]any{"_shard_doc": "asc"}},
		"track_total_hits": first,
	}
	if !opts.Since.IsZero() {
		q["query"] = map[string]any{"range": map[string]any{"@timestamp": map[string]any{"gte": opts.Since.UTC().Format(time.RFC3339Nano)}}}
	}
	if after != nil {
		q["search_after"] = after
	}
	body, _ := json.Marshal(q) // maps of plain values always marshal
	status, resp, err := o.post(ctx, "/_search", "application/json", body)
	if err != nil {
		return nil, 0, pit, fmt.Errorf("search dead letters: %w", err)
	}
	if status < 200 || status > 299 {
		return nil, 0, pit, fmt.Errorf("search dead letters: status %d: %s", status, snippet(resp))
	}
	var r struct {
		PitID string `json:"pit_id"`
		Hits  struct {
			Total struct {
				Value int64 `json:"value"`
			} `json:"total"`
			Hits []hit `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		return nil, 0, pit, fmt.Errorf("search dead letters: %w", err)
	}
	if r.PitID != "" {
		pit = r.PitID // the id may change from page to page
	}
	return r.Hits.Hits, r.Hits.Total.Value, pit, nil
}

// post sends body to path and reads the answer (up to maxResponseBytes).
func (o *Output) post(ctx context.Context, path, contentType string, body []byte) (int, []byte, error) {
	rctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	res, err := o.client.Perform(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(res.Body, maxResponseBytes)); err != nil {
		return 0, nil, err
	}
	return res.StatusCode, buf.Bytes(), nil
}
