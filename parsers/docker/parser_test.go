package docker

import (
	"bytes"
	"regexp"
	"testing"
)

// checkParser feeds lines, in order, to p and checks each result, error and
// dst against the package function Parse.
func checkParser(t *testing.T, p *Parser, lines ...[]byte) {
	t.Helper()
	for _, line := range lines {
		want, wantDst, wantErr := Parse([]byte("prefix"), line)
		got, dst, err := p.Parse([]byte("prefix"), line)
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("%q: Parser gives error %v, Parse %v", line, err, wantErr)
		}
		if got.Time != want.Time || got.Stream != want.Stream || got.Partial != want.Partial ||
			!bytes.Equal(got.Msg, want.Msg) || !bytes.Equal(dst, wantDst) {
			t.Fatalf("%q: Parser gives %+v and dst %q, Parse %+v and %q", line, got, dst, want, wantDst)
		}
	}
}

// timeValue finds the value of the first "time" key.
var timeValue = regexp.MustCompile(`"time"\s*:\s*"([^"\\]*)"`)

// withTime returns line with the value of its first "time" key replaced by
// that of other's, or line itself if either has none.
func withTime(line, other []byte) []byte {
	m := timeValue.FindSubmatchIndex(line)
	o := timeValue.FindSubmatch(other)
	if m == nil || o == nil {
		return line
	}
	out := append([]byte{}, line[:m[2]]...)
	out = append(out, o[1]...)
	return append(out, line[m[3]:]...)
}

func TestParserMatchesParse(t *testing.T) {
	lines := seedLines(t)
	checkParser(t, &Parser{}, lines...)
	// Each line after each other line, and with the other's time: hits,
	// misses and rejects in every order.
	for i, a := range lines {
		for _, b := range lines[max(i-20, 0):min(i+20, len(lines))] {
			var p Parser
			checkParser(t, &p, a, b, a, withTime(a, b), b)
		}
	}
	var p Parser
	line := func(ts string) []byte {
		return []byte(`{"log":"x\n","stream":"stdout","time":"` + ts + `"}`)
	}
	checkParser(t, &p,
		line("2026-11-25T10:00:00.1Z"),
		line("2026-11-25T10:00:00.2+01:00"),
		line("2026-11-25T10:00:00.3+24:00"), // bad zone
		line("2026-11-25T10:00:00.4Z"),
		line("2026-11-31T10:00:00.5Z"), // bad day
		line("2026-11-25T10:00:00.6Z"),
		line("2026-11-25T10:00:00"), // no zone
		[]byte(`{"log":"x\n","stream":"stdout","time":"2026-11-25T10:00:00.65\u005a"}`), // escaped Z
		line("2026-11-25T10:00:00.7Z"),
		line("2026-11-25T10:00:01.8Z"),
		line("2026-11-25T10:00:00.9Z"),
		[]byte(`{"log":"x\n","stream":"stdin","time":"2026-11-25T10:00:00.9Z"}`), // bad stream
	)
}

func TestParserAllocatesNothing(t *testing.T) {
	var p Parser
	lines := [][]byte{
		[]byte(`{"log":"hello\n","stream":"stdout","time":"2026-11-25T10:00:00.123456789Z"}`),
		[]byte(`{"log":"part","stream":"stderr","time":"2026-11-25T10:00:00.2Z"}`),
		[]byte(`{"log":"rest\n","stream":"stderr","time":"2026-11-25T10:00:01Z"}`),
	}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() {
		for _, line := range lines {
			var err error
			if _, buf, err = p.Parse(buf[:0], line); err != nil {
				t.Fatal(err)
			}
		}
	}); n != 0 {
		t.Fatalf("Parser.Parse allocates %.1f times", n)
	}
}

// FuzzSequence feeds the lines of text, and each line again with the next
// line's time, to one Parser, and checks every result against Parse.
//
//	go test -run '^$' -fuzz FuzzSequence -fuzztime 30s ./parsers/docker
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
				checkParser(t, &p, withTime(line, lines[i+1]))
			}
		}
	})
}
