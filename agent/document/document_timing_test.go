package document

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

// The JSON merge: one 270-byte JSON app line and one plain line, encoded
// into a reused buffer; the baseline decodes the line into a map, adds the
// record's fields and marshals it, as a map-based pipeline does.
//
//	go test -run '^$' -bench 'BenchmarkEncode' -count 6 -benchmem ./agent/document/ | tee encode.txt
func BenchmarkEncode(b *testing.B) {
	src := &record.Source{Meta: meta}
	cases := map[string]string{
		"json":  `{"level":"info","ts":"2026-11-25T10:00:00.123Z","logger":"checkout.api","msg":"order placed","order_id":123456,"amount":42.5,"currency":"EUR","user":{"id":"u-8812","tier":"gold"},"latency_ms":12.7,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`,
		"plain": `10.0.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET /api/v1/orders?page=2 HTTP/1.1" 200 1234 "-" "Mozilla/5.0 (X11; Linux x86_64)"`,
	}
	for name, line := range cases {
		b.Run(name, func(b *testing.B) {
			e := New(jsonMerge, func() int64 { return 1 })
			r := record.Record{Time: 1_764_064_800_123_456_789, Line: []byte(line), Stream: stream.Stdout}
			var dst []byte
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				dst = e.Append(dst[:0], src, &r)
			}
		})
	}
	b.Run("json/encoding-json-map", func(b *testing.B) {
		line := []byte(cases["json"])
		b.ReportAllocs()
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			m := map[string]any{}
			if err := json.Unmarshal(line, &m); err != nil {
				b.Fatal(err)
			}
			m["@timestamp"] = "2025-11-25T10:00:00.123456789Z"
			m["stream"] = "stdout"
			m["kubernetes"] = json.RawMessage(meta)
			if _, err := json.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestEncodeAllocatesNothing(t *testing.T) {
	e := New(jsonMerge, func() int64 { return 1 })
	src := &record.Source{Meta: meta}
	r := record.Record{Time: 1, Line: []byte(`{"level":"info","msg":"hi","n":[1,2,{"x":null}]}`), Stream: stream.Stdout}
	dst := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { dst = e.Append(dst[:0], src, &r) }); n != 0 {
		t.Fatalf("Append allocates %.1f times per record", n)
	}
}

// orderedBatch returns a batch of n records of line, in time order from
// 2025-11-25T10:00:00.123456789Z, about 800 a second.
func orderedBatch(n int, line string) *record.Batch {
	b := record.NewBatch(&record.Source{Meta: meta}, nil)
	ns := int64(1_764_064_800_123_456_789)
	for i := range n {
		b.Add(record.Record{Time: ns, Stream: stream.Stdout}, []byte(line))
		ns += 1_234_567 + int64(i%7)*100_003
	}
	return b
}

// BenchmarkEncodeBatch encodes batches of time-ordered records (the
// @timestamp of most records is in the second of the one before), the
// lines of BenchmarkEncode; records/op is the batch size, and ns/op is per
// batch.
//
//	go test -run '^$' -bench 'BenchmarkEncodeBatch' -count 6 -benchmem ./agent/document/ | tee batch.txt
func BenchmarkEncodeBatch(b *testing.B) {
	lines := map[string]string{
		"json":  `{"level":"info","ts":"2026-11-25T10:00:00.123Z","logger":"checkout.api","msg":"order placed","order_id":123456,"amount":42.5,"currency":"EUR","user":{"id":"u-8812","tier":"gold"},"latency_ms":12.7,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`,
		"plain": `10.0.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET /api/v1/orders?page=2 HTTP/1.1" 200 1234 "-" "Mozilla/5.0 (X11; Linux x86_64)"`,
	}
	for _, name := range []string{"json", "plain"} {
		for _, n := range []int{1, 16, 256} {
			b.Run(fmt.Sprintf("%s/records=%d", name, n), func(b *testing.B) {
				e := New(jsonMerge, func() int64 { return 1 })
				batch := orderedBatch(n, lines[name])
				defer batch.Discard()
				b.ReportAllocs()
				b.SetBytes(int64(n * len(lines[name])))
				for b.Loop() {
					e.EncodeBatch(batch)
				}
			})
		}
	}
}
