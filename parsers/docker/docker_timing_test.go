package docker

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkParse parses the valid lines of the docker corpus and testdata
// ("corpus"), and one 16 KiB partial line ("16KiB"), the longest docker
// writes, with Parse and (".../Parser") with a Parser.
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
		b.Run(c.name+"/Parser", func(b *testing.B) {
			var size int64
			for _, line := range c.lines {
				size += int64(len(line)) + 1
			}
			var p Parser
			buf := make([]byte, 0, 32<<10)
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				for _, line := range c.lines {
					var err error
					if _, buf, err = p.Parse(buf[:0], line); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkParseOrdered parses a time-ordered run of json-file lines
// (about 800 a second, fractions trimmed of trailing zeros), one line per
// op: Parse, then a Parser.
//
//	go test -run '^$' -bench 'BenchmarkParseOrdered' -count 6 -benchmem ./parsers/docker | tee ordered.txt
//	benchstat -col /impl ordered.txt
func BenchmarkParseOrdered(b *testing.B) {
	var lines [][]byte
	ns := int64(1795600800e9)
	for i := range 4096 {
		line := []byte(`{"log":"GET /api/v1/orders?page=2 200 1234\n","stream":"stdout","time":"`)
		line = time.Unix(0, ns).UTC().AppendFormat(line, time.RFC3339Nano)
		lines = append(lines, append(line, `"}`...))
		ns += 1_234_567 + int64(i%7)*100_003
	}
	buf := make([]byte, 0, 256)
	b.Run("impl=func", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			var err error
			if _, buf, err = Parse(buf[:0], lines[i]); err != nil {
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
			var err error
			if _, buf, err = p.Parse(buf[:0], lines[i]); err != nil {
				b.Fatal(err)
			}
			if i++; i == len(lines) {
				i = 0
			}
		}
	})
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
