package elasticsearch

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

// storedAll returns a check for ackRecorder: at the moment batch seq is
// acked, every document of it must be settled in the fake (stored, or in
// refused when given).
func storedAll(f *faultyBulk, src *record.Source, perBatch int, refused map[string]bool) func(seq uint64) error {
	return func(seq uint64) error {
		for n := int(seq) * perBatch; n < int(seq+1)*perBatch; n++ {
			id := idOf(src, n)
			if _, ok := f.stored(id); !ok && !refused[id] {
				return fmt.Errorf("record %d (id %s) not stored yet", n, id)
			}
		}
		return nil
	}
}

// requireStoredOnce checks that records 0..n-1 of src are each stored, and
// were sent the given number of times (1 unless listed in resent).
func requireStoredOnce(t *testing.T, f *faultyBulk, src *record.Source, n int, resent map[int]int) {
	t.Helper()
	for i := range n {
		id := idOf(src, i)
		doc, ok := f.stored(id)
		require.True(t, ok, "record %d not stored", i)
		require.Contains(t, string(doc), fmt.Sprintf(`"n":%d,`, i))
		want := 1
		if c, ok := resent[i]; ok {
			want = c
		}
		require.Equal(t, want, f.sentCount(id), "times record %d was sent", i)
	}
	require.Len(t, f.storedKeys(), n)
}

func TestDeliverHeadersAuthAndBytes(t *testing.T) {
	f := newFaultyBulk(t)
	cfg := testConfig(f.srv.URL + "/prefix")
	cfg.Headers = map[string]string{"VL-Msg-Field": "log", "X-Tenant": "t1"}
	cfg.Username, cfg.Password = "elastic", "s3cret"
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	acks.check = storedAll(f, src, 10, nil)

	write(t, o.NewWriter(),
		newTestBatch(src, acks, 0, 0, 10, nil),
		newTestBatch(src, acks, 1, 10, 10, nil),
		newTestBatch(src, acks, 2, 20, 10, nil))
	acks.waitAcked(t, 0, 1, 2)

	requireStoredOnce(t, f, src, 30, nil)
	doc, _ := f.stored(idOf(src, 7))
	require.JSONEq(t, testDoc(src, 7), string(doc))

	f.mu.Lock()
	defer f.mu.Unlock()
	require.Equal(t, 1, f.calls, "three small batches fit one request")
	// Items come back as status and error only.
	require.Equal(t, "/prefix"+bulkPath, f.paths[0])
	h := f.headers[0]
	require.Equal(t, "application/x-ndjson", h.Get("Content-Type"))
	require.Empty(t, h.Get("Content-Encoding"))
	require.Equal(t, "log", h.Get("VL-Msg-Field"))
	require.Equal(t, "t1", h.Get("X-Tenant"))
	require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("elastic:s3cret")), h.Get("Authorization"))

	require.Eventually(t, func() bool { return o.Stats().InFlight == 0 }, time.Second, time.Millisecond)
	require.Equal(t, Stats{Requests: 1, DocsSent: 30, BytesSent: f.wireBytes}, o.Stats())
}

func TestGzipOnTheWire(t *testing.T) {
	f := newFaultyBulk(t)
	cfg := testConfig(f.srv.URL)
	cfg.Bulk.Compress = true
	cfg.APIKey = "a2V5OnNlY3JldA=="
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	w := o.NewWriter()
	write(t, w, newTestBatch(src, acks, 0, 0, 200, nil))
	acks.waitAcked(t, 0)
	requireStoredOnce(t, f, src, 200, nil)

	// The encoded body, for comparison with what crossed the wire.
	plain := 0
	for n := range 200 {
		plain += len(testDoc(src, n))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Equal(t, "gzip", f.headers[0].Get("Content-Encoding"))
	require.Equal(t, "APIKey a2V5OnNlY3JldA==", f.headers[0].Get("Authorization"))
	require.Equal(t, f.wireBytes, o.Stats().BytesSent)
	require.Less(t, f.wireBytes, int64(plain)/3, "compressed body should be far smaller than the documents")
}

func TestItem429RetriesOnlyThatItem(t *testing.T) {
	f := newFaultyBulk(t)
	f.onItem = func(call, pos int, _ bulkOp) int {
		if call == 1 && pos == 3 {
			return http.StatusTooManyRequests
		}
		return 0
	}
	o := startOutput(t, testConfig(f.srv.URL))
	src := testSource("api-1")
	acks := newAckRecorder()
	acks.check = storedAll(f, src, 10, nil)
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 10, nil))
	acks.waitAcked(t, 0)

	requireStoredOnce(t, f, src, 10, map[int]int{3: 2})
	require.Equal(t, 2, f.requests())
	st := o.Stats()
	require.Equal(t, int64(1), st.ItemRetries)
	require.Equal(t, int64(10), st.DocsSent)
	require.Zero(t, st.RequestRetries)
	require.Zero(t, st.DocsFailed)

	require.Len(t, f.requestKeys(1), 10)
	require.Equal(t, []string{idOf(src, 3)}, f.requestKeys(2), "the retry carries item 3 alone")
}

