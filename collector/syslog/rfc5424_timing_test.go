package syslog

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/sluicelog/sluice/agent/record"
)

// BenchmarkFast5424 compares the RFC 5424 fast path with the library path
// on the load test's ~170-byte message: the parse alone ("parse") and the
// whole per-message step into a batch ("add").
//
//	go test -run '^$' -bench 'BenchmarkFast5424' -count 6 -benchmem ./collector/syslog/ | tee fast.txt
//	bin/benchstat -col /path fast.txt
func BenchmarkFast5424(b *testing.B) {
	frame := benchMessage(nil, 123456)
	recvNow := time.Now().UnixNano()
	for _, path := range []string{"library", "fast"} {
		p := newParser("auto")
		p.libraryOnly = path == "library"
		b.Run("step=parse/path="+path, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				var f fields
				if p.parse(&f, frame, recvNow); f.malformed {
					b.Fatal("malformed")
				}
			}
		})
		// Messages from four hosts in turn, as a relay sends them: the
		// header of the last one is never repeated (lastHeader misses).
		b.Run("step=add-relay/path="+path, func(b *testing.B) {
			var frames [4][]byte
			for h := range frames {
				frames[h] = bytes.Replace(frame, []byte(" host-01."), fmt.Appendf(nil, " host-%02d.", h+1), 1)
			}
			batch := record.NewBatch(&record.Source{Input: "b"}, nil)
			var out outcome
			ip := appendSourceIP(nil, mustAddr("10.1.2.3"))
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			i := 0
			for b.Loop() {
				if len(batch.Records) == 400 {
					batch.Records, batch.Buf = batch.Records[:0], batch.Buf[:0]
				}
				p.add(batch, frames[i&3], false, false, recvNow, ip, &out)
				i++
			}
			if out.malformed != 0 {
				b.Fatal("malformed")
			}
		})
		b.Run("step=add/path="+path, func(b *testing.B) {
			batch := record.NewBatch(&record.Source{Input: "b"}, nil)
			var out outcome
			ip := appendSourceIP(nil, mustAddr("10.1.2.3"))
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if len(batch.Records) == 400 {
					batch.Records, batch.Buf = batch.Records[:0], batch.Buf[:0]
				}
				p.add(batch, frame, false, false, recvNow, ip, &out)
			}
			if out.malformed != 0 {
				b.Fatal("malformed")
			}
		})
	}
}
