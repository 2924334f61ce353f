package spool

import (
	"bytes"
	"testing"

	"github.com/sluicelog/sluice/agent/record"
)

// FuzzEntry reads arbitrary bytes as a spool entry, as the reader does
// with what a crash or a bad disk left: it never panics, a length beyond
// the bytes is refused, and what it accepts encodes back to the same
// records.
func FuzzEntry(f *testing.F) {
	f.Add(appendEntry(nil, batch("tcp://127.0.0.1:514", 0, 3), 42))
	f.Add(appendEntry(nil, batch("", 7, 1), 0))
	torn := appendEntry(nil, batch("udp://x", 0, 2), 1)
	f.Add(torn[:len(torn)-3])
	f.Add([]byte("SPL1\x00\x00\x00\x10"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		plen, err := checkHeader(raw)
		if err != nil || headerLen+plen > len(raw) {
			return
		}
		e, err := decode(raw[:headerLen], raw[headerLen:headerLen+plen])
		if err != nil {
			return
		}
		b := record.NewBatch(&record.Source{Path: string(e.path)}, nil)
		defer b.Discard()
		if err := addRecords(b, e, 0); err != nil {
			return
		}
		again := appendEntry(nil, b, e.spooled)
		if !bytes.Equal(again, raw[:headerLen+plen]) {
			t.Fatalf("accepted entry encodes back differently:\n%x\n%x", raw[:headerLen+plen], again)
		}
	})
}
