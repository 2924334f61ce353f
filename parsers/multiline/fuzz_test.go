package multiline

import (
	"bytes"
	"testing"
)

// FuzzJoin feeds arbitrary text through every mode with small caps and
// checks what a user relies on: every non-blank line comes out once and in
// order, records start at one of their lines' offsets, and caps hold.
//
//	go test -run '^$' -fuzz FuzzJoin -fuzztime 30s ./parsers/multiline
func FuzzJoin(f *testing.F) {
	for _, s := range []string{javaCausedBy, pyChained, goPanic} {
		f.Add([]byte(s), uint8(0), uint8(0), uint16(0))
	}
	f.Add([]byte("a\n\tb\n\n\nc"), uint8(1), uint8(2), uint16(3))
	rules := []*Rule{}
	for _, m := range []Mode{Java, Python, Go} {
		r, err := NewRule(m, "", "")
		if err != nil {
			f.Fatal(err)
		}
		rules = append(rules, r)
	}
	for _, rc := range [][2]string{{`^\S`, ""}, {"", `^\s`}, {`^\d`, `^\s+at`}} {
		r, err := NewRule(Regex, rc[0], rc[1])
		if err != nil {
			f.Fatal(err)
		}
		rules = append(rules, r)
	}
	f.Fuzz(func(t *testing.T, text []byte, mode, maxLines uint8, maxBytes uint16) {
		rule := rules[int(mode)%len(rules)]
		j := NewJoiner(rule, int(maxLines), int(maxBytes))
		lines := bytes.Split(text, []byte("\n"))
		offsets := map[int64]bool{}
		var out [][]byte
		lastOff := int64(-1)
		check := func(r Record) {
			if !offsets[r.Offset] || r.Last < r.Offset || r.Offset <= lastOff {
				t.Fatalf("record at %d..%d after %d", r.Offset, r.Last, lastOff)
			}
			lastOff = r.Offset
			if maxLines > 0 && r.Lines > int(maxLines) {
				t.Fatalf("%d lines > %d", r.Lines, maxLines)
			}
			if maxBytes > 0 && r.Lines > 1 && len(r.Line) > int(maxBytes) {
				t.Fatalf("%d bytes > %d", len(r.Line), maxBytes)
			}
			// r.Line is only valid until the next call: copy.
			out = append(out, bytes.Split(bytes.Clone(r.Line), []byte("\n"))...)
		}
		off := int64(0)
		for _, l := range lines {
			offsets[off] = true
			if r, ok := j.Add(l, Meta{Offset: off}, 0); ok {
				check(r)
			}
			off += int64(len(l)) + 1
		}
		if r, ok := j.Flush(); ok {
			check(r)
		}
		if a, b := nonBlank(lines), nonBlank(out); !equal(a, b) {
			t.Fatalf("lines in %q, out %q", a, b)
		}
	})
}

func nonBlank(ls [][]byte) [][]byte {
	var out [][]byte
	for _, l := range ls {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

func equal(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
