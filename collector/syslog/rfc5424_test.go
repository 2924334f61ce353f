package syslog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/corpus"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// testTS is the tests' timestamp parser, shared so that frames in a row
// hit and miss its cache.
var testTS timestamp.Parser

// uglyFrames are RFC 5424 frames at the edges of what fast5424 accepts:
// each must come out of the fast path as the library path has it, or be
// declined.
var uglyFrames = []string{
	// RFC 5424's own examples; BOM before MSG.
	"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
	"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
	`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] ` + "\xEF\xBB\xBFAn application event log entry...",
	`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`,
	"<13>1 2026-01-02T03:04:05Z h a p m - \xEF\xBB\xBF\xEF\xBB\xBFtwo BOMs",
	"<13>1 2026-01-02T03:04:05Z h a p m - \xEF\xBB\xBF",
	"<13>1 2026-01-02T03:04:05Z h a p m - \xEF\xBB",
	// Empty MSG, with and without the SP; MSG with CR, LF, NUL, bad UTF-8.
	"<13>1 2026-01-02T03:04:05Z h a p m -",
	"<13>1 2026-01-02T03:04:05Z h a p m - ",
	"<13>1 2026-01-02T03:04:05Z h a p m [a]",
	"<13>1 2026-01-02T03:04:05Z h a p m [a] ",
	"<13>1 2026-01-02T03:04:05Z h a p m -  two spaces",
	"<13>1 2026-01-02T03:04:05Z h a p m - x\r\n",
	"<13>1 2026-01-02T03:04:05Z h a p m - x\x00\xff\xfe y",
	// Header fields JSON must escape ('"', '\\'), which the fast path
	// otherwise copies as they are.
	`<13>1 2026-01-02T03:04:05Z h"st a p m - x`,
	`<13>1 2026-01-02T03:04:05Z h a\p p m - x`,
	`<13>1 2026-01-02T03:04:05Z h a "p\ m - x`,
	`<13>1 2026-01-02T03:04:05Z h a p m\" - x`,
	// SD escapes and their traps.
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x\]y"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x\"y"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x\\"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x\\\"\]"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x\] y"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x] y"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x]y"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x\\] y"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x\n"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x\]`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x\"`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x"`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x"]x`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="é ü"] m`,
	"<13>1 2026-01-02T03:04:05Z h a p m [a b=\"\t\"] m",
	`<13>1 2026-01-02T03:04:05Z h a p m [a b=""] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b= "x"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a  b="x"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="x" ] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [=] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [abcdefghijabcdefghijabcdefghijab x="1"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [abcdefghijabcdefghijabcdefghijabc x="1"] m`,
	// Several SD elements, adjacent or not.
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="1"][c d="2" e="3"] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a][b][c]`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a] [b] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="] "][c] m`,
	`<13>1 2026-01-02T03:04:05Z h a p m [a b="1"]-`,
	`<13>1 2026-01-02T03:04:05Z h a p m -[a]`,
	// "-" fields.
	"<13>1 - - - - - -",
	"<13>1 - - - - - - ",
	"<13>1 - - - - - - msg",
	"<13>1 - - - - - -x",
	"<13>1 -x - - - - - msg",
	"<13>1 - - - - -",
	"<13>1 - - - - - ",
	"<13>1 - - - - ",
	"<13>1 -",
	"<13>1 ",
	// Offsets.
	"<13>1 2026-01-02T03:04:05+05:30 h a p m - x",
	"<13>1 2026-01-02T03:04:05-08:00 h a p m - x",
	"<13>1 2026-01-02T03:04:05+00:00 h a p m - x",
	"<13>1 2026-01-02T03:04:05-00:00 h a p m - x",
	"<13>1 2026-01-02T03:04:05+23:59 h a p m - x",
	"<13>1 2026-01-02T03:04:05+24:00 h a p m - x",
	"<13>1 2026-01-02T03:04:05+05:60 h a p m - x",
	"<13>1 2026-01-02T03:04:05+0530 h a p m - x",
	"<13>1 2026-01-02T03:04:05+05 h a p m - x",
	"<13>1 2026-01-02T03:04:05+5:30 h a p m - x",
	"<13>1 2026-01-02T03:04:05 h a p m - x",
	"<13>1 2026-01-02T03:04:05ZZ h a p m - x",
	"<13>1 2026-01-02T03:04:05Zh a p m - x",
	// Fractions of 0 to 7 digits.
	"<13>1 2026-01-02T03:04:05.Z h a p m - x",
	"<13>1 2026-01-02T03:04:05.1Z h a p m - x",
	"<13>1 2026-01-02T03:04:05.12Z h a p m - x",
	"<13>1 2026-01-02T03:04:05.123+05:30 h a p m - x",
	"<13>1 2026-01-02T03:04:05.1234Z h a p m - x",
	"<13>1 2026-01-02T03:04:05.12345-01:00 h a p m - x",
	"<13>1 2026-01-02T03:04:05.123456Z h a p m - x",
	"<13>1 2026-01-02T03:04:05.999999+23:59 h a p m - x",
	"<13>1 2026-01-02T03:04:05.000001Z h a p m - x",
	"<13>1 2026-01-02T03:04:05.1234567Z h a p m - x",
	"<13>1 2026-01-02T03:04:05.123456789Z h a p m - x",
	// Leap-ish and edge dates.
	"<13>1 2024-02-29T23:59:59Z h a p m - x",
	"<13>1 2023-02-29T00:00:00Z h a p m - x",
	"<13>1 2100-02-29T00:00:00Z h a p m - x",
	"<13>1 2000-02-29T00:00:00Z h a p m - x",
	"<13>1 2026-02-31T00:00:00Z h a p m - x",
	"<13>1 2026-04-31T00:00:00Z h a p m - x",
	"<13>1 2026-12-31T23:59:60Z h a p m - x",
	"<13>1 2016-12-31T23:59:60.5Z h a p m - x",
	"<13>1 2026-12-31T24:00:00Z h a p m - x",
	"<13>1 2026-13-01T00:00:00Z h a p m - x",
	"<13>1 2026-00-01T00:00:00Z h a p m - x",
	"<13>1 2026-01-00T00:00:00Z h a p m - x",
	"<13>1 1970-01-01T00:00:00Z h a p m - x",
	"<13>1 1970-01-01T00:00:00.000001Z h a p m - x",
	"<13>1 1969-12-31T23:59:59.999999Z h a p m - x",
	"<13>1 0001-01-01T00:00:00Z h a p m - x",
	"<13>1 0000-01-01T00:00:00Z h a p m - x",
	"<13>1 1677-09-21T00:12:44Z h a p m - x",
	"<13>1 2262-04-11T23:47:16Z h a p m - x",
	"<13>1 9999-12-31T23:59:59.999999-23:59 h a p m - x",
	"<13>1 2026-01-02t03:04:05Z h a p m - x",
	"<13>1 2026-01-02T03:04:05z h a p m - x",
	"<13>1 2026-01-02 03:04:05Z h a p m - x",
	"<13>1 +026-01-02T03:04:05Z h a p m - x",
	"<13>1 2026-+1-02T03:04:05Z h a p m - x",
	"<13>1 2026-01-+2T+3:04:05Z h a p m - x",
	"<13>1 2026-01-02T03:04:05.+1Z h a p m - x",
	"<13>1 2026-01-02T03:04:05.-1Z h a p m - x",
	"<13>1 2026-1-2T3:4:5Z h a p m - x",
	// Field lengths at and past the limits; bytes outside PRINTUSASCII.
	"<13>1 - " + strings.Repeat("h", 255) + " a p m - x",
	"<13>1 - " + strings.Repeat("h", 256) + " a p m - x",
	"<13>1 - h " + strings.Repeat("a", 48) + " p m - x",
	"<13>1 - h " + strings.Repeat("a", 49) + " p m - x",
	"<13>1 - h a " + strings.Repeat("p", 128) + " m - x",
	"<13>1 - h a " + strings.Repeat("p", 129) + " m - x",
	"<13>1 - h a p " + strings.Repeat("m", 32) + " - x",
	"<13>1 - h a p " + strings.Repeat("m", 33) + " - x",
	"<13>1 - h a p " + strings.Repeat("m", 33) + " [a] x",
	"<13>1 - hôst a p m - x",
	"<13>1 - h a\tb p m - x",
	"<13>1 - h\x7f a p m - x",
	"<13>1 - h \"a\" p[1] m - x",
	"<13>1 -  h a p m - x",
	"<13>1 - h  a p m - x",
	"<13>1 - h a  p m - x",
	"<13>1 - h a p  m - x",
	"<13>1 - h a p m  - x",
	// PRI and VERSION.
	"<0>1 - h a p m - x",
	"<191>1 - h a p m - x",
	"<192>1 - h a p m - x",
	"<013>1 - h a p m - x",
	"<0013>1 - h a p m - x",
	"<>1 - h a p m - x",
	"<13>2 - h a p m - x",
	"<13>0 - h a p m - x",
	"<13>10 - h a p m - x",
	"<13>1x - h a p m - x",
	"<13> 1 - h a p m - x",
	"13>1 - h a p m - x",
}

// framesOf splits a corpus stream into frames as the TCP framer does, and
// as lines (the lnav files are not syslog streams).
func framesOf(stream []byte) [][]byte {
	var out [][]byte
	fr := newFramer(64<<10, nil)
	r := bytes.NewReader(stream)
	for {
		_, _, err := fr.fill(r)
		for {
			f, _, ok := fr.next()
			if !ok {
				break
			}
			out = append(out, bytes.Clone(f))
		}
		if err != nil {
			if f, _ := fr.rest(); f != nil {
				out = append(out, bytes.Clone(f))
			}
			break
		}
	}
	return append(out, bytes.Split(stream, []byte("\n"))...)
}

// fast5424Seeds are the corpus's syslog frames and uglyFrames.
func fast5424Seeds(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, s := range seedStreams(tb) {
		out = append(out, framesOf(s)...)
	}
	for _, s := range uglyFrames {
		out = append(out, []byte(s))
	}
	return append(out, benchMessage(nil, 42))
}

// checkFast5424 asserts that fast5424, when it accepts frame, gives what
// the library path gives under both formats that use it, field by field
// and as the record's JSON. It reports whether the fast path accepted.
func checkFast5424(t *testing.T, frame []byte) bool {
	t.Helper()
	fast, ok := fast5424(frame, &testTS, &lastHeader{})
	if !ok {
		return false
	}
	require.False(t, fast.malformed, "%q", frame)
	for _, format := range []string{"auto", "rfc5424"} {
		lib := newParser(format)
		lib.libraryOnly = true
		want := lib.parseLibrary(frame, recv)
		require.Equal(t, dumpFields(want), dumpFields(fast), "%s: %q", format, frame)
		require.Equal(t, addOne(t, lib, frame), addOne(t, newParser(format), frame), "%s: %q", format, frame)
	}
	return true
}

// comparable is fields with strings: nil and empty slices are alike.
type comparable struct {
	pri                                       int
	time                                      int64
	hostname, appName, procID, msgID, sd, msg string
	malformed                                 bool
}

func dumpFields(f fields) comparable {
	return comparable{f.pri, f.time, string(f.hostname), string(f.appName), string(f.procID), string(f.msgID), string(f.sd), string(f.msg), f.malformed}
}

// addOne is the record p.add makes of frame: time, flags, line and extra.
func addOne(t *testing.T, p *parser, frame []byte) string {
	t.Helper()
	b := record.NewBatch(&record.Source{Input: "t"}, nil)
	defer b.Discard()
	var out outcome
	p.add(b, frame, false, false, recv, []byte(`"source_ip":"10.0.0.1"`), &out)
	require.Len(t, b.Records, 1)
	r := b.Records[0]
	return strconv.FormatInt(r.Time, 10) + " " + strconv.Itoa(int(r.Flags)) + " " + string(r.Line) + " {" + string(r.Extra) + "}"
}

// TestFast5424_Differential runs every seed through both paths, and checks
// that the fast path takes the well-formed frames (it is no use if it
// declines them all) and declines the ones it must.
func TestFast5424_Differential(t *testing.T) {
	accepted := 0
	seeds := fast5424Seeds(t)
	for _, frame := range seeds {
		if checkFast5424(t, frame) {
			accepted++
		}
	}
	t.Logf("fast path took %d of %d seed frames", accepted, len(seeds))

	for _, s := range []string{
		uglyFrames[0], uglyFrames[2], uglyFrames[3], uglyFrames[4],
		"<13>1 - - - - - -", "<13>1 - - - - - - ", "<13>1 - - - - - - msg",
		`<13>1 2026-01-02T03:04:05Z h a p m [a b="x\]y"] m`,
		`<13>1 2026-01-02T03:04:05Z h a p m [a b="x\\\"\]"] m`,
		`<13>1 2026-01-02T03:04:05Z h a p m [a] [b] m`,
		"<13>1 2026-01-02T03:04:05.1Z h a p m - x",
		"<13>1 2026-01-02T03:04:05.123456+05:30 h a p m - x",
		"<13>1 2024-02-29T23:59:59Z h a p m - x",
		"<13>1 - " + strings.Repeat("h", 255) + " a p m - x",
		"<13>1 - h " + strings.Repeat("a", 48) + " p m - x",
		"<13>1 - h a " + strings.Repeat("p", 128) + " m - x",
		"<13>1 - h a p " + strings.Repeat("m", 32) + " - x",
		"<0>1 - h a p m - x", "<191>1 - h a p m - x",
		string(benchMessage(nil, 7)),
		`<13>1 2026-01-02T03:04:05Z h"st a\p "p\ m\" - x`,
	} {
		_, ok := fast5424([]byte(s), &testTS, &lastHeader{})
		require.True(t, ok, "fast path declines %q", s)
	}
	for _, s := range []string{
		// The library's reading differs from RFC 5424's, or is odd.
		`<13>1 2026-01-02T03:04:05Z h a p m [a b="x\] y"] m`,
		"<13>1 2026-01-02T03:04:05.Z h a p m - x",
		"<13>1 2023-02-29T00:00:00Z h a p m - x",
		"<13>1 2016-12-31T23:59:60Z h a p m - x",
		"<13>1 2026-01-02T03:04:05.1234567Z h a p m - x",
		"<13>1 2026-01-02t03:04:05Z h a p m - x",
		"<13>1 - h a p " + strings.Repeat("m", 33) + " - x",
		"<13>1 - hôst a p m - x",
		"<13>1 - - - - -",
		"<13>2 - h a p m - x",
	} {
		_, ok := fast5424([]byte(s), &testTS, &lastHeader{})
		require.False(t, ok, "fast path takes %q", s)
	}
}

