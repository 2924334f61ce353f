package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
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

// installTemplate puts the configured index template (template.file).
// It reports whether the template was installed.
func (o *Output) installTemplate(ctx context.Context) bool {
	t := o.template
	return o.install(ctx, "_index_template", t.name, t.path, t.body)
}

// installManaged puts the component template, then the index template
// that composes it, of the output's data streams. A refusal (say an
// operator's template of equal priority overlapping ours) is logged with
// the server's reason, and documents go out all the same.
func (o *Output) installManaged(ctx context.Context) bool {
	t := o.managed
	if !o.install(ctx, "_component_template", t.componentName, "(built in)", t.component) {
		return false
	}
	return o.install(ctx, "_index_template", t.indexName, "(built in)", t.index)
}

// install puts one template, trying again with backoff while the server
// cannot be reached (a few times: it is a convenience, not a condition of
// shipping). A store without the API (Elasticsearch before 7.8,
// VictoriaLogs) or one that refuses the template gets a clear error in the
// log, and the output goes on without it.
func (o *Output) install(ctx context.Context, api, name, file string, body []byte) bool {
	for attempt := 0; ; attempt++ {
		status, resp, err := o.put(ctx, "/"+api+"/"+name, body)
		switch {
		case err == nil && status >= 200 && status < 300:
			o.log.Info("template installed", "api", api, "template", name, "file", file)
			return true
		case err == nil && status != 429 && status < 500:
			o.log.Error("template not installed: the server refused it or has no "+api+" API (Elasticsearch 7.8+ and OpenSearch 1+ have it); sending documents without it",
				"api", api, "template", name, "file", file, "status", status, "response", snippet(resp))
			return false
		}
		if attempt+1 >= templateAttempts {
			o.log.Error("template not installed: server unreachable; sending documents without it",
				"api", api, "template", name, "attempts", attempt+1, "status", status, "error", err)
			return false
		}
		if !o.backoff.Wait(ctx, attempt, 0) {
			return false
		}
	}
}

func (o *Output) put(ctx context.Context, path string, body []byte) (int, []byte, error) {
	rctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPut, path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("put %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := o.client.Perform(req)
	if err != nil {
		return 0, nil, fmt.Errorf("put %s: %w", path, err)
	}
	defer res.Body.Close()
	resp, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return 0, nil, fmt.Errorf("read %s response: %w", path, err)
	}
	return res.StatusCode, resp, nil
}
