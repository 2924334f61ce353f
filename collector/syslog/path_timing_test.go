package syslog

import (
	"crypto/aes"
	"testing"
	"time"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/bench/sink"
)

// BenchmarkPath is the per-message CPU of W2 (the harness's -syslog
// workload, bench/sink.AppendSyslog's messages) in the agent's user code, without the kernel and the HTTP
// hand-offs: a 64KiB read of LF-framed messages split by the framer
// ("input": framing, RFC 5424 parse, the record into a batch) and then
// ("input+encode") each record's document and id as the Elasticsearch
// output writes them. ns/msg is per message.
//
//	go test -run '^$' -bench 'BenchmarkPath' -count 6 ./collector/syslog/
func BenchmarkPath(b *testing.B) {
	var stream []byte
	for seq := 0; len(stream) < 60<<10; seq++ {
		stream = sink.AppendSyslog(stream, 1, 123456+seq)
	}
	key, err := aes.NewCipher([]byte("fedcba9876543210"))
	if err != nil {
		b.Fatal(err)
	}
	in, err := New(testConfig(), nil, discardLogger())
	if err != nil {
		b.Fatal(err)
	}
	enc := document.New(nil, func() int64 { return 1 })
	for _, step := range []string{"input", "input+encode"} {
		b.Run("step="+step, func(b *testing.B) {
			bt := in.newBatcher(&record.Source{Input: "syslog", IDKey: key})
			fr := newFramer(64<<10, nil)
			ip := appendSourceIP(nil, mustAddr("10.1.2.3"))
			var doc, ids, ks []byte
			recv := time.Now().UnixNano()
			msgs := 0
			for b.Loop() {
				fr.start, fr.end = 0, copy(fr.buf[:cap(fr.buf)], stream)
				if fr.end < len(stream) {
					fr.buf = make([]byte, 64<<10)
					fr.end = copy(fr.buf, stream)
				}
				for {
					frame, truncated, ok := fr.next()
					if !ok {
						break
					}
					bt.add(frame, truncated, false, recv, ip)
				}
				batch := bt.b
				msgs += len(batch.Records)
				if step == "input+encode" {
					var ok bool
					ids, ks, ok = record.AppendIDs(ids[:0], ks, batch.Source, batch.Records)
					if !ok {
						b.Fatal("ids not computed at once")
					}
					be := enc.Batch(batch)
					doc = doc[:0]
					for i := range batch.Records {
						doc = be.Append(doc, &batch.Records[i])
					}
				}
				batch.Records, batch.Buf = batch.Records[:0], batch.Buf[:0]
				bt.out = outcome{}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(msgs), "ns/msg")
		})
	}
}
