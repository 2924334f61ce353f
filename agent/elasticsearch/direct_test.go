package elasticsearch

import (
	"context"
	"crypto/aes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

// sentRequest is what a writer handed over: the body and, per item, where
// it starts, its record and its batch's Seq.
type sentRequest struct {
	body  string
	items [][3]int64
}

// parserTransforms are the config's parsers, built as config.Parse builds
// them.
func parserTransforms(tb testing.TB, entries ...string) []config.Transform {
	tb.Helper()
	raw := "data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x/*.log] }]\noutputs: [{ name: o, type: console }]\ntransforms:\n"
	for _, e := range entries {
		raw += "  - " + e + "\n"
	}
	cfg, err := config.Parse([]byte(raw), func(string) (string, bool) { return "", false })
	require.NoError(tb, err)
	return cfg.Transforms
}

// writeBoth writes the batches that mk builds through a writer of an
// output made from cfg, once as a pipeline worker without a direct writer
// does (EncodeBatch, then Write) and once by WriteDirect, and returns the
// requests each handed over, the last one flushed.
func writeBoth(t *testing.T, cfg config.Output, enc *document.Encoder, mk func() []*record.Batch) (twoStep, direct []sentRequest) {
	t.Helper()
	run := func(viaDirect bool) []sentRequest {
		o, err := New(cfg, nil)
		require.NoError(t, err)
		o.queue = make(chan *request, 1<<12) // collected below, never sent
		w := o.NewWriter().(*writer)
		ctx := context.Background()
		for _, b := range mk() {
			if viaDirect {
				done, err := w.WriteDirect(ctx, b, enc)
				require.NoError(t, err)
				require.True(t, done, "WriteDirect declined")
			} else {
				enc.EncodeBatch(b)
				require.NoError(t, w.Write(ctx, b))
			}
			b.Docs, b.DocEnds = b.Docs[:0], b.DocEnds[:0]
		}
		require.NoError(t, w.Flush(ctx, true))
		var out []sentRequest
		for len(o.queue) > 0 {
			r := <-o.queue
			s := sentRequest{body: string(r.body)}
			for _, it := range r.items {
				s.items = append(s.items, [3]int64{int64(it.start), int64(it.rec), int64(r.batches[it.batch].Seq)})
			}
			out = append(out, s)
		}
		return out
	}
	return run(false), run(true)
}

// lineKinds are the lines of the test records: JSON that merges, JSON with
// a reserved key, text that needs escaping, invalid UTF-8, empty lines and
// long lines of control characters (six bytes each once escaped).
func testLine(rng *rand.Rand, n int) string {
	switch rng.IntN(8) {
	case 0:
		return `{"level":"info","msg":"order ` + strconv.Itoa(n) + ` placed","n":` + strconv.Itoa(n) + `}`
	case 1:
		return `{"log":"clash","stream":"x","a":` + strconv.Itoa(n) + `}`
	case 2:
		return `GET /api/v1/orders/` + strconv.Itoa(n) + ` "quoted" back\slash tab` + "\t" + strings.Repeat("x", rng.IntN(400))
	case 3:
		return "bad utf-8 \xff\xfe here " + strconv.Itoa(n)
	case 4:
		return ""
	case 5:
		return strings.Repeat("\x01", 500+rng.IntN(3000))
	case 6:
		return `level=warn msg="slow" ms=` + strconv.Itoa(n)
	default:
		return "plain line " + strconv.Itoa(n)
	}
}

// testBatches builds nb batches of up to 60 varied records from a few
// sources (with and without Kubernetes metadata, in two namespaces, one
// numbering its records as syslog does), crossing a day so the index
// changes within a batch.
func testBatches(seed uint64, nb int) []*record.Batch {
	rng := rand.New(rand.NewPCG(seed, 7))
	key, err := aes.NewCipher([]byte("fedcba9876543210"))
	if err != nil {
		panic(err)
	}
	other := testSource("web-1")
	other.Namespace, other.Meta = "shop", nil
	numbered := &record.Source{Input: "syslog", IDKey: key, IDConn: 5}
	srcs := []*record.Source{testSource("api-1"), other, numbered}
	day := time.Date(2026, 11, 25, 23, 59, 59, 990_000_000, time.UTC)
	var out []*record.Batch
	n := 0
	for k := range nb {
		src := srcs[rng.IntN(len(srcs))]
		b := record.NewBatch(src, nil)
		b.Seq = uint64(k)
		for range 1 + rng.IntN(60) {
			r := record.Record{
				Time:   day.Add(time.Duration(n) * time.Millisecond).UnixNano(),
				Offset: int64(n),
				Stream: stream.Stdout,
			}
			if rng.IntN(10) == 0 {
				r.Stream = stream.Stderr
			}
			if rng.IntN(12) == 0 {
				r.Flags |= record.Truncated
			}
			if rng.IntN(12) == 0 {
				r.Flags |= record.Malformed
			}
			var extra []byte
			if src == numbered {
				extra = []byte(`"syslog":{"facility":4,"app_name":"sshd"},"source_ip":"127.0.0.1"`)
			}
			b.AddExtra(r, []byte(testLine(rng, n)), extra)
			n++
		}
		out = append(out, b)
	}
	return out
}

// TestWriteDirectMatchesWrite holds the bodies WriteDirect fills to those
// of the pipeline's two steps (EncodeBatch, then Write), byte for byte, with
// the same items: ids or none, an id field spliced in or not, and bodies
// from large to smaller than some documents, so that documents that take a
// body past max_bytes move to the next one.
func TestWriteDirectMatchesWrite(t *testing.T) {
	encs := map[string]*document.Encoder{
		"json":  document.New(parserTransforms(t, "{ type: json, field: log }"), func() int64 { return baseTime.UnixNano() }),
		"none":  document.New(nil, func() int64 { return baseTime.UnixNano() }),
		"regex": document.New(parserTransforms(t, `{ type: regex, pattern: '^(?P<a>(?P<b>(?P<c>(?P<d>.*))))$', keep_original: true }`), func() int64 { return baseTime.UnixNano() }),
	}
	for _, maxBytes := range []int{5 << 20, 16 << 10, 3 << 10} {
		for _, ids := range []bool{true, false} {
			for _, idField := range []string{"", "sluice_id"} {
				for name, enc := range encs {
					cfg := testConfig("http://127.0.0.1:1")
					cfg.IDs = &ids
					cfg.IDField = idField
					cfg.Bulk.MaxBytes = config.ByteSize(maxBytes)
					seed := uint64(maxBytes) + uint64(len(name))
					twoStep, direct := writeBoth(t, cfg, enc, func() []*record.Batch { return testBatches(seed, 40) })
					require.NotEmpty(t, twoStep)
					require.Equal(t, len(twoStep), len(direct), "requests, max_bytes %d ids %v id_field %q parser %s", maxBytes, ids, idField, name)
					for k := range twoStep {
						require.Equal(t, twoStep[k].body, direct[k].body, "body %d, max_bytes %d ids %v id_field %q parser %s", k, maxBytes, ids, idField, name)
						require.Equal(t, twoStep[k].items, direct[k].items, "items of body %d", k)
					}
				}
			}
		}
	}
}

// TestWriteDirectDeclinesShaping: with conventions that rewrite documents
// (another schema) WriteDirect declines, having written nothing, and the
// batch goes the two-step way.
func TestWriteDirectDeclinesShaping(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Schema = "ecs"
	o, err := New(cfg, nil)
	require.NoError(t, err)
	w := o.NewWriter().(*writer)
	b := testBatches(1, 1)[0]
	done, err := w.WriteDirect(context.Background(), b, document.New(nil, time.Now().UnixNano))
	require.NoError(t, err)
	require.False(t, done)
	require.Nil(t, w.req, "nothing written")
}

// TestWriteDirectAllocatesNothing: WriteDirect allocates nothing per
// record once its buffers have grown, and no more per batch than Write
// (a numbered batch's ids allocate their cipher stream).
func TestWriteDirectAllocatesNothing(t *testing.T) {
	enc := document.New(parserTransforms(t, "{ type: json, field: log }"), time.Now().UnixNano)
	ctx := context.Background()
	for _, src := range []string{"file", "syslog"} {
		batch := benchBatch(500)
		if src == "syslog" {
			batch = syslogBatch(t, 500)
		}
		w := benchWriter(t, true, "sluice_id")
		require.NoError(t, w.Write(ctx, batch))
		drain(w)
		write := testing.AllocsPerRun(50, func() {
			if err := w.Write(ctx, batch); err != nil {
				t.Fatal(err)
			}
			drain(w)
		})
		_, err := w.WriteDirect(ctx, batch, enc)
		require.NoError(t, err)
		drain(w)
		direct := testing.AllocsPerRun(50, func() {
			if _, err := w.WriteDirect(ctx, batch, enc); err != nil {
				t.Fatal(err)
			}
			drain(w)
		})
		require.LessOrEqual(t, direct, write, "allocations per 500-record batch, %s", src)
		require.Less(t, direct, 5.0, "allocations per 500-record batch, %s", src)
		if src == "file" {
			require.Zero(t, direct, "allocations per 500-record batch, %s", src)
		}
	}
}

// FuzzWriteDirect: any two lines, any max_bytes, give the same bodies both
// ways.
func FuzzWriteDirect(f *testing.F) {
	f.Add([]byte(`{"a":1}`), []byte("\x01\x02 plain"), uint16(2048), true)
	f.Add([]byte(""), []byte(`{"log":"x"}`), uint16(300), false)
	enc := document.New(parserTransforms(f, "{ type: json, field: log }"), func() int64 { return baseTime.UnixNano() })
	f.Fuzz(func(t *testing.T, a, b []byte, maxBytes uint16, idField bool) {
		cfg := testConfig("http://127.0.0.1:1")
		cfg.Bulk.MaxBytes = config.ByteSize(max(int(maxBytes), 256))
		if idField {
			cfg.IDField = "sluice_id"
		}
		mk := func() []*record.Batch {
			src := testSource("api-1")
			var out []*record.Batch
			for k := range 3 {
				batch := record.NewBatch(src, nil)
				batch.Seq = uint64(k)
				for n := range 20 {
					line := a
					if n%3 == k%3 {
						line = b
					}
					batch.Add(record.Record{Time: baseTime.Add(time.Duration(n) * time.Second).UnixNano(), Offset: int64(k*100 + n)}, line)
				}
				out = append(out, batch)
			}
			return out
		}
		twoStep, direct := writeBoth(t, cfg, enc, mk)
		require.Equal(t, twoStep, direct)
	})
}

// BenchmarkWriteDirect: the pipeline's two steps (EncodeBatch into the
// batch's documents, then Write copies them into the body) against
// WriteDirect (encoded once, in the body), on the file-like and
// syslog-like batches of BenchmarkWrite and BenchmarkWriteSyslog, JSON
// lines merged.
//
//	go test -run '^$' -bench BenchmarkWriteDirect -count 6 ./agent/elasticsearch/
func BenchmarkWriteDirect(b *testing.B) {
	enc := document.New(parserTransforms(b, "{ type: json, field: log }"), time.Now().UnixNano)
	for _, kind := range []string{"file", "syslog"} {
		for _, direct := range []bool{false, true} {
			name := kind + "/two-step"
			if direct {
				name = kind + "/direct"
			}
			b.Run(name, func(b *testing.B) {
				const n = 500
				batch := benchBatch(n)
				if kind == "syslog" {
					batch = syslogBatch(b, n)
				}
				// The records' own lines, as a worker gets them.
				lines := make([]record.Record, n)
				copy(lines, batch.Records)
				batch.Records, batch.Buf = batch.Records[:0], batch.Buf[:0]
				for i, r := range lines {
					line := `{"level":"info","msg":"GET /api/v1/orders/` + strconv.Itoa(i) + ` 200","duration_ms":` + strconv.Itoa(i%97) + `,"user":"alice","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`
					var extra []byte
					if kind == "syslog" {
						extra = []byte(`"syslog":{"facility":4,"severity":6,"hostname":"host-1.example.com","app_name":"sshd","proc_id":"1234"},"source_ip":"127.0.0.1"`)
					}
					batch.AddExtra(r, []byte(line), extra)
				}
				cfg := testConfig("http://127.0.0.1:1")
				if kind == "syslog" {
					cfg.Index = "syslog-%Y.%m.%d"
				}
				o, err := New(cfg, nil)
				require.NoError(b, err)
				w := o.NewWriter().(*writer)
				ctx := context.Background()
				one := func() {
					if direct {
						if _, err := w.WriteDirect(ctx, batch, enc); err != nil {
							b.Fatal(err)
						}
					} else {
						enc.EncodeBatch(batch)
						if err := w.Write(ctx, batch); err != nil {
							b.Fatal(err)
						}
					}
					drain(w)
				}
				one()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					one()
				}
			})
		}
	}
}
