package otlp

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkGzip is the sender's cost per record of gzipping a request
// (documents as the tail workload's, one pod), and the bytes per record
// before and after.
func BenchmarkGzip(bm *testing.B) {
	o, err := New(testConfig("http://127.0.0.1:1/v1/logs"), quietLogger())
	require.NoError(bm, err)
	w := o.NewWriter().(*writer)
	src := testSource("api-1")
	var docs []string
	for n := range 1024 {
		docs = append(docs, testDoc(src, n))
	}
	first := make(chan *request, 1)
	go func() {
		for req := range o.queue {
			select {
			case first <- req:
			default:
				o.release(req)
			}
		}
	}()
	defer close(o.queue)
	ctx := context.Background()
	require.NoError(bm, w.Write(ctx, batchOf(src, 0, docs...)))
	require.NoError(bm, w.Flush(ctx, true))
	req := <-first
	s := newSender(o)
	var out []byte
	bm.SetBytes(int64(len(req.body)))
	for bm.Loop() {
		out, err = s.encode(req)
		require.NoError(bm, err)
	}
	bm.ReportMetric(float64(bm.Elapsed().Nanoseconds())/float64(bm.N*req.records), "ns/record")
	bm.ReportMetric(float64(len(req.body))/float64(req.records), "raw-B/record")
	bm.ReportMetric(float64(len(out))/float64(req.records), "gzip-B/record")
}
