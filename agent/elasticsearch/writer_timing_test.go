package elasticsearch

import (
	"context"
	"crypto/aes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
)

// benchBatch is a batch of n records like a busy pod's: ~350-byte
// documents with Kubernetes metadata and a JSON-ish log line.
func benchBatch(n int) *record.Batch {
	src := testSource("checkout-7d9f8b6c4d-x2x9k")
	pad := strings.Repeat("x", 120)
	return newTestBatch(src, nil, 0, 0, n, func(i int) string {
		return strings.Replace(testDoc(src, i), `"log":"line `+strconv.Itoa(i)+`"`,
			`"log":"GET /api/v1/orders/`+strconv.Itoa(i)+` 200 `+pad+`"`, 1)
	})
}

func benchWriter(tb testing.TB, ids bool, idField string) *writer {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.IDs = &ids
	cfg.IDField = idField
	o, err := New(cfg, nil)
	require.NoError(tb, err)
	return o.NewWriter().(*writer)
}

// drain empties the writer's request in place, as if it had been sent,
// and drops the reference it held on each batch.
func drain(w *writer) {
	r := w.req
	for _, b := range r.batches {
		b.Done()
	}
	clear(r.batches)
	r.batches, r.items, r.body = r.batches[:0], r.items[:0], r.body[:0]
}

// BenchmarkWrite encodes a 500-record batch into a bulk body: index name,
// id, action line, id field splice and document copy. No network.
//
//	go test -run '^$' -bench BenchmarkWrite -benchmem -count 6 ./agent/elasticsearch/ | tee write.txt
func BenchmarkWrite(b *testing.B) {
	for _, v := range []struct {
		name    string
		ids     bool
		idField string
	}{
		{"ids+id_field", true, "sluice_id"},
		{"ids", true, ""},
		{"no_ids", false, ""},
	} {
		b.Run(v.name, func(b *testing.B) {
			const n = 500
			batch := benchBatch(n)
			w := benchWriter(b, v.ids, v.idField)
			ctx := context.Background()
			require.NoError(b, w.Write(ctx, batch))
			b.SetBytes(int64(len(w.req.body)))
			drain(w)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				if err := w.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
				drain(w)
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
	// Baseline: an action line marshalled per record with encoding/json,
	// as a naive bulk encoder does; same ids, same documents.
	b.Run("baseline-json.Marshal-action", func(b *testing.B) {
		const n = 500
		batch := benchBatch(n)
		type meta struct {
			Index string `json:"_index"`
			ID    string `json:"_id,omitempty"`
		}
		type action struct {
			Create meta `json:"create"`
		}
		var body []byte
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			body = body[:0]
			for i := range batch.Records {
				id := record.AppendID(nil, batch.Source, &batch.Records[i])
				a, err := json.Marshal(action{Create: meta{Index: "logs-" + batch.Source.Namespace + "-2026.11.25", ID: string(id)}})
				if err != nil {
					b.Fatal(err)
				}
				body = append(body, a...)
				body = append(body, '\n')
				body = append(body, batch.Doc(i)...)
				body = append(body, '\n')
			}
		}
		b.SetBytes(int64(len(body)))
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*n), "ns/record")
	})
}

// syslogBatch is a batch of n records like the syslog input's: a numbered
// source (ids for the whole batch at once) and ~300-byte documents
// without Kubernetes metadata.
func syslogBatch(tb testing.TB, n int) *record.Batch {
	key, err := aes.NewCipher([]byte("fedcba9876543210"))
	require.NoError(tb, err)
	src := &record.Source{Input: "syslog", IDKey: key, IDConn: 3}
	b := newTestBatch(src, nil, 0, 0, n, func(i int) string {
		ts := baseTime.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano)
		return `{"@timestamp":"` + ts + `","log":"user alice logged in from 10.1.2.3 port ` + strconv.Itoa(40000+i) +
			` ssh2","syslog":{"facility":4,"severity":6,"hostname":"host-1.example.com","app_name":"sshd","proc_id":"1234",` +
			`"msg_id":"ID47","structured_data":{"exampleSDID@32473":{"iut":"3","eventSource":"Application"}}},"source_ip":"127.0.0.1"}`
	})
	for i := range b.Records {
		b.Records[i].Offset = 5000 + int64(i)
	}
	return b
}

