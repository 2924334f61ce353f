package regex

import (
	stdjson "encoding/json"
	"testing"

	"github.com/sluicelog/sluice/internal/corpus"
)

// FuzzPresets runs every preset and a typed custom pattern over the line and
// checks that the output wrapped in braces is valid JSON when ok, and that
// dst is left as it was when not. Seeds: the access and klog corpus and
// testdata/fuzz.
//
//	go test -run '^$' -fuzz FuzzPresets -fuzztime 30s ./parsers/regex
func FuzzPresets(f *testing.F) {
	for _, pattern := range []string{"access/*/*", "klog/*/*.0"} {
		if _, ok := corpus.Optional(f); !ok {
			break
		}
		for _, l := range readLines(f, pattern) {
			f.Add([]byte(l))
		}
	}
	f.Add([]byte("a=-007 b=1e400 c=T d=\xff\"\\"))
	var parsers []*Parser
	for _, name := range Presets() {
		p, err := Preset(name)
		if err != nil {
			f.Fatal(err)
		}
		parsers = append(parsers, p)
	}
	custom, err := New(`a=(?P<a__int>\S*) b=(?P<b__float>\S*) c=(?P<c__bool>\S*) d=(?P<d>.*)`, nil)
	if err != nil {
		f.Fatal(err)
	}
	parsers = append(parsers, custom)
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, p := range parsers {
			out, ok := p.AppendMembers([]byte("{"), line)
			if !ok {
				if string(out) != "{" {
					t.Fatalf("not ok but output %q", out)
				}
				continue
			}
			out = append(out, '}')
			if !stdjson.Valid(out) {
				t.Fatalf("invalid JSON %q from %q", out, line)
			}
		}
	})
}
