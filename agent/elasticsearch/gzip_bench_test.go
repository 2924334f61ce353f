package elasticsearch

import (
	"context"
	"testing"
)

// BenchmarkGzip is a sender's cost per document of compressing a bulk
// body (bulk.compress), and the bytes per document before and after.
//
//	go test -run '^$' -bench BenchmarkGzip -count 6 ./agent/elasticsearch/
func BenchmarkGzip(b *testing.B) {
	w := benchWriter(b, true, "")
	batch := benchBatch(2000)
	if err := w.Write(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
	body := w.req.body
	docs := len(w.req.items)
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Bulk.Compress = true
	o, err := New(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := newSender(o)
	var out []byte
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		out = s.gzip(body)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*docs), "ns/doc")
	b.ReportMetric(float64(len(body))/float64(docs), "raw-B/doc")
	b.ReportMetric(float64(len(out))/float64(docs), "gzip-B/doc")
}
