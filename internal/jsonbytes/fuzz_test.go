package jsonbytes

import (
	"bufio"
	"bytes"
	stdjson "encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	jsoniter "github.com/json-iterator/go"

	"github.com/sluicelog/sluice/internal/corpus"
)

// seedLines returns testdata/members.txt and the lines of the corpus JSON,
// docker and multiline files (the large ones cut to 4 KiB) when the corpus
// is there.
func seedLines(tb testing.TB) [][]byte {
	tb.Helper()
	corpusDir, _ := corpus.Optional(tb) // absent, it globs to nothing
	files := []string{"testdata/members.txt"}
	for _, pattern := range []string{"json/*/*", "docker/*/*.log", "docker/*/*/*.log", "multiline/*/*"} {
		more, err := filepath.Glob(filepath.Join(corpusDir, pattern))
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, more...)
	}
	var lines [][]byte
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		if strings.Contains(file, "JSONTestSuite") {
			lines = append(lines, data[:min(len(data), 4096)])
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, bytes.Clone(sc.Bytes()[:min(len(sc.Bytes()), 4096)]))
		}
	}
	return lines
}

// FuzzAppendString checks that the output is valid JSON and valid UTF-8,
// decodes (with encoding/json and with Unescape) to the input with each
// invalid byte replaced by U+FFFD, and holds no raw control characters or
// U+2028/U+2029.
//
//	go test -run '^$' -fuzz FuzzAppendString -fuzztime 20s ./internal/jsonbytes
func FuzzAppendString(f *testing.F) {
	for _, line := range seedLines(f) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		// plainPrefix answers exactly or leaves the scan to AppendString.
		if p, want := plainPrefix(s), firstEscaped(s); p != want && p != 0 {
			t.Fatalf("%q: plainPrefix %d, the first byte to escape is at %d", s, p, want)
		}
		out := AppendString([]byte("x"), s)
		if string(AppendStringString([]byte("x"), string(s))) != string(out) {
			t.Fatalf("%q: AppendString and AppendStringString differ", s)
		}
		if out[0] != 'x' {
			t.Fatalf("%q: dst prefix lost", s)
		}
		out = out[1:]
		if !utf8.Valid(out) || !stdjson.Valid(out) {
			t.Fatalf("%q: bad output %q", s, out)
		}
		for _, c := range out {
			if c < 0x20 {
				t.Fatalf("%q: raw control character in %q", s, out)
			}
		}
		if bytes.Contains(out, []byte("\u2028")) || bytes.Contains(out, []byte("\u2029")) {
			t.Fatalf("%q: raw U+2028/U+2029 in %q", s, out)
		}
		want := string([]rune(string(s))) // each invalid byte becomes U+FFFD
		var got string
		if err := stdjson.Unmarshal(out, &got); err != nil || got != want {
			t.Fatalf("%q -> %q -> %q, %v; want %q", s, out, got, err, want)
		}
		un, err := Unescape(nil, out[1:len(out)-1])
		if err != nil || string(un) != want {
			t.Fatalf("%q -> %q -> Unescape %q, %v; want %q", s, out, un, err, want)
		}
	})
}

// FuzzUnescape checks Unescape against encoding/json on the same string
// contents, and that it leaves dst alone on error.
//
//	go test -run '^$' -fuzz FuzzUnescape -fuzztime 20s ./internal/jsonbytes
func FuzzUnescape(f *testing.F) {
	f.Add([]byte(`plain`))
	f.Add([]byte(`\"\\\/\b\f\n\r\t\u0041\uD83D\uDD14\ud800\udc00\udc00\ud800\u0041`))
	f.Add([]byte(`bad \x escape`))
	f.Add([]byte(`\u12`))
	for _, line := range seedLines(f) {
		// the insides of the strings on the line that hold escapes
		for _, part := range bytes.Split(line, []byte(`"`)) {
			if bytes.IndexByte(part, '\\') >= 0 {
				f.Add(part[:min(len(part), 256)])
			}
		}
	}
	f.Fuzz(func(t *testing.T, q []byte) {
		got, err := Unescape([]byte("x"), q)
		wrapped := append(append([]byte{'"'}, q...), '"')
		valid := stdjson.Valid(wrapped)
		if err != nil {
			if string(got) != "x" {
				t.Fatalf("%q: %v, and dst is %q", q, err, got)
			}
			if valid {
				t.Fatalf("%q: %v, but encoding/json takes it", q, err)
			}
			return
		}
		if got[0] != 'x' {
			t.Fatalf("%q: dst prefix lost", q)
		}
		if !valid || !utf8.Valid(q) {
			return // raw control characters, quotes or bad UTF-8: copied as is
		}
		var want string
		if err := stdjson.Unmarshal(wrapped, &want); err != nil {
			t.Fatal(err)
		}
		if string(got[1:]) != want {
			t.Fatalf("%q: got %q, encoding/json gives %q", q, got[1:], want)
		}
	})
}

