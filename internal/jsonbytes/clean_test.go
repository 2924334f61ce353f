package jsonbytes

import (
	"fmt"
	"strings"
	"testing"
)

// compactLines are lines with no space between tokens, as the compact
// walk takes them: every value it reads itself or gives up on, valid and
// not, as first and as second member, with keys around 64-byte words and
// around the 16 keys it notes.
func compactLines() []string {
	values := []string{
		`0`, `-0`, `7`, `-7`, `10`, `01`, `-01`, `-`, `--1`, `1.`, `1.5`, `0.25`, `-0.5`, `.5`,
		`1.5.2`, `1e5`, `1E+5`, `-1.25e-2`, `1e`, `1x`, `0x1`,
		`true`, `tru`, `truex`, `false`, `fals`, `falsy`, `null`, `nul`, `nulll`, `nan`,
		`""`, `"s"`, `"a,b:c}"`, `"`, `{}`, `{"x":1}`, `[1,"y"]`, `[]`, ``, `,`, `:`, `}`, `x`,
	}
	var lines []string
	for _, v := range values {
		lines = append(lines, `{"a":`+v+`}`, `{"a":`+v+`,"b":1}`, `{"a":1,"b":`+v+`}`, `{"a":`+v+`,"a":`+v+`}`)
		for pad := 40; pad < 70; pad++ {
			lines = append(lines, `{"`+strings.Repeat("k", pad)+`":`+v+`,"end":"`+strings.Repeat("v", 70-pad)+`"}`)
		}
	}
	lines = append(lines, []string{`{"a"1}`, `{"a"::1}`, `{"a":1,}`, `{"a":1,,"b":2}`, `{"a":1"b":2}`, `{"a":"b""c":1}`,
		`{"a":1}}`, `{"a":1}x`, `{a:1}`, `{"a":1,"b"}`, `{"a":"x}`, `{"a" :1}`, `{"a": 1}`, `{"a":1 }`, `{ "a":1}`, `{}`}...)
	for _, n := range []int{15, 16, 17} {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, `"k%d":%d,`, i, i)
		}
		lines = append(lines, b.String()+`"last":true}`, b.String()+`"k3":true}`)
	}
	return lines
}

// TestCompactMatchesOld holds Members and MembersReserved on compact
// lines to the implementation before them (members_old_test.go).
func TestCompactMatchesOld(t *testing.T) {
	reserved := []string{"log", "@timestamp", "kubernetes", "end"}
	set := NewKeySet(reserved...)
	for _, s := range compactLines() {
		line := []byte(s)
		want := runMembers(oldMembers, line, reserved)
		if got := runMembers(Members, line, reserved); !equalResults(got, want) {
			t.Errorf("%q:\nMembers %+v\nold     %+v", line, got, want)
		}
		gm, gc, gok := MembersReserved(line, set)
		if string(gm) != want.members || (gm == nil) != want.isNil || gc != want.conflict || gok != want.ok {
			t.Errorf("%q: MembersReserved %q %v %v, old %+v", line, gm, gc, gok, want)
		}
	}
}
