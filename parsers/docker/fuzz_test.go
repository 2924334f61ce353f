package docker

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sluicelog/sluice/agent/record/stream"
	"github.com/sluicelog/sluice/internal/corpus"
	"github.com/sluicelog/sluice/internal/jsonbytes"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// seedLines returns the lines of testdata/lines.txt and of the docker
// corpus files (when the corpus is there).
func seedLines(tb testing.TB) [][]byte {
	tb.Helper()
	corpusDir, _ := corpus.Optional(tb) // absent, it globs to nothing
	files := []string{"testdata/lines.txt"}
	for _, pattern := range []string{"/docker/*/*.log", "/docker/*/*/*.log"} {
		more, err := filepath.Glob(corpusDir + pattern)
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, more...)
	}
	var lines [][]byte
	for _, file := range files {
		lines = append(lines, readLines(tb, file)...)
	}
	return lines
}

// reference decodes line with encoding/json and says what Parse must return
// for it; ok is false if encoding/json cannot tell (the line is not valid
// JSON, or not UTF-8, which encoding/json would change) or Parse must fail.
func reference(line []byte) (want Line, mustParse, ok bool) {
	if !utf8.Valid(line) || !json.Valid(line) {
		return Line{}, false, false
	}
	var obj map[string]json.RawMessage // a repeated key: the last one wins
	if err := json.Unmarshal(line, &obj); err != nil {
		return Line{}, false, true // valid JSON, but not an object
	}
	var msg string
	if raw, found := obj["log"]; !found || json.Unmarshal(raw, &msg) != nil {
		return Line{}, false, true
	}
	want.Msg = []byte(strings.TrimSuffix(msg, "\n"))
	want.Partial = !strings.HasSuffix(msg, "\n")
	if raw, found := obj["stream"]; found {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return Line{}, false, true
		}
		if want.Stream = stream.Parse([]byte(s)); want.Stream == stream.Unknown {
			return Line{}, false, true
		}
	}
	if raw, found := obj["time"]; found {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return Line{}, false, true
		}
		var tok bool
		if want.Time, tok = timestamp.ParseRFC3339([]byte(s)); !tok {
			return Line{}, false, true
		}
	}
	return want, true, true
}

// FuzzParse checks Parse against encoding/json, that dst is grown by Msg
// only (and left alone on error), that Looks implies Parse, and that a line
// rebuilt from the result parses the same.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 20s ./parsers/docker
func FuzzParse(f *testing.F) {
	for _, line := range seedLines(f) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		prefix := []byte("prefix")
		l, dst, err := Parse(prefix, line)
		want, mustParse, known := reference(line)
		if Looks(line) && err != nil {
			t.Fatalf("%q: Looks, but %v", line, err)
		}
		if err != nil {
			if string(dst) != "prefix" {
				t.Fatalf("%q: %v, and dst is %q", line, err, dst)
			}
			if !strings.HasPrefix(err.Error(), "docker: ") {
				t.Fatalf("%q: odd error %v", line, err)
			}
			if known && mustParse {
				t.Fatalf("%q: %v, but encoding/json reads %+v", line, err, want)
			}
			return
		}
		if !bytes.Equal(dst, append([]byte("prefix"), l.Msg...)) {
			t.Fatalf("%q: dst %q, Msg %q", line, dst, l.Msg)
		}
		if len(l.Msg) > 0 && &l.Msg[0] != &dst[len(prefix)] {
			t.Fatalf("%q: Msg is not the tail of dst", line)
		}
		if known {
			if !mustParse {
				t.Fatalf("%q: parsed as %+v, but encoding/json says it is no docker line", line, l)
			}
			if !bytes.Equal(l.Msg, want.Msg) || l.Partial != want.Partial || l.Stream != want.Stream || l.Time != want.Time {
				t.Fatalf("%q: got %+v, encoding/json reads %+v", line, l, want)
			}
		}

		// Rebuild the line the way docker writes it and parse it again.
		msg := string(l.Msg)
		if !l.Partial {
			msg += "\n"
		}
		rebuilt := []byte(`{"log":`)
		rebuilt = jsonbytes.AppendStringString(rebuilt, msg)
		if l.Stream != stream.Unknown {
			rebuilt = append(rebuilt, `,"stream":"`+l.Stream.String()+`"`...)
		}
		rebuilt = append(rebuilt, `,"time":"`...)
		rebuilt = timestamp.AppendRFC3339Nano(rebuilt, l.Time)
		rebuilt = append(rebuilt, `"}`...)
		l2, _, err := Parse(nil, rebuilt)
		if err != nil {
			t.Fatalf("%q rebuilt as %q: %v", line, rebuilt, err)
		}
		wantMsg := []byte(strings.ToValidUTF8(string(l.Msg), "\ufffd"))
		if utf8.Valid(l.Msg) {
			wantMsg = l.Msg
		}
		if l2.Partial != l.Partial || l2.Stream != l.Stream || l2.Time != l.Time ||
			(utf8.Valid(l.Msg) && !bytes.Equal(l2.Msg, wantMsg)) {
			t.Fatalf("%q rebuilt as %q: got %+v, want %+v", line, rebuilt, l2, l)
		}
		if l.Stream != stream.Unknown && !Looks(rebuilt) {
			t.Fatalf("%q rebuilt as %q: Looks is false", line, rebuilt)
		}
	})
}
