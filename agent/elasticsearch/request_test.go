package elasticsearch

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
)

func TestRequestBodiesSizedOnceAndKept(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Bulk.MaxBytes = 64 << 10
	o, err := New(cfg, nil)
	require.NoError(t, err)

	r := o.getRequest()
	o.newBody(r)
	require.Equal(t, 64<<10, cap(r.body), "sized at max_bytes up front")
	r.body = append(r.body, "x"...)
	p := &r.body[:1][0]
	o.putRequest(r)

	// The pool is not emptied by a GC, and the body comes back empty with
	// its capacity.
	runtime.GC()
	runtime.GC()
	r2 := o.getRequest()
	require.Same(t, r, r2)
	o.newBody(r2)
	require.Empty(t, r2.body)
	require.Same(t, p, &r2.body[:1][0], "the same body, not a new one")

	// A body that one huge document grew is not kept.
	r2.body = make([]byte, 0, 1<<20)
	o.putRequest(r2)
	require.Nil(t, o.getRequest().body)
}

func TestRequestBodyPresizeBounded(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Bulk.MaxBytes = 512 << 20
	o, err := New(cfg, nil)
	require.NoError(t, err)
	r := o.getRequest()
	o.newBody(r)
	require.Equal(t, maxPresized, cap(r.body))
	require.True(t, o.keepBody(512<<20), "grown up to max_bytes by append, it is kept")
}

// TestBuffersStayWithinBufferBytes: under item 429s (retried as copies of
// the items), whole-request 429s, rescues and dead letters from two
// writers, the output never makes more requests than one per writer and
// two per sender, and what it keeps afterwards (bodies in the free list,
// the senders' scratch) stays within BufferBytes, which the runtime takes
// out of memory_limit.
func TestBuffersStayWithinBufferBytes(t *testing.T) {
	f := newFaultyBulk(t)
	const writers, batches, per = 2, 12, 200
	srcs := []*record.Source{testSource("api-1"), testSource("api-2")}
	tries := map[string]int{} // under f.mu, like onItem
	f.onItem = func(_, pos int, op bulkOp) int {
		tries[op.ID]++
		if pos%3 == 0 && tries[op.ID] <= 3 {
			return http.StatusTooManyRequests
		}
		return 0
	}
	f.onRequest = func(call int, _ []bulkOp) *fault {
		if call%5 == 0 {
			return &fault{status: http.StatusTooManyRequests}
		}
		return nil
	}
	cfg := testConfig(f.srv.URL)
	cfg.Bulk.MaxBytes = 16 << 10
	o, err := New(cfg, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()

	acks := newAckRecorder()
	var wg sync.WaitGroup
	var seqs []uint64
	for k := range writers {
		w := o.NewWriter()
		src := srcs[k]
		doc := func(n int) string {
			if n%50 == 7 { // a mapping conflict: rescued
				return strings.Replace(testDoc(src, n), `"n":`+strconv.Itoa(n), `"n":"x"`, 1)
			}
			return testDoc(src, n)
		}
		var bs []*record.Batch
		for b := range batches {
			seq := uint64(k*batches + b)
			seqs = append(seqs, seq)
			bs = append(bs, newTestBatch(src, acks, seq, b*per, per, doc))
		}
		wg.Go(func() { write(t, w, bs...) })
	}
	wg.Wait()
	acks.waitAcked(t, seqs...)
	cancel()
	require.NoError(t, <-done)

	st := o.Stats()
	require.Positive(t, st.ItemRetries)
	require.Positive(t, st.RequestRetries)
	require.Positive(t, st.DocsRescued)
	require.LessOrEqual(t, o.requests.made, writers+2*cfg.Bulk.Workers, "requests allocated")
	held := 0
	for _, r := range o.requests.free {
		held += cap(r.body)
	}
	for _, s := range o.senders {
		held += cap(s.sub) + s.resp.Cap() + s.zbuf.Cap() + cap(s.scratch)
	}
	t.Logf("%d requests made; bodies and scratch kept: %d bytes; BufferBytes %d", o.requests.made, held, o.BufferBytes(writers))
	require.LessOrEqual(t, int64(held), o.BufferBytes(writers))
}
