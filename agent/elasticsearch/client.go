package elasticsearch

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	elasticsearch "github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/sluicelog/sluice/agent/config"
)

// newClient builds what sends the requests. For Elasticsearch (the
// default) that is the go-elasticsearch client, which refuses to talk to a
// server whose first successful answer lacks "X-Elastic-Product:
// Elasticsearch" (a guard against a wrong URL). OpenSearch never sends it,
// so compatibility: opensearch uses the same transport (connection pool,
// round robin over urls, auth) without the client and its product check.
// Nothing else differs: the bulk API, create, 409 and item errors are the
// same on both.
//
// Senders retry on their own terms (per item, with backoff, until
// shutdown), so the transport's retries are off; they would also copy
// every body. With several URLs the transport still takes them in turn
// and sets one that failed to connect or answer aside (for 60s, doubling),
// so a sender's next try goes to another.
func newClient(cfg config.Output, c credentials, header http.Header, tr http.RoundTripper) (esapi.Transport, error) {
	if cfg.Compatibility == "opensearch" {
		urls := make([]*url.URL, 0, len(cfg.URLs))
		for i, u := range cfg.URLs {
			p, err := url.Parse(strings.TrimRight(u, "/"))
			if err != nil { // not quoted: a URL may hold a password
				return nil, fmt.Errorf("urls[%d]: cannot parse the URL", i)
			}
			urls = append(urls, p)
		}
		return elastictransport.NewClient(
			elastictransport.WithURLs(urls...),
			elastictransport.WithBasicAuth(c.username, c.password),
			elastictransport.WithAPIKey(c.apiKey),
			elastictransport.WithServiceToken(c.bearer),
			elastictransport.WithHeader(header),
			elastictransport.WithTransport(tr),
			elastictransport.WithDisableRetry(),
		)
	}
	return elasticsearch.NewClient(elasticsearch.Config{
		Addresses: cfg.URLs, Username: c.username, Password: c.password, APIKey: c.apiKey,
		ServiceToken: c.bearer, // sent as "Authorization: Bearer …"
		Header:       header, Transport: tr, DisableRetry: true,
	})
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

// loadTLS builds the client TLS config; nil when the defaults do.
func loadTLS(t config.ClientTLS) (*tls.Config, error) {
	if t == (config.ClientTLS{}) {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // only when asked, for tests
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %q: no PEM certificate in it", t.CAFile)
		}
		c.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		if t.CertFile == "" || t.KeyFile == "" {
			return nil, fmt.Errorf("tls: cert_file and key_file go together")
		}
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			// The error of LoadX509KeyPair never quotes the key.
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
