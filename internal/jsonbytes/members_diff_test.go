package jsonbytes

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// membersSeeds are lines for the edges of the new scan: around the 64-byte
// blocks of the quote bitmap and its length limit, invalid UTF-8, escapes
// and control bytes (lines that are not plain), deep nesting, duplicate
// and reserved keys, unterminated strings.
func membersSeeds() [][]byte {
	var seeds [][]byte
	add := func(s string) { seeds = append(seeds, []byte(s)) }
	for _, n := range []int{0, 1, 40, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 118, 119, 120, 127, 128, 129, 500, 2030, 2031, 2032, 2033, 2034, 2040, 2047, 2048, 2049, 4096, 70000} {
		s := strings.Repeat("x", n)
		add(`{"k":"` + s + `"}`)
		add(`{"` + s + `":1,"b":"` + s + `"}`)
		add(`{"k":"` + s + `}`)       // unterminated
		add(`{"k":"` + s + `\n"}`)    // escape at the end
		add(`{"k":"` + s + "\x01\"}") // raw control byte
		add(`{"k":"` + s + "é\"}")    // non-ASCII
		add(`{"k":"` + s + "\xff\"}") // invalid UTF-8
		add(`{"k":"` + s + "\xc3\"}") // cut UTF-8
		add(` {"k" : "` + s + `" } `) // spaces outside and in
		add(`{"a":1,"` + s + `":2,"a":3}`)
		add(`{"k":["` + s + `",{"q":"\""}]}`)
	}
	add(`{"a":1,"a":2}`)
	add(`{"a":1,"\u0061":2}`)
	add(`{"log":1}`)
	add(`{"lo\u0067":1}`)
	add(`{"x":1,"kubernetes":{"a":1,"a":2}}`)
	add(`{"ké":1,"ké":2}`)
	add(`{"a":1é}`)
	add(`{"é":1}`)
	add("{\"a\":\"\xe2\x80\xa8\",\"b\":[\"日本\",{\"ü\":\"\xf0\x9f\x98\x80\"}]}")
	add("{\"a\":\"\xed\xa0\x80\"}") // an encoded surrogate: not UTF-8
	add("{\"a\":\"é\x7f\"}")
	var many strings.Builder
	many.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&many, `"key%d":%d,`, i%23, i)
	}
	many.WriteString(`"end":0}`)
	add(many.String())
	add(`{"a":` + strings.Repeat(`[`, MaxDepth-1) + strings.Repeat(`]`, MaxDepth-1) + `}`)
	add(`{"a":` + strings.Repeat(`[`, MaxDepth) + strings.Repeat(`]`, MaxDepth) + `}`)
	add(`{"a":` + strings.Repeat(`{"b":`, MaxDepth) + `1` + strings.Repeat(`}`, MaxDepth) + `}`)
	add(`{"a":"\ud800","b":"\u12"}`)
	add(`{"a":"\ud800\udc00","b":"\\\"\/\b\f\n\r\t"}`)
	add(`{"a\"b":1,"a\u0022b":2}`)
	add(`{"k\n":1,"x":"y","k\u000a":2}`)
	add("{\"a\":1,\t\"b\":\"c\"\n,\r\"d\":[\"e\\\\\",{\"f\":\"\\u00e9\"}]}")
	add(`{"msg":"line one\nline two\tx","stack":"at a.b(c.go:1)\n\tat d","path":"C:\\logs\\a.txt","q":"\"quoted\""}`)
	add(`{"a":-0.5e+10,"b":01}`)
	add(`{"a":true,"b":false,"c":null,"d":nul}`)
	add(`{"a":1,}`)
	add(`{"a":1}x`)
	add(`{"a" 1}`)
	add(`{"a":"b""c":1}`)
	add(`{"level":"warn","logger":"http.access","file":0,"seq":0,"method":"POST","path":"/api/v2/carts/59033","status":300,"latency_ms":131.49,"trace_id":"7fc3c883e54390b3132fa386175e5502","msg":"request served the quick brown fox jumps over the laz","end":0}`)
	return seeds
}

// membersResult is what a caller of Members sees: the returned values and
// the keys reserved was called with, in order.
type membersResult struct {
	members        string
	isNil          bool
	conflict, ok   bool
	reservedCalled []string
}

func runMembers(f func([]byte, func([]byte) bool) ([]byte, bool, bool), line []byte, reserved []string) membersResult {
	var r membersResult
	fn := func(key []byte) bool {
		r.reservedCalled = append(r.reservedCalled, string(key))
		return slices.Contains(reserved, string(key))
	}
	m, conflict, ok := f(line, fn)
	r.members, r.isNil, r.conflict, r.ok = string(m), m == nil, conflict, ok
	return r
}

