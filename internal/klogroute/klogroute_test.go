package klogroute

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"
)

// client-go's error on a response body whose context was cancelled, as
// it calls klog (rest/request.go), comes out as one JSON record of the
// handler given, at the level klog gave it.
func TestToKeepsLevelAndFields(t *testing.T) {
	var buf bytes.Buffer
	To(slog.NewJSONHandler(&buf, nil).WithAttrs([]slog.Attr{slog.String("component", "client-go")}))
	klog.ErrorS(errors.New("context canceled"), "Unexpected error when reading response body")
	klog.Flush()

	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec), "not one JSON record: %q", buf.String())
	require.Equal(t, "ERROR", rec["level"])
	require.Equal(t, "Unexpected error when reading response body", rec["msg"])
	require.Equal(t, "context canceled", rec["err"])
	require.Equal(t, "client-go", rec["component"])
}

// Demoted: nothing at the CLI's default level (Info), the record at
// Debug when the handler shows Debug.
func TestDemoted(t *testing.T) {
	var quiet, verbose bytes.Buffer
	To(Demoted(slog.NewTextHandler(&quiet, nil)))
	klog.ErrorS(errors.New("context canceled"), "Unexpected error when reading response body")
	klog.InfoS("watch closed")
	require.Empty(t, quiet.String())

	To(Demoted(slog.NewTextHandler(&verbose, &slog.HandlerOptions{Level: slog.LevelDebug})))
	klog.ErrorS(errors.New("context canceled"), "Unexpected error when reading response body")
	out := verbose.String()
	require.Equal(t, 1, strings.Count(out, "\n"), out)
	require.Contains(t, out, "level=DEBUG")
	require.Contains(t, out, `err="context canceled"`)
}
