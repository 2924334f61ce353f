package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// productCheck refuses a server that is not Elasticsearch, as the
// go-elasticsearch client does (its BaseClient.Perform): until one 2xx
// answer carried "X-Elastic-Product: Elasticsearch", a 2xx answer without
// it is closed and turned into an error. Other statuses pass unchecked and
// leave the check pending: a 401 or 403 comes before the server says what
// it is, and a 5xx may come from a proxy in front of it. Once a 2xx answer
// passed, every later call costs one atomic load (no lock, no allocation).
//
// A wrong URL (OpenSearch, a proxy answering 200, another service) is thus
// an error on every request, and the sender keeps the documents for its
// retries instead of counting a body the server never understood as sent.
type productCheck struct {
	next   esapi.Transport
	passed atomic.Bool
}

// errNotElasticsearch is the product check's refusal, a bad_response
// failure in the metrics.
var errNotElasticsearch = errors.New("not Elasticsearch")

// productDrainBytes bounds what is read of a refused answer so that its
// connection can be reused; a longer body is closed unread.
const productDrainBytes = 64 << 10

// Close closes the transport under the check (closeClient).
func (p *productCheck) Close(ctx context.Context) error {
	if c, ok := p.next.(interface{ Close(context.Context) error }); ok {
		return c.Close(ctx)
	}
	return nil
}

func (p *productCheck) Perform(req *http.Request) (*http.Response, error) {
	res, err := p.next.Perform(req)
	if err != nil || p.passed.Load() || res.StatusCode < 200 || res.StatusCode > 299 {
		return res, err
	}
	if res.Header.Get("X-Elastic-Product") == "Elasticsearch" {
		p.passed.Store(true)
		return res, nil
	}
	if res.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, productDrainBytes))
		_ = res.Body.Close()
	}
	// The transport set the request's scheme and host to the server it
	// chose; neither holds a password (the URL's user info is not copied).
	return nil, fmt.Errorf("the server at %s://%s is not Elasticsearch: its answer (status %d) lacks the header "+
		"X-Elastic-Product: Elasticsearch (for OpenSearch set compatibility: opensearch): %w",
		req.URL.Scheme, req.URL.Host, res.StatusCode, errNotElasticsearch)
}
