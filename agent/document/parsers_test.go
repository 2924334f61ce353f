package document

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

func TestLogfmtMerge(t *testing.T) {
	tr := transforms("{ type: logfmt, field: log }")
	m := encode(t, tr, `level=info msg="hello world" retry`+"\n", 0)
	require.Equal(t, "info", m["level"])
	require.Equal(t, "hello world", m["msg"])
	require.Equal(t, true, m["retry"])
	require.Equal(t, "stdout", m["stream"])
	require.NotContains(t, m, "log")
	require.Contains(t, m, "kubernetes")

	// Keys that clash with the document's, or repeat, go under "logfmt".
	m = encode(t, tr, `log=x stream=y a=1`, 0)
	require.Equal(t, map[string]any{"log": "x", "stream": "y", "a": "1"}, m["logfmt"])
	require.Equal(t, "stdout", m["stream"])
	m = encode(t, tr, `a=1 a=2`, 0)
	require.Contains(t, m, "logfmt") // encoding/json keeps the last of a repeated key
	require.NotContains(t, m, "a")

	// Not logfmt: the line stays in log.
	for _, line := range []string{"plain text", `a="open`, ""} {
		m = encode(t, tr, line, 0)
		require.Equal(t, line, m["log"], "line %q", line)
	}

	m = encode(t, transforms("{ type: logfmt, target: app, keep_original: true }"), `log=x`, 0)
	require.Equal(t, map[string]any{"log": "x"}, m["app"])
	require.Equal(t, "log=x", m["log"])

	// A malformed record is not parsed.
	m = encode(t, tr, `a=1`, record.Malformed)
	require.Equal(t, "a=1", m["log"])
}

func TestRegexMerge(t *testing.T) {
	m := encode(t, transforms("{ type: regex, field: log, preset: klog }"), "I0517 15:04:22.619642  952452992 pod.go:259] started\n", 0)
	require.Equal(t, "I", m["severity"])
	require.Equal(t, float64(259), m["line"])
	require.Equal(t, "started", m["message"])
	require.NotContains(t, m, "log")

	m = encode(t, transforms("{ type: regex, preset: nginx }"), `1.2.3.4 - - [07/Dec/2016:11:05:07 +0100] "GET / HTTP/1.1" 200 - "-" "curl/8"`, 0)
	require.Equal(t, float64(200), m["status"])
	require.NotContains(t, m, "bytes", `"-" is not an int: left out`)

	// A group named like a reserved key puts every match under "regex".
	tr := transforms(`{ type: regex, pattern: '^(?P<log>\w+) (?P<n__int>\d+)$' }`)
	m = encode(t, tr, "hello 7", 0)
	require.Equal(t, map[string]any{"log": "hello", "n": float64(7)}, m["regex"])
	m = encode(t, tr, "no match here", 0)
	require.Equal(t, "no match here", m["log"])

	// No group took part: the line parsed, there is nothing to merge.
	m = encode(t, transforms(`{ type: regex, pattern: '^x(?P<a>y)?$' }`), "x", 0)
	require.NotContains(t, m, "log")
	require.NotContains(t, m, "a")

	// A regex or a time layout not compiled (a config built by hand that
	// skipped Compile) is a caller's bug, never a transform silently left
	// out or compiled a second time.
	require.Panics(t, func() { New([]config.Transform{config.NewTransform(&config.Regex{Pattern: `(`})}, nil) })
	require.Panics(t, func() {
		New([]config.Transform{config.NewTransform(&config.JSON{Time: &config.TimeField{Field: "t", Layout: "rfc3339"}})}, nil)
	})
}

func TestFirstParserThatSucceeds(t *testing.T) {
	tr := transforms("{ type: json }", `{ type: regex, pattern: '^(?P<word>[a-z]+)$' }`, "{ type: logfmt }", "{ type: regex, preset: klog }")
	m := encode(t, tr, `{"level":"info"}`, 0)
	require.Equal(t, "info", m["level"])
	m = encode(t, tr, `hello`, 0)
	require.Equal(t, "hello", m["word"])
	m = encode(t, tr, `level=warn`, 0)
	require.Equal(t, "warn", m["level"])
	require.NotContains(t, m, "word")
	m = encode(t, tr, `W0517 15:04:22.619642 1 a.go:1] disk low`, 0)
	require.Equal(t, "W", m["severity"])
	m = encode(t, tr, `Hello, World`, 0)
	require.Equal(t, "Hello, World", m["log"])
}

// TestParsersRunInListOrder: the list is the order parsers are tried in;
// json has no precedence of its own.
func TestParsersRunInListOrder(t *testing.T) {
	tr := transforms(`{ type: regex, pattern: '^(?P<raw>\{.*)$' }`, "{ type: json }")
	m := encode(t, tr, `{"level":"info"}`, 0)
	require.Equal(t, `{"level":"info"}`, m["raw"])
	require.NotContains(t, m, "level")
	m = encode(t, tr[1:], `{"level":"info"}`, 0)
	require.Equal(t, "info", m["level"])
}

func TestLogfmtEncodeAllocatesNothing(t *testing.T) {
	e := New(transforms("{ type: json }", "{ type: logfmt }"), func() int64 { return 1 })
	src := &record.Source{Meta: meta}
	r := record.Record{Time: 1, Line: []byte(`level=info msg="hello \"world\"" n=3 log=clash retry`)}
	dst := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { dst = e.Append(dst[:0], src, &r) }); n != 0 {
		t.Fatalf("Append allocates %.1f times per record", n)
	}
}