func TestReplayAfterRestartCountsAs409Duplicate(t *testing.T) {
	f := newFaultyBulk(t)
	src := testSource("api-1")

	// First run stores the batch.
	first := startOutput(t, testConfig(f.srv.URL))
	acks := newAckRecorder()
	write(t, first.NewWriter(), newTestBatch(src, acks, 0, 0, 8, nil))
	acks.waitAcked(t, 0)

	// After a "crash" before the checkpoint, the same lines come again to
	// a new output: each answer is a 409, each counts as delivered.
	second := startOutput(t, testConfig(f.srv.URL))
	replay := newAckRecorder()
	write(t, second.NewWriter(), newTestBatch(src, replay, 0, 0, 8, nil))
	replay.waitAcked(t, 0)

	requireStoredOnce(t, f, src, 8, map[int]int{0: 2, 1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2})
	st := second.Stats()
	require.Equal(t, int64(8), st.DocsDuplicate)
	require.Zero(t, st.DocsSent)
	require.Zero(t, st.DocsFailed)
	require.Zero(t, st.ItemRetries)
}

func TestItem400MapperParsingIsRescued(t *testing.T) {
	f := newFaultyBulk(t)
	o := startOutput(t, testConfig(f.srv.URL))
	src := testSource("api-1")
	bad := func(n int) string {
		if n == 4 {
			return strings.Replace(testDoc(src, n), `"n":4`, `"n":"four"`, 1)
		}
		return testDoc(src, n)
	}
	acks := newAckRecorder()
	acks.check = storedAll(f, src, 10, nil)
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 10, bad))
	acks.waitAcked(t, 0)

	st := o.Stats()
	require.Equal(t, int64(1), st.DocsRescued)
	require.Equal(t, int64(9), st.DocsSent)
	require.Zero(t, st.DocsFailed)
	require.Zero(t, st.DocsDeadLettered)
	require.Zero(t, st.ItemRetries, "a mapping error is not retried")
	require.Equal(t, 2, f.requests(), "the request, then the rescue")
	require.Equal(t, []string{idOf(src, 4)}, f.requestKeys(2), "the rescue copy keeps the _id")
	doc, stored := f.stored(idOf(src, 4))
	require.True(t, stored)
	require.JSONEq(t, `{"@timestamp":"2026-11-25T10:00:00.004000000Z","stream":"stdout","log":"line 4",`+
		`"sluice":{"error":"mapper_parsing_exception: failed to parse field [n] of type [long] in document with id '`+idOf(src, 4)+
		`'. Preview of field's value: 'four': For input string: \"four\""},"kubernetes":`+string(src.Meta)+`}`, string(doc))
	require.Len(t, f.storedKeys(), 10)
}

func TestRequest503ThenSuccess(t *testing.T) {
	f := newFaultyBulk(t)
	f.onRequest = func(call int, _ []bulkOp) *fault {
		if call <= 2 {
			return &fault{status: http.StatusServiceUnavailable, body: `{"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"},"status":503}`}
		}
		return nil
	}
	o := startOutput(t, testConfig(f.srv.URL))
	src := testSource("api-1")
	acks := newAckRecorder()
	acks.check = storedAll(f, src, 5, nil)
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 5, nil))
	acks.waitAcked(t, 0)

	requireStoredOnce(t, f, src, 5, map[int]int{0: 3, 1: 3, 2: 3, 3: 3, 4: 3})
	st := o.Stats()
	require.Equal(t, int64(3), st.Requests)
	require.Equal(t, int64(2), st.RequestRetries)
	require.Equal(t, int64(5), st.DocsSent)
}

