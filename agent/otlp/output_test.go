package otlp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluicelog/sluice/agent/config"
)

// TestCollectorReceivesRecords sends two pods' records to the
// OpenTelemetry Collector's own OTLP receiver and checks what it decoded:
// one resource per pod with the semantic conventions' attributes, body,
// severity text and number, both timestamps, typed attributes and the
// record's id; the batch is acknowledged once.
func TestCollectorReceivesRecords(t *testing.T) {
	rcv := startReceiver(t)
	o, err := New(testConfig(rcv.Endpoint), quietLogger())
	require.NoError(t, err)
	running(t, o)
	var a acks
	w := o.NewWriter()
	before := time.Now()
	write(t, w, newTestBatch(testSource("api-1"), &a, 0, 4))
	write(t, w, newTestBatch(testSource("api-2"), &a, 10, 2))
	require.NoError(t, w.Flush(context.Background(), true))
	waitFor(t, "both batches acknowledged", 10*time.Second, func() bool { return a.n.Load() == 2 })
	require.Equal(t, 6, rcv.Count(t))
	assert.Equal(t, int64(6), o.Stats().Sent)

	ld := rcv.Received(t)[0]
	require.Equal(t, 2, ld.ResourceLogs().Len(), "records grouped by pod")
	rl := ld.ResourceLogs().At(0)
	res := rl.Resource().Attributes().AsRaw()
	assert.Equal(t, "payments", res["k8s.namespace.name"])
	assert.Equal(t, "api-1", res["k8s.pod.name"])
	assert.Equal(t, "uid-api-1", res["k8s.pod.uid"])
	assert.Equal(t, "api", res["k8s.container.name"])
	assert.Equal(t, "node-1", res["k8s.node.name"])
	assert.Equal(t, "containerd://0123", res["container.id"])
	assert.Equal(t, "repo/api", res["container.image.name"])
	assert.Equal(t, []any{"1.2"}, res["container.image.tags"])
	assert.Equal(t, "api", res["k8s.pod.label.app"])
	assert.Equal(t, "sluice", rl.ScopeLogs().At(0).Scope().Name())

	recs := rl.ScopeLogs().At(0).LogRecords()
	require.Equal(t, 4, recs.Len())
	json := recs.At(0) // a merged JSON line: msg is the body
	assert.Equal(t, "line 0", json.Body().Str())
	assert.Equal(t, "warn", json.SeverityText())
	assert.Equal(t, plog.SeverityNumberWarn, json.SeverityNumber())
	assert.Equal(t, pcommon.NewTimestampFromTime(baseTime), json.Timestamp())
	assert.GreaterOrEqual(t, json.ObservedTimestamp().AsTime(), before.Add(-time.Millisecond))
	attrs := json.Attributes().AsRaw()
	assert.Equal(t, int64(0), attrs["n"])
	assert.Equal(t, true, attrs["ok"])
	assert.Equal(t, "stdout", attrs["log.iostream"])
	assert.NotContains(t, attrs, "msg")
	assert.NotContains(t, attrs, "kubernetes")
	assert.Len(t, attrs["log.record.uid"], 22)

	plain := recs.At(1)
	assert.Equal(t, "line 1", plain.Body().Str())
	assert.Equal(t, "", plain.SeverityText())
	assert.Equal(t, pcommon.NewTimestampFromTime(baseTime.Add(time.Millisecond)), plain.Timestamp())
	assert.Equal(t, "stderr", plain.Attributes().AsRaw()["log.iostream"])
}

// TestThrottledThenDelivered: the receiver answers the first export 429
// with Retry-After: 1 (its consumer returns ResourceExhausted with a
// RetryInfo); the output waits that long, sends again, and every record
// arrives once.
func TestThrottledThenDelivered(t *testing.T) {
	rcv := startReceiver(t, "-throttle", "1", "-retry-after", "1s")
	o, err := New(testConfig(rcv.Endpoint), quietLogger())
	require.NoError(t, err)
	running(t, o)
	var a acks
	w := o.NewWriter()
	start := time.Now()
	write(t, w, newTestBatch(testSource("api-1"), &a, 0, 5))
	require.NoError(t, w.Flush(context.Background(), true))
	waitFor(t, "the batch acknowledged", 15*time.Second, func() bool { return a.n.Load() == 1 })
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "Retry-After honoured")
	assert.Equal(t, 5, rcv.Count(t))
	assert.Equal(t, int64(1), o.RequestFailures(CauseThrottled))
	st := o.Stats()
	assert.Equal(t, int64(1), st.RequestRetries)
	assert.Equal(t, int64(5), st.Sent)
	assert.Zero(t, st.Failed)
}

