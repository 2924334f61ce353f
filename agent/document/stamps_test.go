package document

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// TestEncodeBatchStamps checks that a batch's documents, whose @timestamp
// text EncodeBatch caches per second, are byte for byte what Append (a
// fresh cache per record) and the package formatter write: records in
// time order, two seconds in turn, missing times (now), times before 1970,
// and time fields that parse, fail or keep to another second.
func TestEncodeBatchStamps(t *testing.T) {
	tr := transforms("{ type: json, time: { field: ts, layout: rfc3339 } }")
	now := int64(1_700_000_000_123_456_789)
	e := New(tr, func() int64 { return now })
	src := &record.Source{Meta: meta}

	var recs []record.Record
	var lines []string
	var wantStamp []int64 // the @timestamp each document must have
	add := func(ns int64, line string, stamp int64) {
		recs = append(recs, record.Record{Time: ns, Stream: stream.Stdout})
		lines = append(lines, line)
		wantStamp = append(wantStamp, stamp)
	}
	base := int64(1_795_600_800e9)
	for i := range int64(50) {
		ns := base + i*123_456_789
		add(ns, "plain", ns)
		field := fmt.Sprintf("2026-11-25T09:59:%02d.%dZ", 50+i%3, i)
		fieldNs, ok := timestamp.ParseRFC3339([]byte(field))
		if !ok {
			t.Fatal(field)
		}
		add(ns, `{"ts":"`+field+`","msg":"field"}`, fieldNs)
		add(ns+1, `{"ts":"not a time","msg":"fallback"}`, ns+1)
		add(base+(i%2)*1e9, `{"msg":"two seconds in turn"}`, base+(i%2)*1e9)
		add(0, "read time", now)
		add(-ns, "before 1970", -ns)
	}

	b := record.NewBatch(src, nil)
	defer b.Discard()
	for i, r := range recs {
		b.Add(r, []byte(lines[i]))
	}
	e.EncodeBatch(b)
	if len(b.DocEnds) != len(recs) {
		t.Fatalf("%d documents for %d records", len(b.DocEnds), len(recs))
	}
	for i := range recs {
		want := e.Append(nil, src, &b.Records[i])
		if got := b.Doc(i); !bytes.Equal(got, want) {
			t.Fatalf("record %d: EncodeBatch writes\n%s\nAppend writes\n%s", i, got, want)
		}
		// And the @timestamp is what the package function writes.
		prefix := timestamp.AppendRFC3339Nano([]byte(`{"@timestamp":"`), wantStamp[i])
		if !bytes.HasPrefix(b.Doc(i), prefix) {
			t.Fatalf("record %d: %s does not start with %s", i, b.Doc(i), prefix)
		}
	}
}

func TestEncodeBatchAllocatesNothing(t *testing.T) {
	e := New(jsonMerge, func() int64 { return 1 })
	b := orderedBatch(64, `{"level":"info","msg":"hi","n":[1,2,{"x":null}]}`)
	defer b.Discard()
	e.EncodeBatch(b) // size Docs and DocEnds
	if n := testing.AllocsPerRun(100, func() { e.EncodeBatch(b) }); n != 0 {
		t.Fatalf("EncodeBatch allocates %.1f times per batch", n)
	}
}
