package elasticsearch

import (
	"strings"
	"testing"
)

// BenchmarkParseBulkResponse reads the answer to a 5000-document request:
// all stored (items counted, not read), and with one item in 100 refused;
// and all stored as a server answers under our filter_path (bulkPath).
//
//	go test -run '^$' -bench BenchmarkParseBulkResponse -benchmem -count 6 ./agent/elasticsearch/ | tee parse.txt
func BenchmarkParseBulkResponse(b *testing.B) {
	const n = 5000
	okItem := `{"create":{"_index":"logs-payments-2026.11.25","_id":"q1ZbVfJ7wT1aHj4mnUCG7A","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":7,"_primary_term":1,"status":201}}`
	badItem := `{"create":{"_index":"logs-payments-2026.11.25","_id":"q1ZbVfJ7wT1aHj4mnUCG7A","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [n] of type [long]"}}}`
	build := func(errors bool, okItem string) []byte {
		var sb strings.Builder
		sb.WriteString(`{"took":30,"errors":`)
		if errors {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
		sb.WriteString(`,"items":[`)
		for i := range n {
			if i > 0 {
				sb.WriteByte(',')
			}
			if errors && i%100 == 0 {
				sb.WriteString(badItem)
			} else {
				sb.WriteString(okItem)
			}
		}
		sb.WriteString("]}")
		return []byte(sb.String())
	}
	for _, v := range []struct {
		name   string
		errors bool
		ok     string
	}{{"all_stored", false, okItem}, {"some_refused", true, okItem}, {"all_stored_filtered", false, string(createdItem)}} {
		b.Run(v.name, func(b *testing.B) {
			body := build(v.errors, v.ok)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var dst []outcome
			for b.Loop() {
				var err error
				dst, err = parseBulkResponse(dst[:0], body, n)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
