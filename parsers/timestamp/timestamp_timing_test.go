package timestamp

import (
	"testing"
	"time"
)

// BenchmarkParseRFC3339 compares ParseRFC3339 with time.Parse on the same
// inputs.
//
//	go test -run '^$' -bench 'BenchmarkParseRFC3339' -count 6 -benchmem ./parsers/timestamp | tee parse.txt
func BenchmarkParseRFC3339(b *testing.B) {
	inputs := []string{
		"2026-11-25T10:00:00.123456789Z",
		"2020-08-19T21:06:24.33754077Z",
		"2021-08-10T12:00:00.123456+02:00",
		"2026-11-25T10:00:00Z",
	}
	var size int64
	bufs := make([][]byte, len(inputs))
	for i, s := range inputs {
		bufs[i] = []byte(s)
		size += int64(len(s))
	}
	b.Run("sluice", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			for _, in := range bufs {
				if _, ok := ParseRFC3339(in); !ok {
					b.Fatal("parse failed")
				}
			}
		}
	})
	b.Run("time.Parse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			for _, in := range inputs {
				if _, err := time.Parse(time.RFC3339Nano, in); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkAppendRFC3339Nano compares AppendRFC3339Nano with
// time.Time.AppendFormat.
//
//	go test -run '^$' -bench 'BenchmarkAppendRFC3339Nano' -count 6 -benchmem ./parsers/timestamp | tee append.txt
func BenchmarkAppendRFC3339Nano(b *testing.B) {
	const ns = 1795600800123456789
	buf := make([]byte, 0, 64)
	b.Run("sluice", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(30)
		for b.Loop() {
			buf = AppendRFC3339Nano(buf[:0], ns)
		}
	})
	b.Run("time.AppendFormat", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(30)
		for b.Loop() {
			buf = time.Unix(0, ns).UTC().AppendFormat(buf[:0], "2006-01-02T15:04:05.000000000Z07:00")
		}
	})
}

// BenchmarkDate measures the civil-date computation used for daily index
// names.
//
//	go test -run '^$' -bench 'BenchmarkDate' -count 6 -benchmem ./parsers/timestamp
func BenchmarkDate(b *testing.B) {
	b.ReportAllocs()
	ns := int64(1795600800123456789)
	sum := 0
	for b.Loop() {
		y, m, d := Date(ns)
		sum += y + m + d
		ns += 3600e9
	}
	if sum == 0 {
		b.Fatal("unreachable")
	}
}
