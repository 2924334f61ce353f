// Package store reads log history for the logs CLI, oldest first, a page
// at a time: from Elasticsearch (_search with search_after) or from
// VictoriaLogs (LogsQL).
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sluicelog/sluice/internal/redact"
	"github.com/sluicelog/sluice/logscli/entry"
)

// Query selects the records of a search.
type Query struct {
	Filter   *entry.Filter
	From, To time.Time // [From, To); zero = unbounded
	PageSize int       // records per request; <= 0 takes DefaultPageSize
}

// DefaultPageSize is the records asked for per request.
const DefaultPageSize = 1000

// Store is a history backend.
type Store interface {
	// Search calls fn with every record that matches q, oldest first,
	// until the records run out, fn returns an error, or ctx ends.
	Search(ctx context.Context, q Query, fn func(*entry.Entry) error) error
}

// Options say where the store is and how to reach it.
type Options struct {
	URL      string
	Kind     string // "auto", "elasticsearch" or "victorialogs"
	Index    string // Elasticsearch index pattern
	IDField  string // the document id field (the agent's id_field)
	Username string // basic auth
	Password string
	APIKey   string // Elasticsearch API key (the base64 "id:key" form)
	Client   *http.Client
}

// New returns the store at o.URL; with Kind "auto" it asks the server
// which one it is.
func New(ctx context.Context, o Options) (Store, error) {
	if o.Client == nil {
		o.Client = &http.Client{Transport: http.DefaultTransport}
	}
	if o.IDField == "" {
		o.IDField = "sluice_id"
	}
	u, err := url.Parse(o.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("--es %q: not an http(s) URL", redact.URL(o.URL))
	}
	if u.User != nil && o.Username == "" {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	u.User = nil
	base := strings.TrimRight(u.String(), "/")
	kind := o.Kind
	if kind == "" || kind == "auto" {
		if kind, err = detect(ctx, o, base); err != nil {
			return nil, err
		}
	}
	switch kind {
	case "elasticsearch", "es", "opensearch":
		idx := o.Index
		if idx == "" {
			idx = "logs-*"
		}
		return &Elasticsearch{base: base, index: idx, idField: o.IDField, opts: o}, nil
	case "victorialogs", "vl":
		return &VictoriaLogs{base: vlRoot(base), idField: o.IDField, opts: o}, nil
	}
	return nil, fmt.Errorf("--store %q: want auto, elasticsearch or victorialogs", o.Kind)
}

// vlRoot accepts the URL an agent's config points at
// (…/insert/elasticsearch) as well as the server's root.
func vlRoot(base string) string {
	return strings.TrimSuffix(base, "/insert/elasticsearch")
}

// detect tells VictoriaLogs from Elasticsearch: only VictoriaLogs answers
// 200 to a LogsQL query (Elasticsearch reads the path as an index name and
// refuses it).
func detect(ctx context.Context, o Options, base string) (string, error) {
	u := vlRoot(base) + "/select/logsql/query?limit=1&query=" + url.QueryEscape("_time:1s")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("store %s: %w", base, err)
	}
	authorize(req, o)
	resp, err := o.Client.Do(req)
	if err != nil {
		return "", unreachable(base, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusOK {
		return "victorialogs", nil
	}
	return "elasticsearch", nil
}

// authorize adds the configured credentials.
func authorize(req *http.Request, o Options) {
	switch {
	case o.APIKey != "":
		req.Header.Set("Authorization", "ApiKey "+o.APIKey)
	case o.Username != "":
		req.SetBasicAuth(o.Username, o.Password)
	}
}

// unreachable words a transport error for the user.
func unreachable(base string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is said already
	}
	var op *net.OpError
	if errors.As(err, &op) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("log store %s unreachable: %w", base, err)
	}
	return fmt.Errorf("log store %s: %w", base, err)
}

// snippet is the start of a response body, for error messages.
func snippet(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	return strings.TrimSpace(string(b))
}
