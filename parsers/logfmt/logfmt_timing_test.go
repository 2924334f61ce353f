package logfmt

import "testing"

// BenchmarkAppendMembers parses every line of the logfmt corpus per op.
//
//	go test -run '^$' -bench 'BenchmarkAppendMembers' -count 6 -benchmem ./parsers/logfmt | tee logfmt.txt
func BenchmarkAppendMembers(b *testing.B) {
	lines := corpusLines(b)
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	buf := make([]byte, 0, 1<<16)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, l := range lines {
			buf, _ = AppendMembers(buf[:0], l)
		}
	}
}
