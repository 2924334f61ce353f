package elasticsearch

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

func TestAppendAction(t *testing.T) {
	f := func(index, id, want string) {
		t.Helper()
		got := appendAction([]byte("x"), []byte(index), []byte(id))
		require.Equal(t, "x"+want, string(got))
	}
	f("logs-a-2026.11.25", "q1ZbVfJ7wT1aHj4mnUCG7A", `{"create":{"_index":"logs-a-2026.11.25","_id":"q1ZbVfJ7wT1aHj4mnUCG7A"}}`+"\n")
	f("logs-a", "", `{"create":{"_index":"logs-a"}}`+"\n")
}

func TestAppendDoc(t *testing.T) {
	key := idFieldPrefix("sluice_id")
	f := func(doc, id string, key []byte, want string) {
		t.Helper()
		got := appendDoc([]byte("x"), []byte(doc), key, []byte(id))
		require.Equal(t, "x"+want+"\n", string(got))
	}
	f(`{"log":"a"}`, "ID1", key, `{"sluice_id":"ID1","log":"a"}`)
	f(`{}`, "ID1", key, `{"sluice_id":"ID1"}`)
	f(`{ }`, "ID1", key, `{"sluice_id":"ID1"}`)
	f(`{"log":"a"}`, "", key, `{"log":"a"}`)    // no id: nothing to splice
	f(`{"log":"a"}`, "ID1", nil, `{"log":"a"}`) // no id_field
	f(`[1]`, "ID1", key, `[1]`)                 // not an object: left to the server
	f(`{"log":"a"}`, "ID1", idFieldPrefix(`we"ird`), `{"we\"ird":"ID1","log":"a"}`)
}

func TestWriteEncodesBody(t *testing.T) {
	f := func(ids bool, idField string, want func(id0, id1 string) string) {
		t.Helper()
		cfg := testConfig("http://127.0.0.1:1")
		cfg.IDs = &ids
		cfg.IDField = idField
		cfg.Index = "logs-{kubernetes.namespace_name}-{stream}-%Y.%m.%d"
		o, err := New(cfg, nil)
		require.NoError(t, err)
		src := testSource("api-1")
		b := record.NewBatch(src, nil)
		day := time.Date(2026, 11, 25, 23, 59, 59, 0, time.UTC).UnixNano()
		b.Add(record.Record{Time: day, Offset: 0, Stream: stream.Stdout}, []byte("a"))
		b.Add(record.Record{Time: day + int64(time.Second), Offset: 2, Stream: stream.Stderr}, []byte("b"))
		b.Docs = append(b.Docs, `{"log":"a"}`+"\n"+`{"log":"b"}`...)
		b.DocEnds = append(b.DocEnds, 12, 23)
		w := o.NewWriter().(*writer)
		require.NoError(t, w.Write(context.Background(), b))
		id0 := string(record.AppendID(nil, src, &b.Records[0]))
		id1 := string(record.AppendID(nil, src, &b.Records[1]))
		body := want(id0, id1)
		require.Equal(t, body, string(w.req.body))
		second := int32(strings.Index(body, "\n{\"create\"") + 1)
		require.Equal(t, []item{{0, 0, 0}, {second, 0, 1}}, w.req.items)
		require.Equal(t, body[:second], string(w.req.doc(0)))
		require.Equal(t, body[second:], string(w.req.doc(1)))
		require.Equal(t, []*record.Batch{b}, w.req.batches)
	}
	f(true, "", func(id0, id1 string) string {
		return `{"create":{"_index":"logs-payments-stdout-2026.11.25","_id":"` + id0 + `"}}` + "\n" +
			`{"log":"a"}` + "\n" +
			`{"create":{"_index":"logs-payments-stderr-2026.11.26","_id":"` + id1 + `"}}` + "\n" +
			`{"log":"b"}` + "\n"
	})
	f(true, "sluice_id", func(id0, id1 string) string {
		return `{"create":{"_index":"logs-payments-stdout-2026.11.25","_id":"` + id0 + `"}}` + "\n" +
			`{"sluice_id":"` + id0 + `","log":"a"}` + "\n" +
			`{"create":{"_index":"logs-payments-stderr-2026.11.26","_id":"` + id1 + `"}}` + "\n" +
			`{"sluice_id":"` + id1 + `","log":"b"}` + "\n"
	})
	f(false, "sluice_id", func(string, string) string {
		return `{"create":{"_index":"logs-payments-stdout-2026.11.25"}}` + "\n" + `{"log":"a"}` + "\n" +
			`{"create":{"_index":"logs-payments-stderr-2026.11.26"}}` + "\n" + `{"log":"b"}` + "\n"
	})
}

func TestWriteZeroTimeUsesNowAndSkipsEmptyDocs(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Index = "logs-%Y.%m.%d"
	o, err := New(cfg, nil)
	require.NoError(t, err)
	b := record.NewBatch(&record.Source{}, nil) // no seed: no _id
	b.Add(record.Record{Offset: -1}, []byte("a"))
	b.Add(record.Record{Offset: -1}, []byte("b"))
	b.Docs = append(b.Docs, `{"log":"a"}`...)
	b.DocEnds = append(b.DocEnds, 11, 11) // record 1 has no document
	w := o.NewWriter().(*writer)
	before := time.Now().UTC()
	require.NoError(t, w.Write(context.Background(), b))
	after := time.Now().UTC()
	var action struct {
		Create struct {
			Index string  `json:"_index"`
			ID    *string `json:"_id"`
		} `json:"create"`
	}
	require.NoError(t, json.Unmarshal(w.req.doc(0)[:len(w.req.doc(0))-len(`{"log":"a"}`+"\n")], &action))
	require.Contains(t, []string{"logs-" + before.Format("2006.01.02"), "logs-" + after.Format("2006.01.02")}, action.Create.Index)
	require.Nil(t, action.Create.ID)
	require.Len(t, w.req.items, 1)
	require.Equal(t, int64(1), o.Stats().DocsEmpty)
}
