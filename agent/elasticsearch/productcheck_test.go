package elasticsearch

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// productServer answers every request with status and, when product is
// set, X-Elastic-Product: Elasticsearch; both can change between requests.
type productServer struct {
	srv      *httptest.Server
	status   atomic.Int32
	product  atomic.Bool
	requests atomic.Int32
	mu       sync.Mutex
	agents   []string // User-Agent of each request
}

func newProductServer(t *testing.T, status int, product bool) *productServer {
	p := &productServer{}
	p.status.Store(int32(status))
	p.product.Store(product)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		p.mu.Lock()
		p.agents = append(p.agents, r.Header.Get("User-Agent"))
		p.mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		if p.product.Load() {
			w.Header().Set("X-Elastic-Product", "Elasticsearch")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(p.status.Load()))
		_, _ = io.WriteString(w, `{"took":1,"errors":false,"items":[]}`)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// productClient builds the output's client for url the way New does.
func productClient(t *testing.T, url, compatibility string, headers map[string]string) esapi.Transport {
	t.Helper()
	cfg := testConfig(url)
	cfg.Compatibility = compatibility
	cfg.Headers = headers
	o, err := New(cfg, nil)
	require.NoError(t, err)
	t.Cleanup(o.transport.CloseIdleConnections)
	return o.client
}

// bulk sends one _bulk request; the body of a response is read and closed.
func bulk(t *testing.T, client esapi.Transport) (int, error) {
	t.Helper()
	res, err := esapi.BulkRequest{Body: strings.NewReader(`{"create":{"_index":"x"}}` + "\n{}\n")}.Do(t.Context(), client)
	if err != nil {
		require.Nil(t, res)
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	require.NoError(t, res.Body.Close())
	return res.StatusCode, nil
}

// A 2xx answer without the header is an error naming the server (not its
// password), one request per call: no retry, no loop. The check stays
// pending, so the next call is refused too.
func TestProductCheckRefusesWithoutHeader(t *testing.T) {
	p := newProductServer(t, http.StatusOK, false)
	url := strings.Replace(p.srv.URL, "://", "://elastic:s3cret@", 1)
	client := productClient(t, url, "", nil)
	for i := 1; i <= 2; i++ {
		_, err := bulk(t, client)
		require.ErrorContains(t, err, "not Elasticsearch")
		require.ErrorContains(t, err, strings.TrimPrefix(p.srv.URL, "http://"))
		require.ErrorContains(t, err, "compatibility: opensearch")
		require.NotContains(t, err.Error(), "s3cret")
		require.Equal(t, int32(i), p.requests.Load())
	}
}

// With the header the first answer passes; the check is done once, so a
// later answer without it passes too.
func TestProductCheckOnce(t *testing.T) {
	p := newProductServer(t, http.StatusOK, true)
	client := productClient(t, p.srv.URL, "elasticsearch", nil)
	status, err := bulk(t, client)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	p.product.Store(false)
	status, err = bulk(t, client)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, int32(2), p.requests.Load())
}

// A 401 (or any non-2xx) is returned as it came, unchecked, and the check
// is still pending: a 200 without the header is refused afterwards, one
// with it passes.
func TestProductCheckSkipsNon2xx(t *testing.T) {
	p := newProductServer(t, http.StatusUnauthorized, false)
	client := productClient(t, p.srv.URL, "", nil)
	status, err := bulk(t, client)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, status)

	p.status.Store(http.StatusServiceUnavailable)
	status, err = bulk(t, client)
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, status)

	p.status.Store(http.StatusOK)
	_, err = bulk(t, client)
	require.ErrorContains(t, err, "not Elasticsearch")

	p.product.Store(true)
	status, err = bulk(t, client)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, int32(4), p.requests.Load())
}

// compatibility: opensearch never checks.
func TestProductCheckOffForOpenSearch(t *testing.T) {
	p := newProductServer(t, http.StatusOK, false)
	client := productClient(t, p.srv.URL, "opensearch", nil)
	for range 3 {
		status, err := bulk(t, client)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
	}
	require.Equal(t, int32(3), p.requests.Load())
}

// The User-Agent is the one the go-elasticsearch client sent; one in
// headers wins.
func TestElasticsearchUserAgent(t *testing.T) {
	p := newProductServer(t, http.StatusOK, true)
	_, err := bulk(t, productClient(t, p.srv.URL, "", nil))
	require.NoError(t, err)
	_, err = bulk(t, productClient(t, p.srv.URL, "", map[string]string{"User-Agent": "mine/1"}))
	require.NoError(t, err)
	p.mu.Lock()
	defer p.mu.Unlock()
	require.Len(t, p.agents, 2)
	require.Regexp(t, `^go-elasticsearch/`+esapi.Version+` \(\w+ \w+; Go \S+\)$`, p.agents[0])
	require.Equal(t, "mine/1", p.agents[1])
}

// fixedTransport answers every request with a copy of res.
type fixedTransport struct {
	res   http.Response
	calls atomic.Int32
}

func (f *fixedTransport) Perform(*http.Request) (*http.Response, error) {
	f.calls.Add(1)
	return &f.res, nil
}

// Concurrent first answers all pass; once passed, a call allocates nothing
// of its own.
func TestProductCheckPassedPathAllocatesNothing(t *testing.T) {
	next := &fixedTransport{res: http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"X-Elastic-Product": {"Elasticsearch"}},
		Body:       io.NopCloser(bytes.NewReader(nil)),
	}}
	p := &productCheck{next: next}
	req := httptest.NewRequest(http.MethodPost, "http://es:9200/_bulk", nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			res, err := p.Perform(req)
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusOK, res.StatusCode)
			}
		})
	}
	wg.Wait()
	require.True(t, p.passed.Load())

	next.res.Header = http.Header{}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := p.Perform(req); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}