// FuzzMembersMatchesOld holds Members and MembersReserved, with and
// without the quote bitmap, to the implementation before them
// (members_old_test.go): the same acceptance, members, conflict, and keys
// passed to reserved.
//
//	go test -run '^$' -fuzz FuzzMembersMatchesOld -fuzztime 60s ./internal/jsonbytes
func FuzzMembersMatchesOld(f *testing.F) {
	for _, line := range membersSeeds() {
		f.Add(line)
	}
	for _, line := range seedLines(f) {
		f.Add(line)
	}
	reserved := []string{"log", "@timestamp", "kubernetes"}
	f.Fuzz(func(t *testing.T, line []byte) {
		want := runMembers(oldMembers, line, reserved)
		got := runMembers(Members, line, reserved)
		if !equalResults(got, want) {
			t.Fatalf("%q:\nMembers %+v\nold     %+v", line, got, want)
		}
		withoutQuoteBits(func() { got = runMembers(Members, line, reserved) })
		if !equalResults(got, want) {
			t.Fatalf("%q without quote bits:\nMembers %+v\nold     %+v", line, got, want)
		}
		set := NewKeySet(reserved...)
		gm, gc, gok := MembersReserved(line, set)
		if string(gm) != want.members || (gm == nil) != want.isNil || gc != want.conflict || gok != want.ok {
			t.Fatalf("%q: MembersReserved %q %v %v, old %+v", line, gm, gc, gok, want)
		}
		withoutQuoteBits(func() { gm, gc, gok = MembersReserved(line, set) })
		if string(gm) != want.members || (gm == nil) != want.isNil || gc != want.conflict || gok != want.ok {
			t.Fatalf("%q without quote bits: MembersReserved %q %v %v, old %+v", line, gm, gc, gok, want)
		}
		wm, wc, wok := oldMembers(line, nil)
		gm, gc, gok = Members(line, nil)
		if !bytes.Equal(gm, wm) || (gm == nil) != (wm == nil) || gc != wc || gok != wok {
			t.Fatalf("%q, reserved nil: Members %q %v %v, old %q %v %v", line, gm, gc, gok, wm, wc, wok)
		}
	})
}

func equalResults(a, b membersResult) bool {
	return a.members == b.members && a.isNil == b.isNil && a.conflict == b.conflict && a.ok == b.ok && slices.Equal(a.reservedCalled, b.reservedCalled)
}

// quoteBitsBytes is the quote bitmap byte by byte.
func quoteBitsBytes(b []byte) (q quoteBits) {
	for i, c := range b {
		if c == '"' {
			q[i/64] |= 1 << (i % 64)
		}
	}
	return q
}

// FuzzClassify checks classify's clean and ascii against byte searches
// (both plainLine's answer when it makes no bitmap) and its bitmap, when
// it makes one, against quoteBitsBytes, quoteBits.next at every index
// against a search for the next quote, specialBits against a byte loop
// and any over ranges against a search.
//
//	go test -run '^$' -fuzz FuzzClassify -fuzztime 30s ./internal/jsonbytes
func FuzzClassify(f *testing.F) {
	for _, line := range membersSeeds() {
		f.Add(line)
	}
	f.Add([]byte(strings.Repeat(`"\`, 700)))
	f.Add([]byte(strings.Repeat("\"\x7f\x80\x1f ", 300)))
	f.Add([]byte(strings.Repeat("\"é\x20\x7f", 30) + "\x1f"))
	f.Add([]byte(strings.Repeat("ü", 40)))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) <= maxQuoteBits {
			var sp, wantSp quoteBits
			specialBits(b, &sp)
			for i, c := range b {
				if c == '\\' || c < 0x20 {
					wantSp[i/64] |= 1 << (i % 64)
				}
			}
			if sp != wantSp {
				t.Fatalf("%q: special bits %x, want %x", b, sp, wantSp)
			}
			for lo := 0; lo <= len(b); lo++ {
				for _, hi := range []int{lo, lo + 1, lo + 7, lo + 64, lo + 200, len(b)} {
					if hi < lo || hi > len(b) {
						continue
					}
					want := slices.ContainsFunc(b[lo:hi], func(c byte) bool { return c == '\\' || c < 0x20 })
					if got := sp.any(lo, hi); got != want {
						t.Fatalf("%q: any(%d, %d) = %v, want %v", b, lo, hi, got, want)
					}
				}
			}
		}
		var q quoteBits
		clean, ascii, haveBits := classify(b, &q)
		if !haveBits {
			if want := plainLine(b); clean != want || ascii != want {
				t.Fatalf("%q: clean %v, ascii %v, plainLine %v", b, clean, ascii, want)
			}
			return
		}
		wantClean := !bytes.ContainsFunc(b, func(r rune) bool { return r < 0x20 || r == '\\' })
		wantASCII := !slices.ContainsFunc(b, func(c byte) bool { return c >= 0x80 })
		if clean != wantClean || ascii != wantASCII {
			t.Fatalf("%q: clean %v, ascii %v; want %v, %v", b, clean, ascii, wantClean, wantASCII)
		}
		if want := quoteBitsBytes(b); q != want {
			t.Fatalf("%q: bits %x, want %x", b, q, want)
		}
		for i := 0; i <= len(b); i++ {
			want := bytes.IndexByte(b[i:], '"')
			if want >= 0 {
				want += i + 1
			}
			if got := q.next(i); got != want {
				t.Fatalf("%q: next(%d) = %d, want %d", b, i, got, want)
			}
		}
	})
}

// FuzzKeySet checks KeySet.Has against a search of its keys.
func FuzzKeySet(f *testing.F) {
	f.Add("log\x00stream\x00@timestamp", "log")
	f.Add("a\x00ab\x00", "")
	f.Add("", "x")
	f.Fuzz(func(t *testing.T, keys, key string) {
		list := strings.Split(keys, "\x00")
		if got, want := NewKeySet(list...).Has([]byte(key)), slices.Contains(list, key); got != want {
			t.Fatalf("%q in %q: Has %v, want %v", key, list, got, want)
		}
	})
}
