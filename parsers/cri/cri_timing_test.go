package cri

import (
	"bytes"
	"testing"
	"time"
)

// BenchmarkParse parses the lines of the corpus CRI file and testdata, and,
// as the baseline, the obvious way: bytes.SplitN and time.Parse.
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
