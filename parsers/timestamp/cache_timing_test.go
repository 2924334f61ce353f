package timestamp

import (
	"bytes"
	"testing"
)

// orderedTimes returns n times in order from 2026-11-25T10:00:00Z, about
// 800 a second, as a busy container or syslog sender writes them.
func orderedTimes(n int) []int64 {
	out := make([]int64, n)
	ns := int64(1795600800e9)
	for i := range out {
		out[i] = ns
		ns += 1_234_567 + int64(i%7)*100_003
	}
	return out
}

// BenchmarkParserOrdered parses a time-ordered run of containerd-style
// timestamps (fraction trimmed of trailing zeros, so 1 to 9 digits), one
// timestamp per op: the package function, then a Parser.
//
//	go test -run '^$' -bench 'BenchmarkParserOrdered' -count 6 -benchmem ./parsers/timestamp | tee parser.txt
//	benchstat -col /impl parser.txt
func BenchmarkParserOrdered(b *testing.B) {
	var in [][]byte
	for _, ns := range orderedTimes(4096) {
		s := AppendRFC3339Nano(nil, ns)
		s = bytes.TrimRight(s[:len(s)-1], "0")
		in = append(in, append(bytes.TrimSuffix(s, []byte(".")), 'Z'))
	}
	b.Run("impl=func", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok := ParseRFC3339(in[i]); !ok {
				b.Fatal("parse failed")
			}
			if i++; i == len(in) {
				i = 0
			}
		}
	})
	b.Run("impl=Parser", func(b *testing.B) {
		b.ReportAllocs()
		var p Parser
		i := 0
		for b.Loop() {
			if _, ok := p.ParseRFC3339(in[i]); !ok {
				b.Fatal("parse failed")
			}
			if i++; i == len(in) {
				i = 0
			}
		}
	})
}

// BenchmarkFormatterOrdered formats a time-ordered run of times, one per
// op: the package function, then a Formatter.
//
//	go test -run '^$' -bench 'BenchmarkFormatterOrdered' -count 6 -benchmem ./parsers/timestamp | tee formatter.txt
//	benchstat -col /impl formatter.txt
func BenchmarkFormatterOrdered(b *testing.B) {
	times := orderedTimes(4096)
	buf := make([]byte, 0, 64)
	b.Run("impl=func", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			buf = AppendRFC3339Nano(buf[:0], times[i])
			if i++; i == len(times) {
				i = 0
			}
		}
	})
	b.Run("impl=Formatter", func(b *testing.B) {
		b.ReportAllocs()
		var f Formatter
		i := 0
		for b.Loop() {
			buf = f.AppendRFC3339Nano(buf[:0], times[i])
			if i++; i == len(times) {
				i = 0
			}
		}
	})
}
