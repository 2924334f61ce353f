package cri

import (
	"bytes"
	"testing"
	"time"
)

// BenchmarkParse parses the lines of the corpus CRI file and testdata with
// Parse, with a Parser, and, as the baseline, the obvious way: bytes.SplitN
// and time.Parse.
//
//	go test -run '^$' -bench 'BenchmarkParse$' -count 6 -benchmem ./parsers/cri | tee cri.txt
func BenchmarkParse(b *testing.B) {
	var lines [][]byte
	var size int64
	for _, line := range seedLines(b) {
		if Looks(line) {
			lines = append(lines, line)
			size += int64(len(line)) + 1
		}
	}
	b.Run("sluice", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			for _, line := range lines {
				if _, err := Parse(line); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("Parser", func(b *testing.B) {
		var p Parser
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			for _, line := range lines {
				if _, err := p.Parse(line); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("splitn+time.Parse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			for _, line := range lines {
				parts := bytes.SplitN(line, []byte(" "), 4)
				if len(parts) < 3 {
					b.Fatal("short line")
				}
				if _, err := time.Parse(time.RFC3339Nano, string(parts[0])); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkLooks measures format detection on a line that is not CRI.
//
//	go test -run '^$' -bench 'BenchmarkLooks$' -count 6 -benchmem ./parsers/cri
func BenchmarkLooks(b *testing.B) {
	line := []byte(`{"log":"hello\n","stream":"stdout","time":"2019-04-01T17:58:33.598656444Z"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if Looks(line) {
			b.Fatal("docker line looks like CRI")
		}
	}
}

// BenchmarkParseOrdered parses a time-ordered run of containerd lines
// (about 800 a second, fractions trimmed of trailing zeros), one line per
// op: Parse, then a Parser.
//
//	go test -run '^$' -bench 'BenchmarkParseOrdered' -count 6 -benchmem ./parsers/cri | tee ordered.txt
//	benchstat -col /impl ordered.txt
func BenchmarkParseOrdered(b *testing.B) {
	var lines [][]byte
	ns := int64(1795600800e9)
	for i := range 4096 {
		line := time.Unix(0, ns).UTC().AppendFormat(nil, time.RFC3339Nano)
		lines = append(lines, append(line, " stdout F GET /api/v1/orders?page=2 200 1234"...))
		ns += 1_234_567 + int64(i%7)*100_003
	}
	b.Run("impl=func", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := Parse(lines[i]); err != nil {
				b.Fatal(err)
			}
			if i++; i == len(lines) {
				i = 0
			}
		}
	})
	b.Run("impl=Parser", func(b *testing.B) {
		var p Parser
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := p.Parse(lines[i]); err != nil {
				b.Fatal(err)
			}
			if i++; i == len(lines) {
				i = 0
			}
		}
	})
}
