package elasticsearch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// serverInfo is what GET / says about the server
// (https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-info).
type serverInfo struct {
	known        bool   // a version was read
	distribution string // "opensearch" for OpenSearch, else ""
	major, minor int
	number       string
}

// atLeast reports whether the server is Elasticsearch major.minor or later.
func (s serverInfo) atLeast(major, minor int) bool {
	if !s.known || s.distribution != "" {
		return false
	}
	return s.major > major || s.major == major && s.minor >= minor
}

// dataStreams reports whether the server takes data streams the way
// sluice uses them: Elasticsearch 7.9 or later (7.9 brought the built-in
// logs-*-* template and data streams out of beta).
func (s serverInfo) dataStreams() bool { return s.atLeast(7, 9) }

// parseServerInfo reads the body of GET /.
func parseServerInfo(body []byte) (serverInfo, error) {
	var r struct {
		Version struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return serverInfo{}, fmt.Errorf("GET / answer is not JSON: %w", err)
	}
	info := serverInfo{number: r.Version.Number, distribution: strings.ToLower(r.Version.Distribution)}
	parts := strings.SplitN(r.Version.Number, ".", 3)
	if len(parts) < 2 {
		return info, fmt.Errorf("GET / answer has no version number")
	}
	var err1, err2 error
	info.major, err1 = strconv.Atoi(parts[0])
	info.minor, err2 = strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return info, fmt.Errorf("GET / answer has a bad version number %q", r.Version.Number)
	}
	info.known = true
	return info, nil
}

// detectServer asks GET / what the server is, trying again with backoff
// while it cannot be reached or answers 401, 429 or 5xx, until ctx ends
// (documents wait: their names depend on the answer). Another answer
// settles it: a 403 from Elasticsearch (an API key without the monitor
// privilege, which GET / needs) still carries X-Elastic-Product, which
// Elasticsearch sends since 7.14; anything else is a server of unknown
// version, which gets classic indices.
func (o *Output) detectServer(ctx context.Context) (serverInfo, bool) {
	for attempt := 0; ; attempt++ {
		status, header, body, err := o.get(ctx, "/")
		switch {
		case err == nil && status >= 200 && status < 300:
			info, perr := parseServerInfo(body)
			if perr != nil {
				o.log.Warn("cannot tell the server's version; using classic indices", "error", perr)
			}
			return info, true
		case err == nil && status == http.StatusForbidden && header.Get("X-Elastic-Product") == "Elasticsearch":
			o.log.Info("GET / refused (403: the credentials lack the monitor privilege); the server says it is Elasticsearch 7.14 or later")
			return serverInfo{known: true, major: 7, minor: 14, number: "7.14+"}, true
		case err == nil && status != http.StatusUnauthorized && status != http.StatusTooManyRequests && status < 500:
			o.log.Warn("GET / gave no version; using classic indices", "status", status, "response", snippet(body))
			return serverInfo{}, true
		}
		// Counted and stated like a failed bulk request: the server is
		// unreachable or refuses the credentials either way.
		o.requestFailed(requestCause(status, err), status, err, body)
		if attempt == 0 || attempt%10 == 9 {
			o.log.Warn("cannot ask the server its version yet; documents wait", "attempt", attempt+1, "status", status, "error", err)
		}
		if !o.backoff.Wait(ctx, attempt, 0) {
			return serverInfo{}, false
		}
	}
}

// get sends GET path and reads up to 1 MiB of the answer.
func (o *Output) get(ctx context.Context, path string) (int, http.Header, []byte, error) {
	rctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, path, nil)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("get %s: %w", path, err)
	}
	res, err := o.client.Perform(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("get %s: %w", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read %s answer: %w", path, err)
	}
	return res.StatusCode, res.Header, body, nil
}
