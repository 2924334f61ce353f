package document

import (
	"testing"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/transform"
)

// FuzzTransformsConfig: whatever the transforms section holds, config.Parse
// refuses it with a message or hands typed, compiled transforms that the
// encoder and the filter chain build and run without a panic (New panics
// on a regex or time layout Parse left uncompiled).
func FuzzTransformsConfig(f *testing.F) {
	for _, s := range []string{
		"  - { type: json, field: log, time: { field: ts, layout: rfc3339 } }\n",
		"  - { type: regex, pattern: '^(?P<a>\\w+)', types: { a: int } }\n  - { type: level }\n",
		"  - { type: regex, preset: nginx, normalize_level: true }\n",
		"  - { type: logfmt, target: app }\n  - { type: drop, field: level, pattern: debug }\n",
		"  - { type: throttle, rate: 2 }\n  - { type: fields, add: { a: b }, dedot: [x] }\n",
		"  - { type: keep, namespaces: [a], match: { inputs: [c] } }\n",
		"  - { type: level, field: x }\n",
		"  - type: json\n    time: { layout: '%Q' }\n",
		"  - { type: xml }\n",
		"  - [1, 2]\n",
	} {
		f.Add(s)
	}
	base := "data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x/*.log] }]\noutputs: [{ name: o, type: console }]\nkubernetes: { enabled: false }\ntransforms:\n"
	f.Fuzz(func(t *testing.T, entries string) {
		cfg, err := config.Parse([]byte(base+entries), func(string) (string, bool) { return "", false })
		if err != nil {
			return
		}
		e := New(cfg.Transforms, func() int64 { return 1 })
		chain, err := transform.New(cfg.Transforms, transform.Options{LookupEnv: func(string) (string, bool) { return "v", true }})
		if err != nil {
			t.Fatalf("Parse accepted transforms the chain refuses: %v\n%s", err, entries)
		}
		b := record.NewBatch(&record.Source{Input: "c"}, nil)
		b.Add(record.Record{Time: 1}, []byte(`{"level":"debug","ts":"2026-01-01T00:00:00Z","a":"1"}`))
		b.Add(record.Record{Time: 2}, []byte(`level=info msg=x`))
		e.EncodeBatch(b)
		chain.NewWorker().Transform(b)
	})
}
