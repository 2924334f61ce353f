package cri

import (
	"bytes"
	"testing"
)

// checkParser feeds lines, in order, to p and checks each result against
// the package function Parse.
func checkParser(t *testing.T, p *Parser, lines ...[]byte) {
	t.Helper()
	for _, line := range lines {
		want, wantErr := Parse(line)
		got, err := p.Parse(line)
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("%q: Parser gives error %v, Parse %v", line, err, wantErr)
		}
		if got.Time != want.Time || got.Stream != want.Stream || got.Partial != want.Partial ||
			!bytes.Equal(got.Msg, want.Msg) || (got.Msg == nil) != (want.Msg == nil) {
			t.Fatalf("%q: Parser gives %+v, Parse %+v", line, got, want)
		}
	}
}

// withTime returns line with its first field (up to the first space)
// replaced by ts.
func withTime(line []byte, ts string) []byte {
	_, rest, _ := bytes.Cut(line, []byte(" "))
	return append([]byte(ts+" "), rest...)
}

func TestParserMatchesParse(t *testing.T) {
	lines := seedLines(t)
	checkParser(t, &Parser{}, lines...)
	// Each line after each other line, and with the other's timestamp:
	// hits, misses and rejects in every order.
	for _, a := range lines {
		for _, b := range lines {
			var p Parser
			checkParser(t, &p, a, b, a, withTime(a, string(bytes.SplitN(b, []byte(" "), 2)[0])), b)
		}
	}
	// One second, then a rejected zone, a rejected prefix and a short
	// line, each followed by the same second again.
	var p Parser
	checkParser(t, &p,
		[]byte("2026-11-25T10:00:00.1Z stdout F a"),
		[]byte("2026-11-25T10:00:00.2+01:00 stdout F b"),
		[]byte("2026-11-25T10:00:00.3+24:00 stdout F bad zone"),
		[]byte("2026-11-25T10:00:00.4Z stdout F c"),
		[]byte("2026-11-31T10:00:00.5Z stdout F bad day"),
		[]byte("2026-11-25T10:00:00.6Z stdout F d"),
		[]byte("2026-11-25T10:00:00 stdout F no zone"),
		[]byte("2026-11-25T10:00:00.7Z stdout F e"),
		[]byte("2026-11-25T10:00:01.8Z stdout F next second"),
		[]byte("2026-11-25T10:00:00.9Z stdout F back"),
		[]byte("2026-11-25T10:00:00.9Z stdin F bad stream"),
	)
}

func TestParserAllocatesNothing(t *testing.T) {
	var p Parser
	lines := [][]byte{
		[]byte("2026-11-25T10:00:00.123456789Z stdout F hello world"),
		[]byte("2026-11-25T10:00:00.2Z stderr P part"),
		[]byte("2026-11-25T10:00:01Z stderr F rest"),
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, line := range lines {
			if _, err := p.Parse(line); err != nil {
				t.Fatal(err)
			}
		}
	}); n != 0 {
		t.Fatalf("Parser.Parse allocates %.1f times", n)
	}
}

// FuzzSequence feeds the lines of text, and each line again with the next
// line's timestamp, to one Parser, and checks every result against Parse.
//
//	go test -run '^$' -fuzz FuzzSequence -fuzztime 30s ./parsers/cri
func FuzzSequence(f *testing.F) {
	lines := seedLines(f)
	f.Add(bytes.Join(lines, []byte("\n")))
	for i := 0; i+1 < len(lines); i++ {
		f.Add(bytes.Join([][]byte{lines[i], lines[i+1], lines[i]}, []byte("\n")))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		var p Parser
		lines := bytes.Split(text, []byte("\n"))
		// More lines find nothing new, and the engine's coverage (hit
		// counts) would keep rewarding length and then spend a minute
		// minimizing each long input.
		lines = lines[:min(len(lines), 64)]
		for i, line := range lines {
			checkParser(t, &p, line)
			if i+1 < len(lines) {
				ts, _, _ := bytes.Cut(lines[i+1], []byte(" "))
				checkParser(t, &p, withTime(line, string(ts)))
			}
		}
	})
}