// TestFast5424_Corpus checks that the corpus's well-formed RFC 5424
// frames take the fast path: the telegraf cases that telegraf parses.
func TestFast5424_Corpus(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(corpus.Lookup(t, "syslog", "telegraf"), "*", "input.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	total, fast := 0, 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, f := range framesOf(b) {
			if _, _, ok := parsePRI(f); !ok || len(f) < 6 || f[bytes.IndexByte(f, '>')+1] != '1' {
				continue
			}
			total++
			if checkFast5424(t, f) {
				fast++
			}
		}
	}
	t.Logf("fast path took %d of %d RFC 5424 version-1 frames of the telegraf corpus", fast, total)
	require.Positive(t, fast)
}

// TestFast5424AllocatesNothing holds the fast path, and the whole per-message
// step through it, to zero allocations.
func TestFast5424AllocatesNothing(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters")
	}
	frame := benchMessage(nil, 123456)
	require.Zero(t, testing.AllocsPerRun(100, func() {
		if _, ok := fast5424(frame, &testTS, &lastHeader{}); !ok {
			t.Fatal("declined")
		}
	}))
	p := newParser("auto")
	b := record.NewBatch(&record.Source{Input: "t"}, nil)
	defer b.Discard()
	var out outcome
	p.add(b, frame, false, false, recv, nil, &out)
	allocs := testing.AllocsPerRun(100, func() {
		if len(b.Records) == 50 {
			b.Records, b.Buf = b.Records[:0], b.Buf[:0]
		}
		p.add(b, frame, false, false, recv, nil, &out)
	})
	require.Zero(t, allocs)
}

