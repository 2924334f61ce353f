package document

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

func TestAppendRescue(t *testing.T) {
	f := func(r record.Record, src *record.Source, reason string, want map[string]any) {
		t.Helper()
		doc := AppendRescue([]byte("keep"), src.Meta, &r, reason)
		require.Equal(t, "keep", string(doc[:4]), "appends")
		require.True(t, json.Valid(doc[4:]), "invalid JSON: %s", doc[4:])
		var m map[string]any
		require.NoError(t, json.Unmarshal(doc[4:], &m))
		require.Equal(t, want, m)
	}
	k8s := map[string]any{"namespace_name": "ns", "pod_name": "p", "host": "n1"}
	// A JSON line is not merged: it stays whole in log.
	f(record.Record{Time: 1_764_064_800_123_456_789, Line: []byte(`{"status":"ok","n":"x"}`), Stream: stream.Stderr},
		&record.Source{Meta: meta}, `mapper_parsing_exception: failed to parse field [status] of type [long]`,
		map[string]any{
			"@timestamp": "2025-11-25T10:00:00.123456789Z", "stream": "stderr",
			"log":        `{"status":"ok","n":"x"}`,
			"sluice":     map[string]any{"error": "mapper_parsing_exception: failed to parse field [status] of type [long]"},
			"kubernetes": k8s,
		})
	// Syslog members are kept, flags too, and quotes in the reason are escaped.
	f(record.Record{Time: 1_764_064_800_000_000_000, Line: []byte("msg \xff"), Flags: record.Truncated | record.Malformed,
		Extra: []byte(`"syslog":{"app_name":"cron"},"source_ip":"10.0.0.1"`)},
		&record.Source{}, `illegal_argument_exception: bad "value"`,
		map[string]any{
			"@timestamp": "2025-11-25T10:00:00.000000000Z", "log": "msg \ufffd",
			"syslog": map[string]any{"app_name": "cron"}, "source_ip": "10.0.0.1",
			"sluice": map[string]any{"error": `illegal_argument_exception: bad "value"`, "truncated": true, "malformed": true},
		})
}
