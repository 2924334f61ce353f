package timestamp

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkParser feeds every input, in order, to one Parser and checks each
// result against the package function.
func checkParser(t *testing.T, p *Parser, inputs ...string) {
	t.Helper()
	for _, s := range inputs {
		want, wantOK := ParseRFC3339([]byte(s))
		got, ok := p.ParseRFC3339([]byte(s))
		if got != want || ok != wantOK {
			t.Fatalf("%q: Parser gives %d, %v; ParseRFC3339 gives %d, %v (sequence %q)", s, got, ok, want, wantOK, inputs)
		}
	}
}

// parserSequences are runs meant to hit, miss and keep the cache in every
// way: the same second with other fractions and zones, two seconds in
// turn, rejected inputs (with a valid prefix, with an invalid one, short
// ones) between valid ones, and prefixes that differ in one byte only.
var parserSequences = [][]string{
	{ // same second: fractions of every length, then offsets
		"2026-11-25T10:00:00Z",
		"2026-11-25T10:00:00.1Z",
		"2026-11-25T10:00:00.123456789Z",
		"2026-11-25T10:00:00.1234567891234Z",
		"2026-11-25T10:00:00.5+02:00",
		"2026-11-25T10:00:00-04:30",
		"2026-11-25T10:00:00.999999999-23:59",
		"2026-11-25T10:00:00.000000001z",
	},
	{ // two seconds in turn
		"2026-11-25T10:00:00.1Z", "2026-11-25T10:00:01.2Z",
		"2026-11-25T10:00:00.3Z", "2026-11-25T10:00:01.4Z",
		"2026-11-25T10:00:00.5+01:00", "2026-11-25T10:00:01.6-01:00",
	},
	{ // rejected tails after a cached prefix
		"2026-11-25T10:00:00.1Z",
		"2026-11-25T10:00:00",
		"2026-11-25T10:00:00.Z",
		"2026-11-25T10:00:00,5Z",
		"2026-11-25T10:00:00ZZ",
		"2026-11-25T10:00:00Z ",
		"2026-11-25T10:00:00+24:00",
		"2026-11-25T10:00:00+01:60",
		"2026-11-25T10:00:00+0100",
		"2026-11-25T10:00:00+01:00:00",
		"2026-11-25T10:00:00.123",
		"2026-11-25T10:00:00x",
		"2026-11-25T10:00:00.2Z",
	},
	{ // rejected prefixes between valid ones leave the cache alone
		"2026-11-25T10:00:00.1Z",
		"2026-11-25T10:00:61.1Z",
		"2026-11-31T10:00:00.1Z",
		"2026-02-29T10:00:00.1Z",
		"2026-11-25 10:00:00.1Z",
		"2026-11-25T10:00:00.1Z",
		"2026-11-25T24:00:00.1Z",
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00Z",
		"2026-11-25T10:00:00.3Z",
		"",
		"2026",
		"2026-11-25T10:00:00",
		"2026-11-25T10:00:00.4Z",
	},
	{ // prefixes one byte apart, in each of the three compared words
		"2026-11-25T10:00:00.1Z",
		"2027-11-25T10:00:00.1Z",
		"2026-11-25T10:00:00.1Z",
		"2026-11-26T10:00:00.1Z",
		"2026-11-25t10:00:00.1Z",
		"2026-11-25T11:00:00.1Z",
		"2026-11-25T10:01:00.1Z",
		"2026-11-25T10:00:01.1Z",
		"2026-11-25T10:00:00.1Z",
	},
	{ // a leap second, then the second it stands for
		"2016-12-31T23:59:60.5Z", "2016-12-31T23:59:60.7Z", "2017-01-01T00:00:00.5Z", "2016-12-31T23:59:60Z",
	},
	{ // the ends of int64: same prefix, in and out of range
		"2262-04-11T23:47:16.854775807Z",
		"2262-04-11T23:47:16.854775808Z",
		"2262-04-11T23:47:16.854775807Z",
		"2262-04-11T23:47:16.854775807-00:01",
		"2262-04-11T23:47:16.854775807+00:01",
		"1677-09-21T00:12:43.145224192Z",
		"1677-09-21T00:12:43.145224191Z",
		"1677-09-21T00:12:43.145224191-00:01",
		"1677-09-21T00:12:43.145224192+00:01",
		"1677-09-21T00:12:43Z",
	},
}