func TestRetryAfterIsAFloor(t *testing.T) {
	f := newFaultyBulk(t)
	var times []time.Time
	f.onRequest = func(call int, _ []bulkOp) *fault {
		times = append(times, time.Now()) // under f.mu
		if call == 1 {
			return &fault{status: http.StatusTooManyRequests, retryAfter: "1", body: `{"error":{"type":"es_rejected_execution_exception","reason":"queue full"},"status":429}`}
		}
		return nil
	}
	o := startOutput(t, testConfig(f.srv.URL)) // retry.max is 20ms
	src := testSource("api-1")
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 3, nil))
	acks.waitAcked(t, 0)
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, times, 2)
	require.GreaterOrEqual(t, times[1].Sub(times[0]), 990*time.Millisecond)
	require.Equal(t, int64(1), o.Stats().RequestRetries)
}

func TestConnectionResetThenSuccess(t *testing.T) {
	f := newFaultyBulk(t)
	f.onRequest = func(call int, _ []bulkOp) *fault {
		if call == 1 {
			return &fault{reset: true}
		}
		return nil
	}
	o := startOutput(t, testConfig(f.srv.URL))
	src := testSource("api-1")
	acks := newAckRecorder()
	acks.check = storedAll(f, src, 6, nil)
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 6, nil))
	acks.waitAcked(t, 0)

	requireStoredOnce(t, f, src, 6, map[int]int{0: 2, 1: 2, 2: 2, 3: 2, 4: 2, 5: 2})
	st := o.Stats()
	require.Equal(t, int64(2), st.Requests)
	require.Equal(t, int64(1), st.RequestRetries)
	require.Equal(t, int64(6), st.DocsSent)
}

func TestPlainText400Bisects(t *testing.T) {
	f := newFaultyBulk(t)
	const poison = 5
	// Like VictoriaLogs: a request holding the poisoned document stores
	// the documents before it and answers a plain-text 400.
	f.onRequest = func(_ int, ops []bulkOp) *fault {
		for i, op := range ops {
			if strings.Contains(string(op.Doc), `"poison":true`) {
				return &fault{
					status: http.StatusBadRequest, contentType: "text/plain; charset=utf-8", storeFirst: i,
					body: fmt.Sprintf("cannot decode log message #%d in /_bulk request: cannot parse JSON\n", i),
				}
			}
		}
		return nil
	}
	o := startOutput(t, testConfig(f.srv.URL))
	src := testSource("api-1")
	doc := func(n int) string {
		if n == poison {
			return strings.Replace(testDoc(src, n), `"n":5,`, `"n":5,"poison":true,`, 1)
		}
		return testDoc(src, n)
	}
	acks := newAckRecorder()
	poisonID := idOf(src, poison)
	acks.check = storedAll(f, src, 16, nil)
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 16, doc))
	acks.waitAcked(t, 0)

	st := o.Stats()
	require.Zero(t, st.DocsFailed)
	require.Equal(t, int64(1), st.DocsRescued, "the poisoned document is stored as a rescue copy")
	// Halving 16 documents down to the poisoned one takes 4 splits:
	// 16 → 8 → 4 → 2 → 1.
	require.Equal(t, int64(4), st.RequestSplits)
	rescued, ok := f.stored(poisonID)
	require.True(t, ok)
	require.Contains(t, string(rescued), `"log":"line 5","sluice":{"error":"cannot decode log message #0 in /_bulk request: cannot parse JSON"}`)
	require.NotContains(t, string(rescued), "poison")
	for n := range 16 {
		_, ok := f.stored(idOf(src, n))
		require.True(t, ok, "record %d stored", n)
	}
	require.Len(t, f.storedKeys(), 16)
	// Documents stored by a failed request come back as 409s, which count
	// as delivered, so none is lost and none is stored twice.
	require.Equal(t, int64(15), st.DocsSent+st.DocsDuplicate)
	require.Positive(t, st.DocsDuplicate)
}

