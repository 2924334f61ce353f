package docker

import (
	"strings"
	"testing"
)

// BenchmarkParse parses the valid lines of the docker corpus and testdata
// ("corpus"), and one 16 KiB partial line ("16KiB"), the longest docker
// writes.
//
//	go test -run '^$' -bench 'BenchmarkParse$' -count 6 -benchmem ./parsers/docker | tee docker.txt
func BenchmarkParse(b *testing.B) {
	var lines [][]byte
	for _, line := range seedLines(b) {
		if _, _, err := Parse(nil, line); err == nil {
			lines = append(lines, line)
		}
	}
	long := `{"log":"` + strings.Repeat(`GET /api/v1/items?id=42 200 \"curl/8.0\" `, 16384/40) +
		`","stream":"stdout","time":"2019-04-01T17:58:33.598656444Z"}`
	for _, c := range []struct {
		name  string
		lines [][]byte
	}{
		{"corpus", lines},
		{"16KiB", [][]byte{[]byte(long)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var size int64
			for _, line := range c.lines {
				size += int64(len(line)) + 1
			}
			buf := make([]byte, 0, 32<<10)
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				for _, line := range c.lines {
					var err error
					if _, buf, err = Parse(buf[:0], line); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkLooks measures format detection on a docker line.
//
//	go test -run '^$' -bench 'BenchmarkLooks$' -count 6 -benchmem ./parsers/docker
func BenchmarkLooks(b *testing.B) {
	line := []byte(`{"log":"Fluent Bit is logging\n","stream":"stdout","time":"2019-04-01T17:58:33.598656444Z"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if !Looks(line) {
			b.Fatal("not docker")
		}
	}
}
