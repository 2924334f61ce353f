package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// templateAttempts bounds the tries of the template install when the
// server cannot be reached: documents are sent either way.
const templateAttempts = 5

// indexTemplateFile is an index template to install at startup with
// PUT _index_template/<name>.
type indexTemplateFile struct {
	name string
	path string
	body []byte
}

// loadTemplate reads and checks a template file.
func loadTemplate(name, path string) (*indexTemplateFile, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("template.file: %w", err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, fmt.Errorf("template.file %q: not a JSON object: %w", path, err)
	}
	if _, ok := obj["index_patterns"]; !ok {
		return nil, fmt.Errorf("template.file %q: no index_patterns: not a composable index template", path)
	}
	return &indexTemplateFile{name: name, path: path, body: body}, nil
}

// installTemplate puts the configured index template, trying again with
// backoff while the server cannot be reached (a few times: it is a
// convenience, not a condition of shipping). A store without
// _index_template (Elasticsearch before 7.8, VictoriaLogs) or one that
// refuses the template gets a clear error in the log, and the output goes
// on without it. It reports whether the template was installed.
func (o *Output) installTemplate(ctx context.Context) bool {
	t := o.template
	for attempt := 0; ; attempt++ {
		status, body, err := o.putTemplate(ctx, t)
		switch {
		case err == nil && status >= 200 && status < 300:
			o.log.Info("index template installed", "template", t.name, "file", t.path)
			return true
		case err == nil && status != 429 && status < 500:
			o.log.Error("index template not installed: the server refused it or has no _index_template API (Elasticsearch 7.8+ and OpenSearch 1+ have it); sending documents without it",
				"template", t.name, "file", t.path, "status", status, "response", snippet(body))
			return false
		}
		if attempt+1 >= templateAttempts {
			o.log.Error("index template not installed: server unreachable; sending documents without it",
				"template", t.name, "attempts", attempt+1, "status", status, "error", err)
			return false
		}
		if !o.backoff.wait(ctx, attempt, 0) {
			return false
		}
	}
}

func (o *Output) putTemplate(ctx context.Context, t *indexTemplateFile) (int, []byte, error) {
	rctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	res, err := esapi.IndicesPutIndexTemplateRequest{Name: t.name, Body: bytes.NewReader(t.body)}.Do(rctx, o.client)
	if err != nil {
		return 0, nil, fmt.Errorf("put _index_template/%s: %w", t.name, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return 0, nil, fmt.Errorf("read _index_template/%s response: %w", t.name, err)
	}
	return res.StatusCode, body, nil
}
