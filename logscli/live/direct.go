package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sluicelog/sluice/internal/redact"
)

// directTransport dials agents straight; a tap answers its headers at
// once, so an agent that does not is hung.
var directTransport = func() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 15 * time.Second
	return tr
}()

// Direct is the tap of an agent reached by URL (--agent), e.g.
// http://127.0.0.1:2020, with the bearer token the agent's http.token_file
// holds, if any.
func Direct(agentURL, token string, query url.Values) (Target, error) {
	return DirectAt(agentURL, token, "tap", query)
}

// DirectAt is Direct for the agent's /api/v1/ endpoint named api (tap,
// status).
func DirectAt(agentURL, token, api string, query url.Values) (Target, error) {
	u, err := url.Parse(agentURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Target{}, fmt.Errorf("--agent %q: want an http(s) URL like http://127.0.0.1:2020", redact.URL(agentURL))
	}
	tapURL := strings.TrimRight(u.String(), "/") + "/api/v1/" + api
	if len(query) > 0 {
		tapURL += "?" + query.Encode()
	}
	client := &http.Client{Transport: directTransport}
	return Target{
		Name: u.Host,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, tapURL, nil)
			if err != nil {
				return nil, err
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := client.Do(req)
			if err != nil {
				var ue *url.Error
				if errors.As(err, &ue) {
					err = ue.Err // the URL is said already
				}
				return nil, fmt.Errorf("agent %s unreachable: %w", u.Host, err)
			}
			if resp.StatusCode == http.StatusOK {
				return resp.Body, nil
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			return nil, statusError(u.Host, resp.StatusCode, strings.TrimSpace(string(body)))
		},
	}, nil
}

// statusError words an agent's refusal; only a full house (429) and
// server trouble are worth retrying.
func statusError(agent string, code int, body string) error {
	switch {
	case code == http.StatusUnauthorized:
		return &FatalError{fmt.Errorf("agent %s: unauthorized (401): it wants a bearer token (--token-file)", agent)}
	case code == http.StatusForbidden:
		return &FatalError{fmt.Errorf("agent %s: forbidden (403): %s", agent, body)}
	case code == http.StatusTooManyRequests || code >= 500:
		return fmt.Errorf("agent %s: status %d: %s", agent, code, body)
	default:
		return &FatalError{fmt.Errorf("agent %s: status %d: %s", agent, code, body)}
	}
}
