package elasticsearch

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/vlstore"
)

const (
	shippedIndexTemplate      = "../../deploy/elasticsearch/index-template.json"
	shippedDataStreamTemplate = "../../deploy/elasticsearch/data-stream-template.json"
	shippedComponentTemplate  = "../../deploy/elasticsearch/component-template.json"
)

func TestDataStreamCreatesIntoItsName(t *testing.T) {
	f := newFaultyBulk(t)
	cfg := testConfig(f.srv.URL)
	cfg.DataStream = "logs-sluice.container_logs-default"
	cfg.Template = config.Template{File: shippedDataStreamTemplate, Name: "sluice-ds"}
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	// Records a day apart still go to the one data stream.
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 3, nil), newTestBatch(src, acks, 1, 86_400_000, 3, nil))
	acks.waitAcked(t, 0, 1)

	ops, err := parseBulkBody(f.lastBody(t))
	require.NoError(t, err)
	require.Len(t, ops, 6)
	for _, op := range ops {
		require.Equal(t, "create", op.Action)
		require.Equal(t, "logs-sluice.container_logs-default", op.Index)
	}
	want, err := os.ReadFile(shippedDataStreamTemplate)
	require.NoError(t, err)
	f.mu.Lock()
	defer f.mu.Unlock()
	require.JSONEq(t, string(want), string(f.templates["sluice-ds"]))
	require.Equal(t, 1, f.firstBulk, "the template is in place before the first document")
}

func TestTemplateFileChecked(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:9")
	cfg.Template = config.Template{File: "testdata/missing.json"}
	_, err := New(cfg, nil)
	require.ErrorContains(t, err, "template.file")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(dir+"/t.json", []byte(`{"mappings":{}}`), 0o600))
	cfg.Template.File = dir + "/t.json"
	_, err = New(cfg, nil)
	require.ErrorContains(t, err, "no index_patterns")
	cfg.Template.File = shippedIndexTemplate
	cfg.DataStream = "logs-%Y"
	_, err = New(cfg, nil)
	require.ErrorContains(t, err, "data_stream: must be a plain name")
}

// A store without _index_template gets a clear error in the log, and the
// documents go out anyway.
func TestTemplateSkippedWhenUnsupported(t *testing.T) {
	f := newFaultyBulk(t)
	f.noTemplates = true
	cfg := testConfig(f.srv.URL)
	cfg.Template = config.Template{File: shippedIndexTemplate, Name: "sluice-logs"}
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 5, nil))
	acks.waitAcked(t, 0)
	requireStoredOnce(t, f, src, 5, nil)
}

// VictoriaLogs answers PUT _index_template with a no-op success (for
// Beats): the install goes through and does not get in the way.
func TestTemplateAgainstVictoriaLogs(t *testing.T) {
	s := vlstore.Start(t)
	cfg := testConfig(s.URL)
	cfg.Headers = vlstore.Headers
	cfg.IDField = "sluice_id"
	cfg.Template = config.Template{File: shippedIndexTemplate, Name: "sluice-logs"}
	o, err := New(cfg, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.True(t, o.installTemplate(ctx))
	runOutput(t, o)
	src := testSource("api-1")
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 5, nil))
	acks.waitAcked(t, 0)
	rows, err := s.Query(ctx, "*")
	require.NoError(t, err)
	require.Len(t, rows, 5)
}

// An unreachable server gets a few tries, then the output goes on.
func TestTemplateUnreachableGivesUp(t *testing.T) {
	cfg := testConfig(deadURL(t))
	cfg.Template = config.Template{File: shippedIndexTemplate}
	o, err := New(cfg, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.False(t, o.installTemplate(ctx))
}