func TestParserMatchesFunc(t *testing.T) {
	for _, seq := range parserSequences {
		checkParser(t, &Parser{}, seq...)
	}
	// Everything at once through one Parser, and each seed through a fresh
	// one and a shared one.
	var all []string
	for _, seq := range parserSequences {
		all = append(all, seq...)
	}
	checkParser(t, &Parser{}, all...)
	var shared Parser
	for _, s := range seedTimestamps(t) {
		checkParser(t, &Parser{}, s)
		checkParser(t, &shared, s, s)
	}
	// Each seed after each other seed: a cached prefix with another tail.
	seeds := seedTimestamps(t)
	for _, a := range seeds {
		for _, b := range seeds {
			var p Parser
			checkParser(t, &p, a, b, spliceTail(a, b), a)
		}
	}
}

// spliceTail returns a's first 19 bytes and b's bytes after its 19th, or ""
// if either is shorter.
func spliceTail(a, b string) string {
	if len(a) < 19 || len(b) < 19 {
		return ""
	}
	return a[:19] + b[19:]
}

// TestParserWalk parses a time-ordered run that crosses days, months,
// years and the leap day, with offsets, through one Parser.
func TestParserWalk(t *testing.T) {
	var p Parser
	var buf []byte
	const step = 997_345_678 // just under a second: every second, many twice
	for ns := int64(951_782_400e9) - 3e12; ns < 951_782_400e9+3e12; ns += step {
		buf = AppendRFC3339Nano(buf[:0], ns)
		got, ok := p.ParseRFC3339(buf)
		if !ok || got != ns {
			t.Fatalf("%s: got %d, %v; want %d", buf, got, ok, ns)
		}
		// The same instant with its fraction trimmed and an offset.
		s := bytes.TrimRight(buf[:len(buf)-1], "0")
		s = append(bytes.TrimSuffix(s, []byte(".")), "-00:00"...)
		checkParser(t, &p, string(s))
	}
}

func TestFormatterMatchesFunc(t *testing.T) {
	check := func(f *Formatter, seq ...int64) {
		t.Helper()
		for _, ns := range seq {
			want := AppendRFC3339Nano([]byte("x"), ns)
			got := f.AppendRFC3339Nano([]byte("x"), ns)
			if !bytes.Equal(got, want) {
				t.Fatalf("%d: Formatter gives %q, AppendRFC3339Nano gives %q (sequence %d)", ns, got, want, seq)
			}
		}
	}
	edges := []int64{
		0, 1, -1, 999_999_999, 1e9, -1e9, -1e9 + 1, -1e9 - 1,
		86400e9 - 1, 86400e9, -86400e9, -86400e9 - 1,
		math.MaxInt64, math.MaxInt64 - 1, math.MinInt64, math.MinInt64 + 1,
		1795600800123456789, 951782400000000000, 951782400000000000 - 1,
		1767225600e9 - 1, 1767225600e9, // 2025 to 2026
	}
	for _, ns := range edges {
		check(&Formatter{}, ns, ns, ns+1, ns-1, ns, ns+1e9, ns)
	}
	var shared Formatter
	check(&shared, edges...)
	check(&shared, 5e8, -5e8, 5e8, -5e8) // alternation across 1970
	for ns := int64(951_782_400e9) - 3e12; ns < 951_782_400e9+3e12; ns += 997_345_678 {
		check(&shared, ns)
	}
}

