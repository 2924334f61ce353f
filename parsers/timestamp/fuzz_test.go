package timestamp

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/corpus"
)

// seedTimestamps returns the lines of testdata/timestamps.txt and every
// RFC 3339-looking string in the CRI and docker corpus files (when the
// corpus is there).
func seedTimestamps(tb testing.TB) []string {
	tb.Helper()
	corpusDir, _ := corpus.Optional(tb) // absent, it globs to nothing
	var seeds []string
	data, err := os.ReadFile("testdata/timestamps.txt")
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		seeds = append(seeds, sc.Text())
	}
	re := regexp.MustCompile(`\d{4}-\d\d-\d\d[Tt ][0-9:.,]+([Zz]|[+-]\d\d:?\d\d)?`)
	for _, pattern := range []string{"cri/*/*", "docker/*/*.log", "docker/*/*/*.log", "json/lnav/*"} {
		files, err := filepath.Glob(filepath.Join(corpusDir, pattern))
		if err != nil {
			tb.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				tb.Fatal(err)
			}
			for _, m := range re.FindAll(data, 50) {
				seeds = append(seeds, string(m))
			}
		}
	}
	return seeds
}

var minTime, maxTime = time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)

// rfc3339Shape is the syntax of RFC 3339 section 5.6. time.Parse also takes
// some strings outside it (a comma before the fraction, a one-digit hour).
var rfc3339Shape = regexp.MustCompile(`^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$`)

// goLenient reports whether time.Parse accepts s for a reason that RFC 3339
// does not: s is not of its shape, or has an offset with hours >= 24 or
// minutes >= 60.
func goLenient(s string) bool {
	if !rfc3339Shape.MatchString(s) {
		return true
	}
	if s[len(s)-6] == '+' || s[len(s)-6] == '-' {
		return s[len(s)-5:len(s)-3] >= "24" || s[len(s)-2:] >= "60"
	}
	return false
}

// FuzzParseRFC3339 checks ParseRFC3339 against time.Parse, and that what it
// accepts survives a trip through AppendRFC3339Nano.
//
//	go test -run '^$' -fuzz FuzzParseRFC3339 -fuzztime 20s ./parsers/timestamp
func FuzzParseRFC3339(f *testing.F) {
	for _, s := range seedTimestamps(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, ok := ParseRFC3339([]byte(s))

		// time.Parse does not take lower-case t and z, nor second 60.
		norm := []byte(s)
		leap := false
		if len(norm) >= 20 {
			if norm[10] == 't' {
				norm[10] = 'T'
			}
			if norm[len(norm)-1] == 'z' {
				norm[len(norm)-1] = 'Z'
			}
			if norm[17] == '6' && norm[18] == '0' {
				norm[17] = '5'
				norm[18] = '9'
				leap = true
			}
		}
		tm, err := time.Parse(time.RFC3339Nano, string(norm))
		if leap && err == nil {
			tm = tm.Add(time.Second)
		}
		inRange := err == nil && !tm.Before(minTime) && !tm.After(maxTime)

		if !ok {
			if ns != 0 {
				t.Fatalf("%q: rejected but returned %d", s, ns)
			}
			if inRange && !goLenient(s) {
				t.Fatalf("%q: rejected, but time.Parse gives %s", s, tm)
			}
			return
		}
		if !rfc3339Shape.MatchString(s) {
			t.Fatalf("%q: accepted as %d, but it is not RFC 3339", s, ns)
		}
		if !inRange {
			t.Fatalf("%q: accepted as %d, but time.Parse says %v (%s)", s, ns, err, tm)
		}
		if want := tm.UnixNano(); ns != want {
			t.Fatalf("%q: got %d, time.Parse gives %d", s, ns, want)
		}
		back := AppendRFC3339Nano(nil, ns)
		ns2, ok := ParseRFC3339(back)
		if !ok || ns2 != ns {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, ns, back, ns2, ok)
		}
	})
}

// FuzzAppendRFC3339Nano checks AppendRFC3339Nano and Date against the time
// package for any int64, and that ParseRFC3339 reads the result back.
//
//	go test -run '^$' -fuzz FuzzAppendRFC3339Nano -fuzztime 20s ./parsers/timestamp
func FuzzAppendRFC3339Nano(f *testing.F) {
	for _, ns := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1795600800123456789, -86400e9 - 1, 951782400000000000} {
		f.Add(ns)
	}
	for _, s := range seedTimestamps(f) {
		if ns, ok := ParseRFC3339([]byte(s)); ok {
			f.Add(ns)
		}
	}
	f.Fuzz(func(t *testing.T, ns int64) {
		prefix := []byte("prefix")
		got := AppendRFC3339Nano(prefix, ns)
		tm := time.Unix(0, ns).UTC()
		want := tm.Format("2006-01-02T15:04:05.000000000Z07:00")
		if string(got) != "prefix"+want {
			t.Fatalf("%d: got %q, want %q", ns, got, want)
		}
		back, ok := ParseRFC3339(got[len(prefix):])
		if !ok || back != ns {
			t.Fatalf("%d -> %q -> %d, %v", ns, got, back, ok)
		}
		y, m, d := Date(ns)
		wy, wm, wd := tm.Date()
		if y != wy || m != int(wm) || d != wd {
			t.Fatalf("Date(%d) = %d-%d-%d, want %d-%d-%d", ns, y, m, d, wy, wm, wd)
		}
	})
}
