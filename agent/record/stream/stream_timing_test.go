package stream

import "testing"

// BenchmarkParse maps stream names as the cri and docker parsers do per line.
//
//	go test -run '^$' -bench 'BenchmarkParse$' -count 6 -benchmem ./agent/record/stream
func BenchmarkParse(b *testing.B) {
	names := [][]byte{[]byte("stdout"), []byte("stderr"), []byte("stdin")}
	b.ReportAllocs()
	b.SetBytes(18)
	n := 0
	for b.Loop() {
		for _, name := range names {
			n += int(Parse(name))
		}
	}
	if n == 0 {
		b.Fatal("unreachable")
	}
}