func TestAuthErrorIsRetriedNotDropped(t *testing.T) {
	f := newFaultyBulk(t)
	f.onRequest = func(call int, _ []bulkOp) *fault {
		if call <= 3 {
			return &fault{status: http.StatusUnauthorized, body: `{"error":{"type":"security_exception","reason":"unable to authenticate user [elastic]"},"status":401}`}
		}
		return nil
	}
	o := startOutput(t, testConfig(f.srv.URL))
	src := testSource("api-1")
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 4, nil))
	acks.waitAcked(t, 0)
	st := o.Stats()
	require.Zero(t, st.DocsFailed, "bad credentials must not drop documents")
	require.Zero(t, st.RequestSplits)
	require.Equal(t, int64(3), st.RequestRetries)
	require.Equal(t, int64(4), st.DocsSent)
}

func TestBatchAcrossRequestsAckedAfterAllParts(t *testing.T) {
	f := newFaultyBulk(t)
	var laterCalls atomic.Int32
	f.onRequest = func(call int, ops []bulkOp) *fault {
		// Hold back every request but the first a few times, so the first
		// part of each batch is stored long before the rest.
		if call > 1 && laterCalls.Add(1) <= 4 {
			return &fault{status: http.StatusBadGateway, body: "bad gateway"}
		}
		return nil
	}
	cfg := testConfig(f.srv.URL)
	cfg.Bulk.MaxBytes = 4096
	cfg.Bulk.Workers = 1
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	acks.check = storedAll(f, src, 40, nil)
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 40, nil), newTestBatch(src, acks, 1, 40, 40, nil))
	acks.waitAcked(t, 0, 1)

	requireStoredOnce(t, f, src, 80, multiSent(f, src, 80))
	f.mu.Lock()
	calls := f.calls
	f.mu.Unlock()
	st := o.Stats()
	require.Greater(t, st.Requests-st.RequestRetries, int64(4), "80 documents of ~250 bytes need several 4KiB requests")
	require.Equal(t, int64(calls), st.Requests)
	require.Equal(t, int64(80), st.DocsSent)
}

// multiSent returns how many times each record was sent, as the fake saw
// it, for records sent more than once (the ones caught in a 502).
func multiSent(f *faultyBulk, src *record.Source, n int) map[int]int {
	m := map[int]int{}
	for i := range n {
		if c := f.sentCount(idOf(src, i)); c > 1 {
			m[i] = c
		}
	}
	return m
}

func TestBodyNeverPassesMaxBytes(t *testing.T) {
	f := newFaultyBulk(t)
	cfg := testConfig(f.srv.URL)
	cfg.Bulk.MaxBytes = 2048
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 50, nil))
	acks.waitAcked(t, 0)
	requireStoredOnce(t, f, src, 50, nil)
	st := o.Stats()
	require.LessOrEqual(t, st.BytesSent, st.Requests*2048)
	require.Greater(t, st.Requests, int64(5))
	require.GreaterOrEqual(t, st.BytesSent, (st.Requests-1)*1500, "requests are filled, not sent half empty")
}

func TestFlushInterval(t *testing.T) {
	f := newFaultyBulk(t)
	cfg := testConfig(f.srv.URL)
	cfg.Bulk.FlushInterval = 200e6 // 200ms
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	w := o.NewWriter()
	ctx := context.Background()
	b := newTestBatch(src, acks, 0, 0, 3, nil)
	start := time.Now()
	require.NoError(t, w.Write(ctx, b))
	b.Done()
	require.NoError(t, w.Flush(ctx, false))
	if time.Since(start) < 150*time.Millisecond {
		require.Zero(t, o.Stats().Requests, "young data waits for the flush interval")
	}
	require.Eventually(t, func() bool {
		require.NoError(t, w.Flush(ctx, false))
		return acks.count(0) == 1
	}, 5*time.Second, 10*time.Millisecond)
	require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
	acks.waitAcked(t, 0)
	requireStoredOnce(t, f, src, 3, nil)
}

