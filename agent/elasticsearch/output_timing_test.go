package elasticsearch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
)

// fastBulk is a fast fake _bulk endpoint for benchmarks: it reads the body
// (gunzipping it when asked), counts documents and answers a 201 create
// for each, from pooled buffers. It stores nothing.
type fastBulk struct {
	srv  *httptest.Server
	docs atomic.Int64
	gzs  sync.Pool // *gzip.Reader
	brs  sync.Pool // *bufio.Reader
	outs sync.Pool // *[]byte
}

func newFastBulk(tb testing.TB) *fastBulk {
	f := &fastBulk{}
	f.brs.New = func() any { return bufio.NewReaderSize(nil, 64<<10) }
	f.outs.New = func() any { b := make([]byte, 0, 64<<10); return &b }
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(f.srv.Close)
	return f
}

func (f *fastBulk) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, _ := f.gzs.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(r.Body)
		} else {
			err = zr.Reset(r.Body)
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		defer f.gzs.Put(zr)
		body = zr
	}
	br := f.brs.Get().(*bufio.Reader)
	br.Reset(body)
	defer f.brs.Put(br)
	lines := 0
	for {
		line, err := br.ReadSlice('\n')
		if len(bytes.TrimSpace(line)) > 0 && err != bufio.ErrBufferFull {
			lines++
		}
		if err != nil && err != bufio.ErrBufferFull {
			break
		}
	}
	items := lines / 2
	bp := f.outs.Get().(*[]byte)
	out := append((*bp)[:0], `{"took":1,"errors":false,"items":[`...)
	for i := range items {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"create":{"_index":"x","status":201,"result":"created"}}`...)
	}
	out = append(out, "]}"...)
	_, _ = w.Write(out)
	*bp = out
	f.outs.Put(bp)
	f.docs.Add(int64(items))
}

// countAcks counts acked batches and pokes tick after each.
type countAcks struct {
	n    atomic.Int64
	tick chan struct{}
}

func (a *countAcks) Ack(*record.Batch) {
	a.n.Add(1)
	select {
	case a.tick <- struct{}{}:
	default:
	}
}

// wait waits until n batches are acked.
func (a *countAcks) wait(tb testing.TB, n int64) {
	deadline := time.After(time.Minute)
	for a.n.Load() < n {
		select {
		case <-a.tick:
		case <-deadline:
			tb.Fatalf("acked %d of %d batches", a.n.Load(), n)
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkOutput runs the whole output (writer, senders, HTTP client,
// response parsing, acks) against fastBulk on 127.0.0.1, one 500-record
// batch of ~350-byte documents per op, bulk.workers 2, max_bytes 5MiB.
// CPU is the process's (output and fake together, from getrusage); the
// baseline sub-benchmark posts the same bodies, pre-encoded, with a plain
// http.Client from GOMAXPROCS goroutines, to show what the fake and
// net/http cost alone.
//
//	go test -run '^$' -bench BenchmarkOutput -count 6 ./agent/elasticsearch/ | tee output.txt
func BenchmarkOutput(b *testing.B) {
	const per = 500
	tmpl := benchBatch(per)
	src := tmpl.Source
	for _, gz := range []bool{false, true} {
		name := "gzip=false"
		if gz {
			name = "gzip=true"
		}
		b.Run(name, func(b *testing.B) {
			f := newFastBulk(b)
			cfg := testConfig(f.srv.URL)
			cfg.Bulk.Compress = gz
			cfg.Bulk.FlushInterval = 1e9
			o, err := New(cfg, nil)
			require.NoError(b, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { _ = o.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			w := o.NewWriter()
			acks := &countAcks{tick: make(chan struct{}, 1)}
			b.ResetTimer()
			cpu0, t0 := cpuTime(), time.Now()
			n := 0
			for b.Loop() {
				n++
				batch := record.NewBatch(src, acks)
				batch.Records = append(batch.Records[:0], tmpl.Records...)
				batch.Docs = append(batch.Docs[:0], tmpl.Docs...)
				batch.DocEnds = append(batch.DocEnds[:0], tmpl.DocEnds...)
				if err := w.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch.Done()
			}
			if err := w.Flush(ctx, true); err != nil {
				b.Fatal(err)
			}
			acks.wait(b, int64(n))
			elapsed, cpu := time.Since(t0), cpuTime()-cpu0
			docs := float64(n * per)
			b.ReportMetric(docs/elapsed.Seconds(), "docs/s")
			b.ReportMetric(cpu.Seconds()/docs*1e6, "cpu-s/Mdocs")
			b.ReportMetric(float64(o.Stats().BytesSent)/docs, "wire-B/doc")
			require.Equal(b, int64(n*per), f.docs.Load())
		})
	}
	b.Run("baseline=raw-post", func(b *testing.B) {
		f := newFastBulk(b)
		wr := benchWriter(b, true, "")
		require.NoError(b, wr.Write(context.Background(), tmpl))
		body := bytes.Clone(wr.req.body)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
		var posts atomic.Int64
		b.ResetTimer()
		cpu0, t0 := cpuTime(), time.Now()
		b.SetParallelism(1) // GOMAXPROCS posters, like bulk.workers 2 on 2 cores
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				posts.Add(1)
				res, err := client.Post(f.srv.URL+"/_bulk", "application/x-ndjson", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
			}
		})
		elapsed, cpu := time.Since(t0), cpuTime()-cpu0
		docs := float64(posts.Load() * per)
		b.ReportMetric(docs/elapsed.Seconds(), "docs/s")
		b.ReportMetric(cpu.Seconds()/docs*1e6, "cpu-s/Mdocs")
	})
}