// depth returns how deeply arrays and objects nest in valid JSON b.
func depth(b []byte) int {
	d, maxD := 0, 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			d++
			maxD = max(maxD, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return maxD
}

// topKeys lists the top-level keys of valid JSON object b with encoding/json.
func topKeys(t *testing.T, b []byte) []string {
	dec := stdjson.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != stdjson.Delim('{') {
		t.Fatalf("%q: not an object: %v %v", b, tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip stdjson.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// FuzzMembers checks Members against encoding/json (validity, top-level
// keys, duplicates) and json-iterator (keys), and that the members splice
// into other objects as valid JSON.
//
//	go test -run '^$' -fuzz FuzzMembers -fuzztime 20s ./internal/jsonbytes
func FuzzMembers(f *testing.F) {
	for _, line := range seedLines(f) {
		f.Add(line)
	}
	reserved := []string{"log", "@timestamp", "kubernetes"}
	f.Fuzz(func(t *testing.T, line []byte) {
		var seen []string
		members, conflict, ok := Members(line, func(key []byte) bool {
			seen = append(seen, string(key))
			return slices.Contains(reserved, string(key))
		})

		trimmed := bytes.Trim(line, " \t\r\n")
		wantOK := len(trimmed) > 0 && trimmed[0] == '{' && utf8.Valid(line) && stdjson.Valid(line) && depth(line) <= MaxDepth
		if ok != wantOK {
			t.Fatalf("%q: ok=%v, want %v (depth %d)", line, ok, wantOK, depth(line))
		}
		if !ok {
			if conflict || members != nil {
				t.Fatalf("%q: not ok, but conflict=%v members=%q", line, conflict, members)
			}
			return
		}

		if want := bytes.Trim(trimmed[1:len(trimmed)-1], " \t\r\n"); !bytes.Equal(members, want) {
			t.Fatalf("%q: members %q, want %q", line, members, want)
		}
		if len(members) > 0 {
			spliced := append([]byte(`{"@timestamp":"2026-11-25T10:00:00Z",`), members...)
			spliced = append(spliced, '}')
			if !stdjson.Valid(spliced) {
				t.Fatalf("%q: spliced into invalid JSON %q", line, spliced)
			}
		}

		keys := topKeys(t, line)
		wantConflict := false
		for i, k := range keys {
			if slices.Contains(reserved, k) || slices.Contains(keys[:i], k) {
				wantConflict = true
			}
		}
		if conflict != wantConflict {
			t.Fatalf("%q: conflict=%v, keys %q", line, conflict, keys)
		}
		// reserved saw the keys in order, up to the first reserved one
		if len(seen) > len(keys) || !slices.Equal(seen, keys[:len(seen)]) {
			t.Fatalf("%q: reserved saw %q, keys are %q", line, seen, keys)
		}

		// json-iterator agrees that the line is JSON, and on the keys
		// (it undoes lone surrogate escapes differently; skip those). It
		// also refuses numbers beyond float64 (1E700), which RFC 8259
		// syntax allows: encoding/json decoding into any fails on those too.
		jsoniterOK := jsoniter.Valid(line)
		if !jsoniterOK {
			var v any
			if err := stdjson.Unmarshal(line, &v); err == nil {
				t.Fatalf("%q: json-iterator says invalid", line)
			}
		}
		if jsoniterOK && !bytes.Contains(bytes.ToLower(line), []byte(`\ud`)) {
			iter := jsoniter.ConfigFastest.BorrowIterator(line)
			var jkeys []string
			iter.ReadMapCB(func(it *jsoniter.Iterator, key string) bool {
				jkeys = append(jkeys, key)
				it.Skip()
				return true
			})
			err := iter.Error
			jsoniter.ConfigFastest.ReturnIterator(iter)
			if err != nil || !slices.Equal(jkeys, keys) {
				t.Fatalf("%q: json-iterator keys %q, %v; encoding/json keys %q", line, jkeys, err, keys)
			}
		}
	})
}

// scanStringBytes is scanString one byte at a time, as it was before it
// jumped eight bytes at a time (special8): the reference for
// FuzzScanString.
func scanStringBytes(b []byte, i int) (end int, escaped bool) {
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped
		case c < 0x20:
			return -1, false
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return -1, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if _, ok := hex4(b[i+2:]); !ok {
					return -1, false
				}
				i += 5
			default:
				return -1, false
			}
		}
	}
	return -1, false
}

// FuzzScanString checks scanString, and scanPlain on plain lines (with
// plainLine itself), against the byte-at-a-time reference at every start,
// on the UTF-8 that Members passes it.
//
//	go test -run '^$' -fuzz FuzzScanString -fuzztime 20s ./internal/jsonbytes
func FuzzScanString(f *testing.F) {
	for _, s := range []string{`abc"`, `a\"b"x`, "\x80\xa2\"", `é"`, `\u00e9x"`, `\u12"`, "01234567\x1f\"", `0123456789abcdef\\\\"`, `"`, `\`} {
		f.Add([]byte(s))
	}
	for _, line := range seedLines(f) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		wantPlain := !bytes.ContainsFunc(b, func(r rune) bool { return r < 0x20 || r >= 0x80 || r == '\\' })
		if plain := plainLine(b); plain != wantPlain {
			t.Fatalf("%q: plainLine = %v", b, plain)
		}
		if !utf8.Valid(b) {
			return
		}
		for i := 0; i <= len(b); i++ {
			end, esc := scanString(b, i)
			wantEnd, wantEsc := scanStringBytes(b, i)
			if end != wantEnd || esc != wantEsc {
				t.Fatalf("%q from %d: scanString = %d, %v; byte by byte %d, %v", b, i, end, esc, wantEnd, wantEsc)
			}
			if wantPlain {
				if end := scanPlain(b, i); end != wantEnd {
					t.Fatalf("%q from %d: scanPlain = %d; byte by byte %d", b, i, end, wantEnd)
				}
			}
		}
	})
}
