package elasticsearch

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/sluicelog/sluice/agent/config"
)

// newClient builds what sends the requests: elastic-transport-go's client
// (connection pool, round robin over urls, auth, headers) for both
// compatibilities. The requests are built with esapi's request types,
// which need only a Transport; the go-elasticsearch client would link in
// every API function (about 5.7 MB of the binary).
//
// productCheck refuses a server whose first successful answer lacks
// "X-Elastic-Product: Elasticsearch" (a guard against a wrong URL), for
// compatibility: elasticsearch (the default); OpenSearch never sends the
// header, so compatibility: opensearch goes without it. The bulk API,
// create, 409 and item errors are the same on both.
//
// Senders retry on their own terms (per item, with backoff, until
// shutdown), so the transport's retries are off; they would also copy
// every body. With several URLs the transport still takes them in turn
// and sets one that failed to connect or answer aside (for 60s, doubling),
// so a sender's next try goes to another.
func newClient(cfg config.Output, c credentials, header http.Header, tr http.RoundTripper) (esapi.Transport, error) {
	urls := make([]*url.URL, 0, len(cfg.URLs))
	for i, u := range cfg.URLs {
		p, err := url.Parse(strings.TrimRight(u, "/"))
		if err != nil { // not quoted: a URL may hold a password
			return nil, fmt.Errorf("urls[%d]: cannot parse the URL", i)
		}
		urls = append(urls, p)
	}
	opts := []elastictransport.Option{
		elastictransport.WithURLs(urls...),
		elastictransport.WithBasicAuth(c.username, c.password),
		elastictransport.WithAPIKey(c.apiKey),
		elastictransport.WithServiceToken(c.bearer), // sent as "Authorization: Bearer …"
		elastictransport.WithHeader(header),         // a User-Agent in it wins
		elastictransport.WithTransport(tr),
		elastictransport.WithDisableRetry(),
	}
	if cfg.Compatibility == "opensearch" {
		return elastictransport.NewClient(opts...)
	}
	tp, err := elastictransport.NewClient(append(opts, elastictransport.WithUserAgent(esUserAgent()))...)
	if err != nil {
		return nil, err
	}
	return &productCheck{next: tp}, nil
}

// esUserAgent is go-elasticsearch's User-Agent, e.g.
// "go-elasticsearch/8.19.7 (linux amd64; Go 1.26.8)", since the requests
// are built by its esapi. The opensearch path sends none.
func esUserAgent() string {
	gov := runtime.Version()
	if v, ok := strings.CutPrefix(gov, "go"); ok && strings.Count(v, ".") >= 2 { // go1.26.8, not go1.27rc1
		gov = v
	}
	return "go-elasticsearch/" + esapi.Version + " (" + runtime.GOOS + " " + runtime.GOARCH + "; Go " + gov + ")"
}

// credentials are the secrets an output authenticates with, each from the
// config (where ${VAR} brings it from the environment) or from a file (a
// mounted Kubernetes Secret). They never go into an error or a log line.
type credentials struct {
	username, password, apiKey, bearer string
}

// loadCredentials resolves the *_file keys. Errors name the key and the
// file, never its content.
func loadCredentials(cfg config.Output) (credentials, error) {
	c := credentials{username: cfg.Username, password: cfg.Password, apiKey: cfg.APIKey, bearer: cfg.BearerToken}
	for _, f := range []struct {
		key, path string
		dst       *string
	}{
		{"password_file", cfg.PasswordFile, &c.password},
		{"api_key_file", cfg.APIKeyFile, &c.apiKey},
		{"bearer_token_file", cfg.BearerTokenFile, &c.bearer},
	} {
		if f.path == "" {
			continue
		}
		if *f.dst != "" {
			return c, fmt.Errorf("%s: set only one of it and the inline key", f.key)
		}
		raw, err := os.ReadFile(f.path)
		if err != nil {
			return c, fmt.Errorf("%s: %w", f.key, err)
		}
		// Secrets written with echo end in a newline that is no part of them.
		s := strings.TrimRight(string(raw), "\r\n")
		if s == "" {
			return c, fmt.Errorf("%s: file %q is empty", f.key, f.path)
		}
		*f.dst = s
	}
	return c, nil
}
