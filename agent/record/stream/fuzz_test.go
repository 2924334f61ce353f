package stream

import "testing"

// FuzzParse checks that Parse knows exactly "stdout" and "stderr", and that
// String gives back what Parse read.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 20s ./agent/record/stream
func FuzzParse(f *testing.F) {
	for _, s := range []string{"stdout", "stderr", "", "stdin", "STDOUT", "stdout\x00", "std"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := Parse(b)
		known := string(b) == "stdout" || string(b) == "stderr"
		if (s != Unknown) != known {
			t.Fatalf("Parse(%q) = %d", b, s)
		}
		if known && s.String() != string(b) {
			t.Fatalf("Parse(%q).String() = %q", b, s.String())
		}
		if !known && s.String() != "" {
			t.Fatalf("Parse(%q).String() = %q", b, s.String())
		}
	})
}
