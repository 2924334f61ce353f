package logfmt

import (
	stdjson "encoding/json"
	"testing"
)

// FuzzAppendMembers checks that whatever the line, the output wrapped in
// braces is valid JSON when ok, and dst is left as it was when not.
// Seeds: the logfmt corpus, testdata/lines.txt and testdata/fuzz.
//
//	go test -run '^$' -fuzz FuzzAppendMembers -fuzztime 30s ./parsers/logfmt
func FuzzAppendMembers(f *testing.F) {
	for _, l := range corpusLines(f) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		out, conflict, ok := AppendMembersReserved([]byte("{"), line, func(k []byte) bool { return string(k) == "log" })
		if !ok {
			if string(out) != "{" || conflict {
				t.Fatalf("not ok but output %q conflict %v", out, conflict)
			}
			return
		}
		out = append(out, '}')
		if !stdjson.Valid(out) {
			t.Fatalf("invalid JSON %q from %q", out, line)
		}
	})
}
