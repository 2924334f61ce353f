package document

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

// The read time encode uses: 2025-11-25T10:00:00.123456789Z.
const readTime = "2025-11-25T10:00:00.123456789Z"

func TestTimeFromPresetField(t *testing.T) {
	tr := transforms("{ type: regex, preset: nginx }")
	m := encode(t, tr, `10.0.0.2 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "curl/8.0"`, 0)
	require.Equal(t, "2016-12-07T10:05:07.000000000Z", m["@timestamp"], "the preset's own time layout")
	require.Equal(t, "07/Dec/2016:11:05:07 +0100", m["time"], "the field is kept")
	require.NotContains(t, m, "sluice")
}

func TestTimeFallbackFlaggedAndCounted(t *testing.T) {
	tr := transforms("{ type: json, time: { field: ts, layout: epoch_ms } }")
	e := New(tr, func() int64 { return 1 })
	for _, c := range []struct {
		line, want string
		fallback   bool
	}{
		{`{"ts":1700000000123,"msg":"a"}`, "2023-11-14T22:13:20.123000000Z", false},
		{`{"ts":"1700000000123.5","msg":"a"}`, "2023-11-14T22:13:20.123500000Z", false},
		{`{"msg":"no ts"}`, readTime, true},
		{`{"ts":"yesterday","msg":"a"}`, readTime, true},
		{`{"ts":{"nested":1}}`, readTime, true},
	} {
		m := encode(t, tr, c.line, 0)
		require.Equal(t, c.want, m["@timestamp"], c.line)
		if c.fallback {
			require.Equal(t, map[string]any{"time_fallback": true}, m["sluice"], c.line)
		} else {
			require.NotContains(t, m, "sluice", c.line)
		}
		doc := e.Append(nil, &record.Source{}, &record.Record{Time: 1_764_064_800_123_456_789, Line: []byte(c.line)})
		require.Contains(t, string(doc), c.want)
	}
	require.Equal(t, int64(3), e.TimeFallbacks())

	// A line no parser takes has no time field to miss.
	m := encode(t, tr, `plain text`, record.Truncated)
	require.Equal(t, readTime, m["@timestamp"])
	require.Equal(t, map[string]any{"truncated": true}, m["sluice"])
}

func TestTimeUnderTarget(t *testing.T) {
	tr := transforms("{ type: logfmt, target: app, time: { field: time, layout: rfc3339 } }")
	m := encode(t, tr, `time=2023-10-08T12:13:14.5-07:00 level=INFO msg=hi`, 0)
	require.Equal(t, "2023-10-08T19:13:14.500000000Z", m["@timestamp"])
	require.Equal(t, "INFO", m["app"].(map[string]any)["level"], "no normalisation unless asked")
}

func TestLevelNormalised(t *testing.T) {
	f := func(tr []config.Transform, line string, want map[string]any, absent ...string) {
		t.Helper()
		m := encode(t, tr, line, 0)
		for k, v := range want {
			require.Equal(t, v, m[k], "%s in %s", k, line)
		}
		for _, k := range absent {
			require.NotContains(t, m, k, line)
		}
	}
	js := transforms("{ type: json, normalize_level: true }")
	f(js, `{"lvl":"WARNING","msg":"disk"}`, map[string]any{"level": "warn", "msg": "disk"}, "lvl")
	f(js, `{"severity":"Err","msg":"x"}`, map[string]any{"level": "error"}, "severity")
	f(js, `{"level":"Notice","severity":"ERROR"}`, map[string]any{"level": "notice", "severity": "ERROR"})
	f(js, `{"log.level":"INFO"}`, map[string]any{"level": "info"}, "log.level")
	f(js, `{"level":30,"msg":"pino"}`, map[string]any{"level": "info"})
	f(js, `{"level":35}`, map[string]any{"level": 35.0})
	f(js, `{"level" : "D" , "n":{"level":"X"}}`, map[string]any{"level": "debug", "n": map[string]any{"level": "X"}})
	f(js, `{"level":"WA\u0052N"}`, map[string]any{"level": "WARN"}, "escapes are left alone")
	f(js, `{"msg":"no level"}`, map[string]any{"msg": "no level"}, "level")
	// slog text through logfmt.
	f(transforms("{ type: logfmt, normalize_level: true }"), `time=2023-10-08T12:13:14Z level=WARN msg="low disk"`,
		map[string]any{"level": "warn", "msg": "low disk"})
	// type level: every parser, klog's I/W/E/F included.
	all := transforms("{ type: json }", "{ type: regex, preset: klog }", "{ type: level }")
	f(all, `E0517 15:04:22.619632 1 a.go:1] boom`, map[string]any{"level": "error", "message": "boom"}, "severity")
	f(all, `F0517 15:04:22.619632 1 a.go:1] dead`, map[string]any{"level": "fatal"})
	f(all, `{"level":"Warning"}`, map[string]any{"level": "warn"})
}

func TestLevelForSelectedParser(t *testing.T) {
	e := New(transforms("{ type: level }"), func() int64 { return 1 })
	b := record.NewBatch(&record.Source{Meta: meta}, nil)
	b.Parser = "slog"
	b.Add(record.Record{Time: 1}, []byte(`time=2023-10-08T12:13:14.123Z level=ERROR msg="db down" err="dial tcp: timeout"`))
	e.EncodeBatch(b)
	require.JSONEq(t, `{"@timestamp":"2023-10-08T12:13:14.123000000Z","level":"error","msg":"db down","err":"dial tcp: timeout","time":"2023-10-08T12:13:14.123Z","kubernetes":`+string(meta)+`}`, string(b.Doc(0)))
}

func TestTimeAndLevelAllocatesNothing(t *testing.T) {
	tr := transforms("{ type: json, normalize_level: true, time: { field: time, layout: rfc3339 } }")
	e := New(tr, func() int64 { return 1 })
	src := &record.Source{Meta: meta}
	line := []byte(`{"time":"2026-11-25T10:00:00.123Z","lvl":"WARNING","msg":"disk low","n":3}`)
	r := record.Record{Time: 1}
	dst := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(100, func() {
		r.Line = append(r.Line[:0], line...) // the level is rewritten in dst only
		dst = e.Append(dst[:0], src, &r)
	})
	require.Zero(t, n)
	require.Contains(t, string(dst), `"@timestamp":"2026-11-25T10:00:00.123000000Z"`)
	require.Contains(t, string(dst), `"level":"warn"`)
}

// BenchmarkTimeAndLevel: a JSON line merged plain, then with a time field
// and level normalisation (the extra pass over the members).
//
//	go test -run '^$' -bench 'BenchmarkTimeAndLevel' -count 6 -benchmem ./agent/document | tee fields.txt
func BenchmarkTimeAndLevel(b *testing.B) {
	line := []byte(`{"time":"2026-11-25T10:00:00.123Z","lvl":"WARNING","msg":"disk low on /var/lib/kubelet","node":"n1","free_bytes":123456789}`)
	for _, c := range []struct {
		name string
		tr   []config.Transform
	}{
		{"json", transforms("{ type: json }")},
		{"json+time+level", transforms("{ type: json, normalize_level: true, time: { field: time, layout: rfc3339 } }")},
	} {
		e := New(c.tr, func() int64 { return 1 })
		src := &record.Source{Meta: meta}
		r := record.Record{Time: 1}
		dst := make([]byte, 0, 4096)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				r.Line = append(r.Line[:0], line...)
				dst = e.Append(dst[:0], src, &r)
			}
		})
	}
}
