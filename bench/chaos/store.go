package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sluicelog/sluice/internal/vlstore"
)

// storeClient asks the store what arrived. Queries go straight to it, not
// through the fault proxy.
type storeClient struct {
	*vlstore.Store
	http *http.Client
}

func newStoreClient(s *vlstore.Store) *storeClient {
	return &storeClient{Store: s, http: &http.Client{}}
}

// podStream selects the rows of one generated pod.
func podStream(ns, pod string) string {
	return fmt.Sprintf(`_stream:{kubernetes.namespace_name=%q,kubernetes.pod_name=%q}`, ns, pod)
}

// stats runs a query that ends in `| stats ...` and returns its one row.
func (s *storeClient) stats(ctx context.Context, q string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	rows, err := s.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("query %q: %d rows, want 1", q, len(rows))
	}
	return rows[0], nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// delivered reports whether the store holds every line first..last of a
// writer's pod, polling up to wait (0: ask once).
func (s *storeClient) delivered(ctx context.Context, pod string, first, last int, wait time.Duration) (bool, error) {
	if last < first {
		return true, nil
	}
	q := podStream(nsLines, pod) + fmt.Sprintf(` | extract "seq=<tseq> " from _msg | filter seq:range[%d,%d] OR tseq:range[%d,%d] | stats count_uniq(seq) j, count_uniq(tseq) t`, first, last, first, last)
	deadline := time.Now().Add(wait)
	for {
		r, err := s.stats(ctx, q)
		have := 0
		if err == nil {
			have = atoi(r["j"]) + atoi(r["t"])
			if have == last-first+1 {
				return true, nil
			}
			err = fmt.Errorf("%d of %d lines in the store", have, last-first+1)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false, err
		}
		time.Sleep(500 * time.Millisecond) // delivery poll
	}
}

// stream runs a query and calls fn with each row's raw JSON.
func (s *storeClient) stream(ctx context.Context, q string, fn func([]byte) error) error {
	if err := s.Flush(ctx); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Root+"/select/logsql/query",
		strings.NewReader(url.Values{"query": {q}}.Encode()))
	if err != nil {
		return fmt.Errorf("build query: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("query %q: %w", q, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("query %q: status %d: %s", q, resp.StatusCode, b)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read query %q: %w", q, err)
	}
	return nil
}

// streamRows is stream with each row decoded into string fields.
func (s *storeClient) streamRows(ctx context.Context, q string, fn func(map[string]string)) error {
	return s.stream(ctx, q, func(b []byte) error {
		row := map[string]string{}
		if err := json.Unmarshal(b, &row); err != nil {
			return fmt.Errorf("decode row %.200q: %w", b, err)
		}
		fn(row)
		return nil
	})
}

// count is the number of rows matching q.
func (s *storeClient) count(ctx context.Context, q string) (int, error) {
	r, err := s.stats(ctx, q+" | stats count() n")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(r["n"])
	if err != nil {
		return 0, errors.Join(fmt.Errorf("count %q: %q", q, r["n"]), err)
	}
	return n, nil
}
