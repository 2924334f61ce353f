package spool

import (
	"context"
	"testing"
	"time"

	"github.com/sluicelog/sluice/agent/record"
)

// nullSink acknowledges every batch at once, as a store that keeps up.
type nullSink struct{}

func (nullSink) Push(_ context.Context, b *record.Batch) error { b.Done(); return nil }

// syslogBatch is a 64 KiB batch of 200-byte messages, as a busy syslog
// connection hands over.
func syslogBatch() *record.Batch {
	b := record.NewBatch(&record.Source{Input: "syslog", Path: "tcp://0.0.0.0:5140"}, nil)
	msg := []byte("<14>1 2026-12-06T10:00:00.000000Z host-17 payments 4242 ID47 - user 1234 paid order 98765 in 12 ms with card ending 4242, status ok, region eu-west-1, trace 5f2c9a")
	extra := []byte(`"syslog":{"facility":"user","severity":"info"},"source_ip":"10.0.0.17"`)
	for i := 0; len(b.Buf) < 64<<10; i++ {
		b.AddExtra(record.Record{Time: int64(i), Offset: int64(i)}, msg, extra)
	}
	return b
}

// BenchmarkPush is the write path: encode and append one batch, with
// each fsync policy; records/s and MB/s are per writing goroutine.
func BenchmarkPush(b *testing.B) {
	for _, sync := range []string{SyncInterval, SyncBatch} {
		b.Run(sync, func(b *testing.B) {
			cfg := Config{Dir: b.TempDir(), Input: "syslog", MaxBytes: 1 << 40, Sync: sync, SyncEvery: time.Second, WhenFull: Block}
			s, err := Open(cfg, nullSink{}, discard)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			tmpl := syslogBatch()
			n := len(tmpl.Records)
			b.SetBytes(int64(len(appendEntry(nil, tmpl, 0))))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				bt := record.NewBatch(tmpl.Source, nil)
				bt.Buf, bt.Records = append(bt.Buf[:0], tmpl.Buf...), append(bt.Records[:0], tmpl.Records...)
				if err := s.Push(context.Background(), bt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// The write and read paths allocate nothing per record: a batch of 300+
// records costs a bounded number of allocations (the pooled batch when the
// pool is empty), whatever its size.
func TestPerRecordAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector; make test-alloc runs this without it")
	}
	s, err := Open(Config{Dir: t.TempDir(), Input: "syslog", MaxBytes: 1 << 40, Sync: SyncInterval, SyncEvery: time.Hour, WhenFull: Block}, nullSink{}, discard)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := syslogBatch()
	push := func() {
		bt := record.NewBatch(tmpl.Source, nil)
		bt.Buf, bt.Records = append(bt.Buf[:0], tmpl.Buf...), append(bt.Records[:0], tmpl.Records...)
		if err := s.Push(context.Background(), bt); err != nil {
			t.Fatal(err)
		}
	}
	push()
	if a := testing.AllocsPerRun(50, push); a > 2 {
		t.Errorf("Push of a %d-record batch: %.1f allocations, want at most 2", len(tmpl.Records), a)
	}
	r := &reader{s: s, window: make([]byte, 64<<10)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.enter(ctx, pos{}); err != nil {
		t.Fatal(err)
	}
	read := func() {
		e, n, err := r.entryAt(r.seg.size.Load())
		if err != nil {
			t.Fatal(err)
		}
		if err := r.handOver(ctx, e, n); err != nil {
			t.Fatal(err)
		}
	}
	read()
	if a := testing.AllocsPerRun(40, read); a > 2 {
		t.Errorf("reading back a %d-record batch: %.1f allocations, want at most 2", len(tmpl.Records), a)
	}
	r.closeFile()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