// BenchmarkWriteSyslog is BenchmarkWrite on syslog's batches, written to
// an index named by the day as the syslog workload's output is.
//
//	go test -run '^$' -bench BenchmarkWriteSyslog -count 6 ./agent/elasticsearch/
func BenchmarkWriteSyslog(b *testing.B) {
	const n = 500
	batch := syslogBatch(b, n)
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Index = "syslog-%Y.%m.%d"
	o, err := New(cfg, nil)
	require.NoError(b, err)
	w := o.NewWriter().(*writer)
	ctx := context.Background()
	require.NoError(b, w.Write(ctx, batch))
	_, _, ok := record.AppendIDs(nil, nil, batch.Source, batch.Records)
	require.True(b, ok, "ids of the batch computed at once")
	b.SetBytes(int64(len(w.req.body)))
	drain(w)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if err := w.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
		drain(w)
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*n), "ns/record")
}

// TestWriteAllocatesNothing pins the encoder at zero allocations per record once its
// buffers have grown, so `make test` catches a regression.
func TestWriteAllocatesNothing(t *testing.T) {
	batch := benchBatch(500)
	w := benchWriter(t, true, "sluice_id")
	ctx := context.Background()
	require.NoError(t, w.Write(ctx, batch))
	drain(w)
	allocs := testing.AllocsPerRun(50, func() {
		if err := w.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		drain(w)
	})
	require.Zero(t, allocs, "allocations per 500-record Write")
}

// TestWriteNumberedIDs: a batch whose source numbers its records (syslog)
// gets the ids AppendID gives each record, whether the numbers run without
// a gap (computed for the whole batch at once) or not.
func TestWriteNumberedIDs(t *testing.T) {
	key, err := aes.NewCipher([]byte("fedcba9876543210"))
	require.NoError(t, err)
	for _, gap := range []bool{false, true} {
		src := testSource("syslog")
		src.IDSeed, src.IDKey, src.IDConn = nil, key, 12
		b := newTestBatch(src, nil, 0, 0, 50, nil)
		for i := range b.Records {
			b.Records[i].Offset = 1000 + int64(i)
			if gap && i >= 30 {
				b.Records[i].Offset += 7
			}
		}
		w := benchWriter(t, true, "")
		require.NoError(t, w.Write(context.Background(), b))
		_, _, atOnce := record.AppendIDs(nil, nil, src, b.Records)
		require.Equal(t, !gap, atOnce, "ids of the batch computed at once")
		var want []string
		for i := range b.Records {
			want = append(want, string(record.AppendID(nil, src, &b.Records[i])))
		}
		var got []string
		for _, m := range regexp.MustCompile(`"_id":"([^"]+)"`).FindAllSubmatch(w.req.body, -1) {
			got = append(got, string(m[1]))
		}
		require.Equal(t, want, got, "gap %v", gap)
		drain(w)
	}
}

// TestWriteActionLinesFollowTheIndex: a writer keeps the start of the
// action line of the index it last wrote to; each line still names the
// index of its own record when the index changes between batches (another
// namespace) and within one (a record of the next day).
func TestWriteActionLinesFollowTheIndex(t *testing.T) {
	w := benchWriter(t, true, "")
	a := newTestBatch(testSource("api-1"), nil, 0, 0, 3, nil)
	other := testSource("web-1")
	other.Namespace = "shop"
	b := newTestBatch(other, nil, 0, 0, 3, nil)
	b.Records[2].Time = baseTime.Add(24 * time.Hour).UnixNano()
	c := newTestBatch(testSource("api-2"), nil, 0, 3, 2, nil)
	var want []byte
	for _, batch := range []*record.Batch{a, b, c} {
		require.NoError(t, w.Write(context.Background(), batch))
		for i := range batch.Records {
			day := time.Unix(0, batch.Records[i].Time).UTC().Format("2006.01.02")
			index := "logs-" + batch.Source.Namespace + "-" + day
			id := record.AppendID(nil, batch.Source, &batch.Records[i])
			want = appendAction(want, []byte(index), id)
			want = append(want, batch.Doc(i)...)
			want = append(want, '\n')
		}
	}
	require.Equal(t, string(want), string(w.req.body))
	require.Contains(t, string(w.req.body), `"_index":"logs-shop-`+baseTime.Add(24*time.Hour).UTC().Format("2006.01.02")+`"`)
	drain(w)
}
