package timelayout

import (
	"testing"
	"time"
)

// BenchmarkParse: the nginx access time with our layout next to
// time.Parse of the same Go layout (the baseline), and RFC 3339.
//
//	go test -run '^$' -bench 'BenchmarkParse' -count 6 -benchmem ./parsers/timelayout | tee timelayout.txt
func BenchmarkParse(b *testing.B) {
	in := []byte("07/Dec/2016:11:05:07 +0100")
	l, _ := New("%d/%b/%Y:%H:%M:%S %z")
	b.Run("nginx-strftime", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			l.Parse(in, ref)
		}
	})
	b.Run("time.Parse-baseline", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			_, _ = time.Parse("02/Jan/2006:15:04:05 -0700", string(in))
		}
	})
	r, _ := New("rfc3339")
	rin := []byte("2026-11-25T10:00:00.123456789Z")
	b.Run("rfc3339", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(rin)))
		for b.Loop() {
			r.Parse(rin, ref)
		}
	})
}
