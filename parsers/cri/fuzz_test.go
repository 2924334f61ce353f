package cri

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/agent/record/stream"
	"github.com/sluicelog/sluice/internal/corpus"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// seedLines returns the lines of testdata/lines.txt and of the corpus CRI
// file (when the corpus is there).
func seedLines(tb testing.TB) [][]byte {
	tb.Helper()
	corpusDir, haveCorpus := corpus.Optional(tb)
	paths := []string{"testdata/lines.txt"}
	if haveCorpus {
		paths = append(paths, corpusDir+"/cri/fluent-bit/avro_multiline.log-field.cri")
	}
	var lines [][]byte
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		lines = append(lines, bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))...)
	}
	return lines
}

// refParse is a slow, obviously correct reading of the format, to check
// Parse against.
func refParse(line []byte) (Line, bool) {
	parts := bytes.SplitN(line, []byte(" "), 4)
	if len(parts) < 3 {
		return Line{}, false
	}
	ts, ok := timestamp.ParseRFC3339(parts[0])
	if !ok {
		return Line{}, false
	}
	var s stream.Stream
	switch string(parts[1]) {
	case "stdout":
		s = stream.Stdout
	case "stderr":
		s = stream.Stderr
	default:
		return Line{}, false
	}
	tag, _, _ := bytes.Cut(parts[2], []byte(":"))
	if string(tag) != "P" && string(tag) != "F" {
		return Line{}, false
	}
	msg := []byte{}
	if len(parts) == 4 {
		msg = parts[3]
	}
	return Line{Time: ts, Stream: s, Partial: string(tag) == "P", Msg: msg}, true
}

// FuzzParse checks Parse against refParse, that Looks agrees with it, that
// Msg aliases the end of the line, and that a line rebuilt from the result
// parses the same.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 20s ./parsers/cri
func FuzzParse(f *testing.F) {
	for _, line := range seedLines(f) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		l, err := Parse(line)
		want, wantOK := refParse(line)
		if looks := Looks(line); looks != (err == nil) {
			t.Fatalf("%q: Looks=%v, Parse error %v", line, looks, err)
		}
		if err != nil {
			if wantOK {
				t.Fatalf("%q: %v, but the reference parses it as %+v", line, err, want)
			}
			if !strings.HasPrefix(err.Error(), "cri: bad ") {
				t.Fatalf("%q: odd error %q", line, err)
			}
			return
		}
		if !wantOK {
			t.Fatalf("%q: parsed as %+v, but the reference rejects it", line, l)
		}
		if l.Time != want.Time || l.Stream != want.Stream || l.Partial != want.Partial || !bytes.Equal(l.Msg, want.Msg) {
			t.Fatalf("%q: got %+v, want %+v", line, l, want)
		}
		if l.Msg == nil || (len(l.Msg) > 0 && &l.Msg[0] != &line[len(line)-len(l.Msg)]) {
			t.Fatalf("%q: Msg %q does not alias the end of the line", line, l.Msg)
		}

		tag := "F"
		if l.Partial {
			tag = "P"
		}
		rebuilt := timestamp.AppendRFC3339Nano(nil, l.Time)
		rebuilt = append(rebuilt, " "+l.Stream.String()+" "+tag+" "...)
		rebuilt = append(rebuilt, l.Msg...)
		l2, err := Parse(rebuilt)
		if err != nil || l2.Time != l.Time || l2.Stream != l.Stream || l2.Partial != l.Partial || !bytes.Equal(l2.Msg, l.Msg) {
			t.Fatalf("%q rebuilt as %q: got %+v, %v; want %+v", line, rebuilt, l2, err, l)
		}
	})
}