func TestCacheAllocatesNothing(t *testing.T) {
	var p Parser
	var f Formatter
	in := [][]byte{
		[]byte("2026-11-25T10:00:00.123456789Z"),
		[]byte("2026-11-25T10:00:00.5+02:00"),
		[]byte("2026-11-25T10:00:01Z"),
	}
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() {
		for _, b := range in {
			ns, ok := p.ParseRFC3339(b)
			if !ok {
				t.Fatal("parse failed")
			}
			buf = f.AppendRFC3339Nano(buf[:0], ns)
		}
	})
	require.Zero(t, n)
}

// FuzzParser feeds the '\n'-separated parts of s, and after each part one
// made of its first 19 bytes and the next part's tail, to one Parser, and
// checks every result against ParseRFC3339.
//
//	go test -run '^$' -fuzz FuzzParser -fuzztime 30s ./parsers/timestamp
func FuzzParser(f *testing.F) {
	seeds := seedTimestamps(f)
	for i, s := range seeds {
		f.Add(s)
		if i+1 < len(seeds) {
			f.Add(s + "\n" + seeds[i+1] + "\n" + s)
		}
	}
	for _, seq := range parserSequences {
		f.Add(string(bytes.Join(toBytes(seq), []byte("\n"))))
	}
	f.Fuzz(func(t *testing.T, s string) {
		parts := bytes.Split([]byte(s), []byte("\n"))
		parts = parts[:min(len(parts), maxSteps)] // as in FuzzFormatter
		var p Parser
		for i, part := range parts {
			inputs := []string{string(part)}
			if i+1 < len(parts) {
				inputs = append(inputs, spliceTail(string(part), string(parts[i+1])))
			}
			checkParser(t, &p, inputs...)
		}
	})
}

// maxSteps bounds the sequences that the fuzz targets walk.
const maxSteps = 64

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// FuzzFormatter formats a walk of times through one Formatter and checks
// each against AppendRFC3339Nano. The walk starts at start; each byte of
// steps moves it: its top two bits choose a step of nanoseconds, of
// hundredths of a second, of tenths of a second back, or a jump back to
// start (two seconds in turn), and its low six bits how many. Int64
// arithmetic wraps, so a walk can cross from the largest time to the
// smallest.
//
//	go test -run '^$' -fuzz FuzzFormatter -fuzztime 30s ./parsers/timestamp
func FuzzFormatter(f *testing.F) {
	for _, ns := range []int64{0, -1, math.MaxInt64 - 3e8, math.MinInt64, 1795600800123456789, 951782399e9, 1767225599e9} {
		f.Add(ns, []byte{})
		f.Add(ns, []byte{0x01, 0x7f, 0xc0, 0x50, 0xbf, 0x41, 0xc0, 0x01})
	}
	f.Fuzz(func(t *testing.T, start int64, steps []byte) {
		// A longer walk finds nothing new, and the engine's coverage (hit
		// counts) would keep rewarding length and then spend a minute
		// minimizing each long input.
		steps = steps[:min(len(steps), maxSteps)]
		var fm Formatter
		ns := start
		check := func() {
			want := AppendRFC3339Nano([]byte("x"), ns)
			got := fm.AppendRFC3339Nano([]byte("x"), ns)
			if !bytes.Equal(got, want) {
				t.Fatalf("%d: Formatter gives %q, AppendRFC3339Nano gives %q", ns, got, want)
			}
		}
		check()
		for _, s := range steps {
			n := int64(s & 63)
			switch s >> 6 {
			case 0:
				ns += n
			case 1:
				ns += n * 1e7
			case 2:
				ns -= n * 1e8
			case 3:
				ns = start
			}
			check()
		}
		// And once more with the bytes of steps read as raw times.
		for len(steps) >= 8 {
			ns = int64(binary.LittleEndian.Uint64(steps))
			steps = steps[8:]
			check()
		}
	})
}