// TestRefusedCounted: a 400 (the receiver's consumer returns
// InvalidArgument) refuses the request for good: its records are counted
// as refused and the batch is acknowledged, not retried for ever.
func TestRefusedCounted(t *testing.T) {
	rcv := startReceiver(t, "-reject", "1")
	o, err := New(testConfig(rcv.Endpoint), quietLogger())
	require.NoError(t, err)
	running(t, o)
	var a acks
	w := o.NewWriter()
	write(t, w, newTestBatch(testSource("api-1"), &a, 0, 3))
	require.NoError(t, w.Flush(context.Background(), true))
	waitFor(t, "the batch acknowledged", 10*time.Second, func() bool { return a.n.Load() == 1 })
	st := o.Stats()
	assert.Equal(t, int64(3), st.Refused)
	assert.Equal(t, int64(3), st.Failed)
	assert.Zero(t, st.Sent)
	assert.Equal(t, int64(1), o.RequestFailures(CauseClientError))
	assert.Zero(t, rcv.Count(t))
}

// TestPartialSuccessCounted: the Collector's receiver never answers a
// partial success, so this handler follows the OTLP specification,
// "OTLP/HTTP Response" → "Partial Success": 200 with an
// ExportLogsServiceResponse whose partial_success holds
// rejected_log_records and error_message. The rejected records are
// counted as lost, the rest as sent, and the batch is acknowledged.
func TestPartialSuccessCounted(t *testing.T) {
	var got plog.Logs
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "application/x-protobuf", r.Header.Get("Content-Type"))
		assert.Equal(t, "gzip", r.Header.Get("Content-Encoding"))
		var ps []byte
		ps = protowire.AppendTag(ps, 1, protowire.VarintType)
		ps = protowire.AppendVarint(ps, 2)
		ps = protowire.AppendTag(ps, 2, protowire.BytesType)
		ps = protowire.AppendString(ps, "2 records too old")
		var resp []byte
		resp = protowire.AppendTag(resp, 1, protowire.BytesType)
		resp = protowire.AppendBytes(resp, ps)
		got = plog.NewLogs()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(resp)
	}))
	defer srv.Close()
	o, err := New(testConfig(srv.URL+"/v1/logs"), quietLogger())
	require.NoError(t, err)
	running(t, o)
	var a acks
	w := o.NewWriter()
	write(t, w, newTestBatch(testSource("api-1"), &a, 0, 5))
	require.NoError(t, w.Flush(context.Background(), true))
	waitFor(t, "the batch acknowledged", 10*time.Second, func() bool { return a.n.Load() == 1 })
	st := o.Stats()
	assert.Equal(t, int64(2), st.Rejected)
	assert.Equal(t, int64(2), st.Failed)
	assert.Equal(t, int64(3), st.Sent)
	_ = got
}

// FlushIdle sends a writer's partly filled request only while no request
// of the output is handed over and unfinished (here one the collector
// throttled, waiting out its Retry-After): a second sender is free, but
// no small request is added for the collector while it has one to answer.
func TestFlushIdleAddsNoRequestWhileOneIsInFlight(t *testing.T) {
	rcv := startReceiver(t, "-throttle", "1", "-retry-after", "3s")
	cfg := testConfig(rcv.Endpoint)
	cfg.Bulk.FlushInterval = config.Duration(time.Hour)
	o, err := New(cfg, quietLogger())
	require.NoError(t, err)
	running(t, o)
	var a acks
	ctx := context.Background()
	w1, w2 := o.NewWriter().(*writer), o.NewWriter().(*writer)

	write(t, w1, newTestBatch(testSource("api-1"), &a, 0, 5))
	require.NoError(t, w1.FlushIdle(ctx))
	require.Nil(t, w1.req, "nothing in flight: the request goes")
	waitFor(t, "the first request in flight", 15*time.Second, func() bool { return o.Stats().InFlight == 1 })
	write(t, w2, newTestBatch(testSource("api-2"), &a, 5, 5))
	require.NoError(t, w2.FlushIdle(ctx))
	require.NotNil(t, w2.req, "a request is in flight: the second stays")
	require.NoError(t, w2.Flush(ctx, false))
	require.NotNil(t, w2.req, "young: the flush interval does not send it either")

	waitFor(t, "the first request answered", 15*time.Second, func() bool { return a.n.Load() == 1 })
	waitFor(t, "the second request sent", 15*time.Second, func() bool {
		require.NoError(t, w2.FlushIdle(ctx))
		return w2.req == nil
	})
	waitFor(t, "both acknowledged", 15*time.Second, func() bool { return a.n.Load() == 2 })
	assert.Equal(t, 10, rcv.Count(t))
	assert.Equal(t, int64(1), o.Stats().RequestRetries)
}
