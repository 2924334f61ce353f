package syslog

import (
	"testing"
	"time"

	"github.com/sluicelog/sluice/agent/record"
)

// BenchmarkUnacked is the lag table's cost per batch: a batch noted at
// its hand-over and forgotten at its ack, with 256 others outstanding.
//
//	go test -run '^$' -bench 'BenchmarkUnacked' -count 6 -benchmem ./collector/syslog/
func BenchmarkUnacked(b *testing.B) {
	var u unacked
	src := &record.Source{}
	const outstanding = 256
	ring := make([]*record.Batch, outstanding)
	for i := range ring {
		ring[i] = &record.Batch{Source: src}
		u.add(ring[i], time.Now())
	}
	now := time.Now()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		bt := ring[i%outstanding]
		u.Ack(bt)
		u.add(bt, now)
		i++
	}
}
