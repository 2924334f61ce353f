package transform

import (
	"strconv"
	"testing"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

// fivePass are five transforms that every benchmark record passes: a
// field regex, a namespace keep, a label selector, a per-pod throttle far
// above the rate, and redact/remove edits that find nothing to change.
const fivePass = `  - { type: drop, name: debug, field: level, pattern: "^(debug|trace)$" }
  - { type: keep, name: ns, namespaces: [payments, web] }
  - { type: drop, name: batch, labels: "tier=batch" }
  - { type: throttle, name: pods, rate: 1000000000, burst: 1000000000 }
  - { type: fields, name: scrub, remove: [password], redact: [{ field: msg, pattern: "token=\\S+", replacement: "token=***" }] }
`

const benchLine = `{"level":"info","ts":"2026-11-25T10:00:00.123Z","logger":"checkout.api","msg":"order placed","order_id":123456,"amount":42.5,"currency":"EUR","user":{"id":"u-8812","tier":"gold"},"latency_ms":12.7,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`

// benchBatch is a batch of 100 JSON lines of one pod.
func benchBatch() *record.Batch {
	b := record.NewBatch(apiSource, nil)
	for i := range 100 {
		b.Add(record.Record{Time: 1_764_064_800_123_456_789 + int64(i), Offset: int64(i * 300), Stream: stream.Stdout}, []byte(benchLine))
	}
	return b
}

// The worker's cost per record, encoding included, without and with the
// five passing transforms (records/op is 100):
//
//	go test -run '^$' -bench 'BenchmarkPipelineTransforms' -count 10 -cpu 2 -benchmem ./agent/transform/
func BenchmarkPipelineTransforms(b *testing.B) {
	for _, tc := range []struct{ name, transforms string }{{"none", ""}, {"five-pass", fivePass}} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(&testing.T{}, tc.transforms)
			f.chain, _ = New(f.cfg.Transforms, Options{})
			w := f.chain.NewWorker()
			bt := benchBatch()
			b.ReportAllocs()
			b.SetBytes(int64(100 * len(benchLine)))
			for b.Loop() {
				f.enc.EncodeBatch(bt)
				w.Transform(bt)
			}
			if len(bt.Records) != 100 {
				b.Fatalf("%d records passed", len(bt.Records))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/record")
		})
	}
}

// Transforms alone, per kind, over an encoded batch of 100 records.
//
//	go test -run '^$' -bench 'BenchmarkTransform' -count 10 -cpu 2 -benchmem ./agent/transform/
func BenchmarkTransform(b *testing.B) {
	for _, tc := range []struct{ name, transforms string }{
		{"drop-field-pass", `  - { type: drop, field: level, pattern: "^debug$" }` + "\n"},
		{"drop-labels-pass", `  - { type: drop, labels: "tier=batch" }` + "\n"},
		{"throttle-pod-pass", `  - { type: throttle, rate: 1000000000, burst: 1000000000 }` + "\n"},
		{"throttle-field-pass", `  - { type: throttle, key: field, field: user.id, rate: 1000000000, burst: 1000000000 }` + "\n"},
		{"fields-redact-nomatch", `  - { type: fields, redact: [{ field: msg, pattern: "token=", replacement: x }] }` + "\n"},
		{"fields-add", `  - { type: fields, add: { cluster: prod } }` + "\n"},
		{"fields-dedot", `  - { type: fields, dedot: [kubernetes.labels] }` + "\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(&testing.T{}, tc.transforms)
			f.chain, _ = New(f.cfg.Transforms, Options{})
			w := f.chain.NewWorker()
			bt := benchBatch()
			f.enc.EncodeBatch(bt)
			docs, ends := append([]byte(nil), bt.Docs...), append([]int32(nil), bt.DocEnds...)
			b.ReportAllocs()
			for b.Loop() {
				bt.Docs = append(bt.Docs[:0], docs...)
				bt.DocEnds = append(bt.DocEnds[:0], ends...)
				w.Transform(bt)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/record")
		})
	}
}

// Neither passing, dropping nor in-place or length-changing edits
// allocate once the worker's buffers have grown.
func TestTransformAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates in sync.Pool")
	}
	for _, tc := range []struct{ name, transforms string }{
		{"five-pass", fivePass},
		{"drop-half", `  - { type: drop, field: order_id, pattern: "[13579]$" }` + "\n"},
		{"throttle-drops", `  - { type: throttle, rate: 1, burst: 10 }` + "\n"},
		{"throttle-field-drops", `  - { type: throttle, key: field, field: order_id, rate: 1, burst: 1 }` + "\n"},
		{"fields-add-rename-remove", `  - { type: fields, add: { cluster: prod }, rename: { msg: message }, remove: [ts], dedot: [kubernetes.labels] }` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.transforms)
			bt := record.NewBatch(apiSource, nil)
			for i := range 100 {
				bt.Add(record.Record{Time: 1, Offset: int64(i)}, []byte(`{"level":"info","order_id":`+strconv.Itoa(i%20)+`,"msg":"m","ts":1}`))
			}
			f.enc.EncodeBatch(bt)
			recs := append([]record.Record(nil), bt.Records...)
			docs, ends := append([]byte(nil), bt.Docs...), append([]int32(nil), bt.DocEnds...)
			run := func() {
				bt.Records = append(bt.Records[:0], recs...)
				bt.Docs = append(bt.Docs[:0], docs...)
				bt.DocEnds = append(bt.DocEnds[:0], ends...)
				f.w.Transform(bt)
			}
			run()
			if n := testing.AllocsPerRun(50, run); n != 0 {
				t.Fatalf("%.1f allocations per batch of 100", n)
			}
		})
	}
}
