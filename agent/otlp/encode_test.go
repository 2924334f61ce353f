package otlp

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

// encoderDocs are documents that reach every branch of the mapping:
// merged JSON lines (msg or message as body), plain lines, syslog and
// sluice objects, nested objects and arrays, escapes in keys and values,
// numbers of each kind, duplicate keys at every level, keys that collide
// with the names the mapping writes, and members that say nothing.
var encoderDocs = []string{
	`{"@timestamp":"2026-11-25T10:00:00.123456789Z","stream":"stdout","level":"warn","msg":"line 0","n":0,"ok":true}`,
	`{"@timestamp":"2026-11-25T10:00:00Z","stream":"stderr","log":"plain line\n"}`,
	`{"@timestamp":"2026-11-25T10:00:01+02:00","log":"x","level":30,"message":"m","msg":"n"}`,
	`{"message":"body from message","msg":"an attribute","level":"ERROR"}`,
	`{"msg":"a","b":1,"c":2,"d":3,"e":4}`,
	`{"a":1,"msg":"body","b":2,"log.record.uid":"theirs"}`,
	`{"log":null,"msg":"stays an attribute"}`,
	`{"log":"first","log":null,"log":"\""}`,
	`{"log":{"nested":{"deep":[1,2.5,"three",null,true,false,{"k":"v"}]}},"level":"notice"}`,
	`{"syslog":{"facility":"daemon","severity":"err","hostname":"h","app_name":"app","structured_data":{"id@1":{"a":"b"}}},"log":"sys","source_ip":"10.0.0.1"}`,
	`{"syslog":{"severity":"crit"},"syslog":{"facility":"x"},"log":"second syslog has no severity"}`,
	`{"sluice":{"truncated":true,"malformed":false},"log":"s"}`,
	`{"k\u00e9y":"v\u00e9","t\tab":"\ud83d\ude00","bad\x":"\u12","esc":"a\\b\/c\"d"}`,
	`{"big":12345678901234567890,"neg":-42,"f":1.5e300,"e":1E2,"z":0,"nz":-0.0,"odd":1.2.3,"inf":1e999}`,
	`{"min":-9223372036854775808,"max":9223372036854775807,"over":9223372036854775808,"under":-9223372036854775809,"plus":+1,"lead":007,"u64":18446744073709551615}`,
	`{"dup":1,"dup":{"a":1,"a":2,"b":[{"c":1,"c":null}]},"x":2,"dup":null}`,
	`{"log.iostream":"mine","stream":"stdout","client.address":"mine","source_ip":"1.2.3.4"}`,
	`{"syslog.severity":"top","syslog":{"severity":"warning"},"level":null}`,
	`{"level":"","log":"empty level"}`,
	`{"level":"\u0057ARN","log":"escaped level"}`,
	`{"level":true,"log":"bool level"}`,
	`{"level":60,"log":"number level","msg":"m"}`,
	`{"kubernetes":{"pod_name":"skipped"},"log":"k"}`,
	`{"arr":[],"obj":{},"s":"","sp": [ 1 , 2 ] ,"o" : { "a" : 1 } }`,
	`{"@timestamp":"not a time","@timestamp":"2026-11-25T10:00:02Z","log":"two stamps"}`,
	`{}`,
	`{"long":"` + string(make([]byte, 300)) + `"}`,
}

// The documents of encoderDocs whose malformed escapes and numbers are
// errors to the parsers, which allocate; the workers never write them.
const malformedEscapes, malformedNumbers = 12, 13

// encoderSource is a pod whose object decodes (labels, annotations,
// owner, image), or not, or none.
func encoderSource(pod, meta string) *record.Source {
	return &record.Source{
		Input: "containers", Path: "/var/log/containers/" + pod + ".log", Pod: pod,
		Meta: []byte(meta), IDSeed: []byte("node-1/" + pod),
	}
}

var encoderMetas = []string{
	`{"namespace_name":"payments","pod_name":"api-1","pod_id":"uid-1","container_name":"api","container_image":"repo/api:1.2",` +
		`"container_image_id":"sha256:ab","container_id":"containerd://0123","host":"node-1","labels":{"app":"api","tier":"web"},` +
		`"annotations":{"a/b":"c"},"namespace_labels":{"team":"t"},"owner":{"Kind":"ReplicaSet","Name":"api-7d9f"}}`,
	`{"namespace_name":"ops","pod_name":"db-0","labels":{}}`,
	`not json at all`,
	``,
}

// batchOf is a batch of docs from src, records numbered from first.
func batchOf(src *record.Source, first int, docs ...string) *record.Batch {
	b := record.NewBatch(src, nil)
	for i, d := range docs {
		n := first + i
		b.Add(record.Record{Time: baseTime.UnixNano() + int64(n), Offset: int64(n) * 10, Stream: stream.Stdout}, []byte("line "+strconv.Itoa(n)))
		b.Docs = append(b.Docs, d...)
		b.DocEnds = append(b.DocEnds, int32(len(b.Docs)))
	}
	return b
}

// encodeBatches runs batches through a writer and returns the request
// body it would send.
func encodeBatches(t testing.TB, batches []*record.Batch) []byte {
	o, err := New(testConfig("http://127.0.0.1:1/v1/logs"), quietLogger())
	require.NoError(t, err)
	o.maxBytes = 1 << 30 // one request
	w := o.NewWriter().(*writer)
	for _, b := range batches {
		require.NoError(t, w.Write(context.Background(), b))
	}
	if w.req == nil {
		return nil
	}
	w.assemble(w.req)
	return w.req.body
}