// FuzzFast5424: for any frame, if the fast path accepts it, its fields and
// record equal the library path's.
func FuzzFast5424(f *testing.F) {
	for _, s := range fast5424Seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		checkFast5424(t, frame)
	})
}

// TestFast5424_EscapesHeaderFields: header fields are copied into the JSON
// as they are only when they hold nothing to escape.
func TestFast5424_EscapesHeaderFields(t *testing.T) {
	frame := []byte(`<13>1 2026-01-02T03:04:05Z h"st a\p "p\ m\" - x`)
	f, ok := fast5424(frame, &testTS, &lastHeader{})
	require.True(t, ok)
	require.False(t, f.plainHeader)
	got := addOne(t, newParser("auto"), frame)
	_, extra, _ := strings.Cut(got, " x {")
	var doc struct {
		Syslog map[string]string `json:"syslog"`
	}
	require.NoError(t, json.Unmarshal([]byte("{"+extra), &doc), got)
	require.Equal(t, map[string]string{
		"facility": "user", "severity": "notice",
		"hostname": `h"st`, "app_name": `a\p`, "proc_id": `"p\`, "msg_id": `m\"`,
	}, doc.Syslog)

	f, ok = fast5424([]byte(`<13>1 2026-01-02T03:04:05Z host app 12 m1 - x`), &testTS, &lastHeader{})
	require.True(t, ok)
	require.True(t, f.plainHeader)
}