func TestBackpressureBlocksWriter(t *testing.T) {
	f := newFaultyBulk(t)
	release := make(chan struct{})
	f.block = release
	cfg := testConfig(f.srv.URL)
	cfg.Bulk.Workers = 1
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	w := o.NewWriter()
	// One request in flight, none queued (the hand-over is unbuffered):
	// the second hand-over must block until a sender is free.
	b0 := newTestBatch(src, acks, 0, 0, 2, nil)
	require.NoError(t, w.Write(context.Background(), b0))
	b0.Done()
	require.NoError(t, w.Flush(context.Background(), true))
	require.Eventually(t, func() bool { return o.Stats().InFlight == 1 }, 5*time.Second, time.Millisecond)
	for seq := uint64(1); seq <= 2; seq++ {
		b := newTestBatch(src, acks, seq, int(seq)*2, 2, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		require.NoError(t, w.Write(ctx, b))
		b.Done()
		if seq == 2 {
			err := w.Flush(ctx, true)
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
		cancel()
	}
	require.Zero(t, acks.count(1)+acks.count(2))

	// Once the server answers, the writer's request goes out after all.
	close(release)
	require.NoError(t, w.Flush(context.Background(), true))
	acks.waitAcked(t, 0, 1, 2)
	requireStoredOnce(t, f, src, 6, nil)
}

func TestShutdownAbandonsUnfinishedBatches(t *testing.T) {
	f := newFaultyBulk(t)
	f.onRequest = func(int, []bulkOp) *fault {
		return &fault{status: http.StatusServiceUnavailable, body: "down"}
	}
	o, err := New(testConfig(f.srv.URL), nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	src := testSource("api-1")
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 3, nil))
	require.Eventually(t, func() bool { return o.Stats().RequestRetries >= 3 }, 5*time.Second, time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop within 5s of cancel")
	}
	require.Zero(t, acks.count(0), "an undelivered batch is never acked")
	require.Zero(t, o.Stats().InFlight)
	require.Empty(t, f.storedKeys())
}

func TestWriteInterruptedKeepsBatchUnacked(t *testing.T) {
	f := newFaultyBulk(t)
	cfg := testConfig(f.srv.URL)
	cfg.Bulk.MaxBytes = 1024
	cfg.Bulk.Workers = 1
	o, err := New(cfg, nil) // not running: nothing drains the queue
	require.NoError(t, err)
	src := testSource("api-1")
	acks := newAckRecorder()
	w := o.NewWriter()
	b := newTestBatch(src, acks, 0, 0, 40, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, w.Write(ctx, b), context.DeadlineExceeded)
	b.Done()

	// The part already encoded (the full request the writer could not hand
	// over) is delivered later, but the batch must stay unacked: its other
	// records never reached a request.
	runOutput(t, o)
	require.NoError(t, w.Flush(context.Background(), true))
	require.Eventually(t, func() bool { st := o.Stats(); return st.Requests == 1 && st.InFlight == 0 }, 5*time.Second, time.Millisecond)
	st := o.Stats()
	require.Positive(t, st.DocsSent)
	require.Less(t, st.DocsSent, int64(40))
	require.Equal(t, st.DocsSent, int64(len(f.storedKeys())))
	require.Zero(t, acks.count(0))
}

type configOutput = config.Output

func TestNewRejectsBadConfig(t *testing.T) {
	f := func(mutate func(c *configOutput), want string) {
		t.Helper()
		cfg := testConfig("http://127.0.0.1:9200")
		mutate(&cfg)
		_, err := New(cfg, nil)
		require.ErrorContains(t, err, want)
	}
	f(func(c *configOutput) { c.Index = "logs-{kubernetes.namespace}-%Y" }, "unknown field {kubernetes.namespace}")
	f(func(c *configOutput) { c.Index = "logs-%j" }, "unknown date verb %j")
	// Bounds and defaults are config.Parse's (agent/config), not New's.
	f(func(c *configOutput) { c.URLs = []string{"http://a b"} }, `output "es-test"`)
}

func TestRunTwice(t *testing.T) {
	f := newFaultyBulk(t)
	o := startOutput(t, testConfig(f.srv.URL))
	require.Eventually(t, o.running.Load, time.Second, time.Millisecond)
	err := o.Run(context.Background())
	require.Error(t, err)
	require.False(t, errors.Is(err, context.Canceled))
}

// TestRequestLeavesInOneWrite: a request of up to max_bytes goes to the
// socket in two writes, its headers and then its body in one piece from
// the body's own slice (syncTransport), not in net/http's 4 KiB + 32 KiB
// pieces, each of which is a system call.
func TestRequestLeavesInOneWrite(t *testing.T) {
	f := newFaultyBulk(t)
	f.noTemplates = true
	cfg := testConfig(f.srv.URL)
	cfg.Bulk.MaxBytes = 512 << 10
	o, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	require.NoError(t, err)
	var writes atomic.Int64
	dial := o.transport.DialContext
	o.transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return bodyConn{countingConn{Conn: c, writes: &writes}}, nil
	}
	runOutput(t, o)
	src := testSource("api-1")
	acks := newAckRecorder()
	acks.check = storedAll(f, src, 400, nil)
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 400, nil))
	acks.waitAcked(t, 0)

	f.mu.Lock()
	defer f.mu.Unlock()
	require.Equal(t, 1, f.calls)
	require.Greater(t, f.wireBytes, int64(64<<10), "a body several times net/http's 32 KiB pieces")
	require.Equal(t, int64(2), writes.Load(), "writes for one request of %d bytes", f.wireBytes)
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// SyscallConn hands the transport the socket, whose writes (each a write
// system call while the socket has room) are counted too.
func (c countingConn) SyscallConn() (syscall.RawConn, error) {
	return countingRawConn{rawConn(c.Conn), c.writes}, nil
}