// sameAsPdata checks that body decodes (with pdata's own unmarshaler) to
// exactly what the pdata mapping builds from batches: resources,
// grouping, order, attributes and their types, body, severity, times.
func sameAsPdata(t testing.TB, body []byte, batches []*record.Batch) {
	var u plog.ProtoUnmarshaler
	got, err := u.UnmarshalLogs(body)
	require.NoError(t, err)
	want := pdataLogs(batches, 0)
	for _, ld := range []plog.Logs{got, want} {
		ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
			rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
				sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
					if ld == got {
						assert.NotZero(t, lr.ObservedTimestamp(), "observed time set")
					}
					lr.SetObservedTimestamp(0) // the clock's
					return false
				})
				return false
			})
			return false
		})
	}
	var m plog.JSONMarshaler
	gj, err := m.MarshalLogs(got)
	require.NoError(t, err)
	wj, err := m.MarshalLogs(want)
	require.NoError(t, err)
	require.Equal(t, string(wj), string(gj))
}

// TestEncoderMatchesPdata: the hand-written encoder's request decodes to
// the same logs as the pdata mapping it replaced, for documents that
// reach every branch, from pods whose objects decode, do not, or are
// absent, with the records of two pods interleaved across batches.
func TestEncoderMatchesPdata(t *testing.T) {
	var batches []*record.Batch
	n := 0
	for round := range 2 {
		for pi, meta := range encoderMetas {
			src := encoderSource("pod-"+strconv.Itoa(pi), meta)
			docs := encoderDocs
			if round == 1 {
				docs = docs[pi%3:][:5]
			}
			batches = append(batches, batchOf(src, n, docs...))
			n += len(docs)
		}
	}
	body := encodeBatches(t, batches)
	sameAsPdata(t, body, batches)

	var u plog.ProtoUnmarshaler
	got, err := u.UnmarshalLogs(body)
	require.NoError(t, err)
	require.Equal(t, len(encoderMetas), got.ResourceLogs().Len(), "one resource per pod")
	assert.Equal(t, n, got.LogRecordCount())
	attrs := got.ResourceLogs().At(0).Resource().Attributes().AsRaw()
	assert.Equal(t, "api-1", attrs["k8s.pod.name"])
	assert.Equal(t, "api", attrs["k8s.pod.label.app"])
}

// TestEncoderMatchesPdataSmall: documents one at a time, each alone in
// a request, so a difference names its document.
func TestEncoderMatchesPdataSmall(t *testing.T) {
	for i, d := range encoderDocs {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			batches := []*record.Batch{batchOf(encoderSource("p", encoderMetas[i%len(encoderMetas)]), i, d)}
			sameAsPdata(t, encodeBatches(t, batches), batches)
		})
	}
}

// FuzzEncoderMatchesPdata: for any document and pod object, the
// encoder's bytes decode to what the pdata mapping builds, or both skip
// the document. The seeds are encoderDocs and encoderMetas.
func FuzzEncoderMatchesPdata(f *testing.F) {
	for i, d := range encoderDocs {
		f.Add([]byte(d), []byte(encoderMetas[i%len(encoderMetas)]))
	}
	f.Fuzz(func(t *testing.T, doc, meta []byte) {
		src := encoderSource("p", string(meta))
		batches := []*record.Batch{batchOf(src, 0, string(doc), string(doc)), batchOf(encoderSource("q", ""), 5, string(doc))}
		body := encodeBatches(t, batches)
		if body == nil {
			assert.Zero(t, pdataLogs(batches, 0).LogRecordCount())
			return
		}
		sameAsPdata(t, body, batches)
	})
}

// TestWriteAllocatesNothing: once a writer has seen a pod, encoding its
// records into requests and handing them over allocates nothing per
// record. Runs in `make test-alloc`, without the race detector.
func TestWriteAllocatesNothing(t *testing.T) {
	o, err := New(testConfig("http://127.0.0.1:1/v1/logs"), quietLogger())
	require.NoError(t, err)
	w := o.NewWriter().(*writer)
	src := testSource("api-1")
	var docs []string
	for n := range 64 {
		docs = append(docs, testDoc(src, n))
	}
	for i, d := range encoderDocs {
		if i != malformedEscapes && i != malformedNumbers { // errors allocate
			docs = append(docs, d)
		}
	}
	b := batchOf(src, 0, docs...)
	drained := make(chan struct{})
	go func() { // a sender that sends nothing
		defer close(drained)
		for req := range o.queue {
			o.release(req)
		}
	}()
	ctx := context.Background()
	write := func() {
		if err := w.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	write()
	allocs := testing.AllocsPerRun(200, write)
	close(o.queue)
	<-drained
	if raceEnabled {
		t.Skip("sync.Pool drops items on purpose under the race detector")
	}
	assert.Zero(t, allocs, "allocations per batch of %d records", len(b.Records))
}

// BenchmarkWrite is the encoder's cost per record (documents as the tail
// workload's, one pod).
func BenchmarkWrite(bm *testing.B) {
	o, err := New(testConfig("http://127.0.0.1:1/v1/logs"), quietLogger())
	require.NoError(bm, err)
	w := o.NewWriter().(*writer)
	src := testSource("api-1")
	var docs []string
	for n := range 256 {
		docs = append(docs, testDoc(src, n))
	}
	b := batchOf(src, 0, docs...)
	go func() {
		for req := range o.queue {
			o.release(req)
		}
	}()
	defer close(o.queue)
	ctx := context.Background()
	bm.ReportAllocs()
	for bm.Loop() {
		_ = w.Write(ctx, b)
		_ = w.Flush(ctx, true)
	}
	bm.ReportMetric(float64(bm.Elapsed().Nanoseconds())/float64(bm.N*len(docs)), "ns/record")
}