// tokenBytes is token one byte at a time through headerClass, as it was
// before it read eight bytes at a time: the reference for FuzzToken.
func tokenBytes(b []byte, i, max int) ([]byte, int, bool) {
	start := i
	end := min(len(b), start+max+1)
	var seen byte
	for i < end {
		c := headerClass[b[i]]
		if c == 0 {
			break
		}
		seen |= c
		i++
	}
	if i == start || i == end || b[i] != ' ' {
		return nil, 0, false
	}
	return b[start:i], i + 1, seen&classEscaped == 0
}

// FuzzToken checks token against the byte-at-a-time reference at every
// start and for every RFC 5424 header field limit.
//
//	go test -run '^$' -fuzz FuzzToken -fuzztime 20s ./collector/syslog
func FuzzToken(f *testing.F) {
	for _, s := range []string{
		"host-1 bench 1 m12 - msg", `a"b\c d`, "0123456789abcdef ", "ab\x7f ", "é ", "x\x00 y", "        ",
		"<134>1 2026-11-26T10:00:00.123456Z host-0 bench 0 m0 [req@32473 id=\"r0\"] GET /api",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, max := range []int{1, 7, 8, 9, maxMsgID, maxAppName, maxProcID, maxHostname} {
			for i := 0; i <= len(b); i++ {
				tok, next, plain := token(b, i, max)
				wtok, wnext, wplain := tokenBytes(b, i, max)
				if !bytes.Equal(tok, wtok) || (tok == nil) != (wtok == nil) || next != wnext || plain != wplain {
					t.Fatalf("%q from %d, max %d: token = %q, %d, %v; byte by byte %q, %d, %v", b, i, max, tok, next, plain, wtok, wnext, wplain)
				}
			}
		}
	})
}