type countingRawConn struct {
	syscall.RawConn
	writes *atomic.Int64
}

func (c countingRawConn) Write(f func(fd uintptr) bool) error {
	c.writes.Add(1)
	return c.RawConn.Write(f)
}

// FlushIdle sends a writer's partly filled request only while no request
// of the output is handed over and unfinished, and only one writer's at a
// time: it never adds a small request while the store has one to answer.
func TestFlushIdleAddsNoRequestWhileOneIsInFlight(t *testing.T) {
	f := newFaultyBulk(t)
	release := make(chan struct{})
	f.block = release
	cfg := testConfig(f.srv.URL)
	cfg.Bulk.Workers = 2
	cfg.Bulk.FlushInterval = config.Duration(time.Hour)
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	ctx := context.Background()
	w1, w2 := o.NewWriter().(*writer), o.NewWriter().(*writer)
	idle := func(w *writer, b *record.Batch) {
		t.Helper()
		if b != nil {
			require.NoError(t, w.Write(ctx, b))
			b.Done()
		}
		require.NoError(t, w.FlushIdle(ctx))
	}

	idle(w1, newTestBatch(src, acks, 0, 0, 2, nil))
	require.Nil(t, w1.req, "nothing in flight: the request goes")
	require.Eventually(t, func() bool { return o.Stats().InFlight == 1 }, hangWait, time.Millisecond)
	idle(w2, newTestBatch(src, acks, 1, 2, 2, nil))
	idle(w1, newTestBatch(src, acks, 2, 4, 2, nil))
	require.NotNil(t, w2.req, "a request is in flight: a second sender is free, but the request stays")
	require.NotNil(t, w1.req)
	require.Len(t, w2.req.items, 2)
	require.NoError(t, w2.Flush(ctx, false), "young: the flush interval does not send it either")
	require.NotNil(t, w2.req)

	close(release)
	acks.waitAcked(t, 0)
	// Once it is answered, the others go, each when nothing else is.
	for _, w := range []*writer{w2, w1} {
		require.Eventually(t, func() bool {
			require.NoError(t, w.FlushIdle(ctx))
			return w.req == nil
		}, hangWait, time.Millisecond)
	}
	acks.waitAcked(t, 0, 1, 2)
	requireStoredOnce(t, f, src, 6, nil)
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Equal(t, 3, f.calls, "three requests, one per FlushIdle that sent")
}