// checkSequence adds frames in turn through one parser, which remembers
// their headers (lastHeader), and asserts that each record is the one a
// fresh parser makes of that frame alone.
func checkSequence(t *testing.T, frames ...[]byte) {
	t.Helper()
	p := newParser("auto")
	b := record.NewBatch(&record.Source{Input: "t"}, nil)
	defer b.Discard()
	var out outcome
	for _, frame := range frames {
		p.add(b, frame, false, false, recv, []byte(`"source_ip":"10.0.0.1"`), &out)
	}
	require.Len(t, b.Records, len(frames))
	for i, frame := range frames {
		r := b.Records[i]
		got := strconv.FormatInt(r.Time, 10) + " " + strconv.Itoa(int(r.Flags)) + " " + string(r.Line) + " {" + string(r.Extra) + "}"
		require.Equal(t, addOne(t, newParser("auto"), frame), got, "frame %d of %q", i, frames)
	}
}

// TestLastHeader_RepeatsAndChanges: messages that repeat the previous
// header, under the same PRI or another, and ones that change it in every
// way a memory of the last header could get wrong, are recorded as a
// fresh parser records them.
func TestLastHeader_RepeatsAndChanges(t *testing.T) {
	f := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i := range s {
			out[i] = []byte(s[i])
		}
		return out
	}
	for _, seq := range [][][]byte{
		f("<13>1 - h a p m1 - x", "<13>1 - h a p m2 - y", "<13>1 - h a p m3 - z", "<13>1 - h a p m4 - z"),
		// Another PRI with the same header, and back.
		f("<13>1 - h a p m - x", "<13>1 - h a p m - x", "<14>1 - h a p m - x", "<14>1 - h a p m - x", "<13>1 - h a p m - x"),
		// The remembered header a prefix of the next one, and the other
		// way round; fields moved across the SPs.
		f("<13>1 - h a p m - x", "<13>1 - h a pp m - x", "<13>1 - h a p m - x", "<13>1 - h a p - - x", "<13>1 - h ap p m - x", "<13>1 - ha p p m - x"),
		// NILVALUEs, fields to escape, one field to escape in MSGID only.
		f("<13>1 - - - - - - x", "<13>1 - - - - - - x", `<13>1 - h"st a\p "p\ m\" - x`, `<13>1 - h"st a\p "p\ m\" - x`, `<13>1 - h"st a\p "p\ m - x`, `<13>1 - h a p m\" - x`, `<13>1 - h a p m\" - x`),
		// Frames the fast path declines in between, and a repeat after.
		f("<13>1 - h a p m - x", "not syslog", "<13>1 - h a p m [bad - x", "<13>Jan  2 03:04:05 h a: x", "<13>1 - h a p m - x"),
		// A frame that ends right after the header.
		f("<13>1 - h a p m - x", "<13>1 - h a p", "<13>1 - h a p ", "<13>1 - h a p m - x"),
	} {
		checkSequence(t, seq...)
	}
	// A header that keeps changing is remembered one frame in
	// rememberEvery, and a repeat is still found after that.
	var relay [][]byte
	for i := range 3 * rememberEvery {
		relay = append(relay, fmt.Appendf(nil, "<13>1 - h%d a p m - x", i%5), fmt.Appendf(nil, "<13>1 - h%d a p m - x", i%5))
	}
	checkSequence(t, relay...)
	seeds := fast5424Seeds(t)
	var all [][]byte
	for _, s := range seeds {
		all = append(all, s, s, s)
	}
	checkSequence(t, all...)
}

// FuzzLastHeader: whatever two frames follow each other, each is recorded
// as a fresh parser records it.
//
//	go test -run '^$' -fuzz FuzzLastHeader -fuzztime 30s ./collector/syslog
func FuzzLastHeader(f *testing.F) {
	seeds := fast5424Seeds(f)
	for i, s := range seeds {
		f.Add(s, seeds[(i+1)%len(seeds)])
		f.Add(s, bytes.Replace(s, []byte(" "), []byte("  "), 1))
	}
	f.Add([]byte("<13>1 - h a p m - x"), []byte("<13>1 - h a pp m - x"))
	f.Add([]byte("<13>1 - h a p m - x"), []byte("<14>1 - h a p m - y"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		checkSequence(t, a, b, b, a, a, b)
	})
}
