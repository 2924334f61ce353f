package regex

import (
	"bufio"
	stdjson "encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/corpus"
)

func members(t *testing.T, p *Parser, line string) (map[string]any, bool) {
	t.Helper()
	out, ok := p.AppendMembers([]byte("x"), []byte(line))
	require.Equal(t, byte('x'), out[0])
	if !ok {
		require.Equal(t, "x", string(out))
		return nil, false
	}
	obj := "{" + string(out[1:]) + "}"
	require.True(t, stdjson.Valid([]byte(obj)), "output %q", obj)
	var m map[string]any
	require.NoError(t, stdjson.Unmarshal([]byte(obj), &m))
	return m, true
}

func TestNew(t *testing.T) {
	p, err := New(`^(?P<a>\w+) (?P<n__int>-?\d+) (?P<f>\S+) (?P<b__bool>\w+)(?: (?P<opt>x))?$`, map[string]string{"f": "float"})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "n", "f", "b", "opt"}, p.Names())
	f := func(line string, want map[string]any) {
		t.Helper()
		m, ok := members(t, p, line)
		require.True(t, ok, "line %q", line)
		require.Equal(t, want, m, "line %q", line)
	}
	f("hi 42 1.5 true\n", map[string]any{"a": "hi", "n": 42.0, "f": 1.5, "b": true})
	f("hi 007 1e3 false x", map[string]any{"a": "hi", "n": 7.0, "f": 1000.0, "b": false, "opt": "x"})
	f("hi -0 NaN maybe", map[string]any{"a": "hi", "n": 0.0})
	f("hi -12 Inf 1", map[string]any{"a": "hi", "n": -12.0, "b": true})
	_, ok := members(t, p, "no match")
	require.False(t, ok)

	for _, c := range []struct{ pattern, types, err string }{
		{`(`, "", "missing closing )"},
		{`\d+`, "", "no named group"},
		{`(?P<a__date>x)`, "", `unknown type "date"`},
		{`(?P<a>x)`, "b", `types["b"]: no such group`},
		{`(?P<a>x)`, "a", `unknown type "uuid"`},
		{`(?P<a>x)(?P<a__int>y)`, "", `named twice`},
	} {
		var types map[string]string
		if c.types != "" {
			types = map[string]string{c.types: "uuid"}
		}
		_, err := New(c.pattern, types)
		require.ErrorContains(t, err, c.err, c.pattern)
	}
	_, err = Preset("fluentd")
	require.ErrorContains(t, err, `unknown preset "fluentd" (want one of [apache apache_error klog nginx nginx_error syslog])`)

	// A name may repeat in alternatives with one type; the group that
	// took part is written once.
	p, err = New(`^(?:a(?P<v__int>\d+)|b(?P<v__int>\d+))$`, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"v"}, p.Names())
	m, ok := members(t, p, "b42")
	require.True(t, ok)
	require.Equal(t, map[string]any{"v": 42.0}, m)
	out, _ := p.AppendMembers(nil, []byte("a7"))
	require.Equal(t, `"v":7`, string(out))
}

func TestPresets(t *testing.T) {
	f := func(preset, line string, want map[string]any) {
		t.Helper()
		p, err := Preset(preset)
		require.NoError(t, err)
		m, ok := members(t, p, line)
		require.Equal(t, want != nil, ok, "line %q", line)
		require.Equal(t, want, m, "line %q", line)
	}
	f("nginx", `10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 Firefox/49.0"`, map[string]any{
		"client": "10.0.0.2, 10.0.0.1, 127.0.0.1", "user": "-", "time": "07/Dec/2016:11:05:07 +0100",
		"method": "GET", "path": "/ocelot", "protocol": "HTTP/1.1", "status": 200.0, "bytes": 571.0,
		"referrer": "-", "agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 Firefox/49.0",
	})
	f("nginx", `2a02:c7f:7e26::1 - bob [08/Dec/2016:10:00:00 +0000] "" 400 - "-" "-" "1.2.3.4"`, map[string]any{
		"client": "2a02:c7f:7e26::1", "user": "bob", "time": "08/Dec/2016:10:00:00 +0000",
		"request": "", "status": 400.0, "referrer": "-", "agent": "-", "extra": `"1.2.3.4"`,
	})
	f("nginx", `192.168.202.254 [20/Jul/2009:22:59:29 +0000] "GET / HTTP/1.0" 404 46210 "-" "gPXE/0.9.7"`, nil)
	f("apache", `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`, map[string]any{
		"client": "127.0.0.1", "ident": "-", "user": "frank", "time": "10/Oct/2000:13:55:36 -0700",
		"method": "GET", "path": "/apache_pb.gif", "protocol": "HTTP/1.0", "status": 200.0, "bytes": 2326.0,
		"referrer": "http://www.example.com/start.html", "agent": "Mozilla/4.08 [en] (Win98; I ;Nav)",
	})
	f("apache", `::1 - - [10/Oct/2000:13:55:36 -0700] "\x16\x03\x01" 400 226`, map[string]any{
		"client": "::1", "ident": "-", "user": "-", "time": "10/Oct/2000:13:55:36 -0700",
		"request": `\x16\x03\x01`, "status": 400.0, "bytes": 226.0,
	})
	f("klog", `E0517 15:04:22.619632 1952452992 logging_unittest.cc:253] Log every 3, iteration 19`, map[string]any{
		"severity": "E", "date": "0517", "time": "15:04:22.619632", "thread": 1952452992.0,
		"file": "logging_unittest.cc", "line": 253.0, "message": "Log every 3, iteration 19",
	})
	f("klog", "I20200308 01:02:03.000004    42 pod.go:7] first line\n  second line\n", map[string]any{
		"severity": "I", "date": "20200308", "time": "01:02:03.000004", "thread": 42.0,
		"file": "pod.go", "line": 7.0, "message": "first line\n  second line",
	})
	f("klog", `X0517 15:04:22.619632 1 a.cc:1] nope`, nil)
}

func readLines(tb testing.TB, pattern string) []string {
	tb.Helper()
	corpusDir := corpus.Lookup(tb)
	files, err := filepath.Glob(filepath.Join(corpusDir, pattern))
	require.NoError(tb, err)
	require.NotEmpty(tb, files, "corpus not found: %s", pattern)
	var lines []string
	for _, file := range files {
		fh, err := os.Open(file)
		require.NoError(tb, err)
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		require.NoError(tb, sc.Err())
		require.NoError(tb, fh.Close())
	}
	return lines
}

// TestCorpus parses every access and klog corpus line; the only ones that
// must fail are the malformed line of logfile_bad_access_log.0 and the
// non-header lines of the glog file.
func TestCorpus(t *testing.T) {
	for _, c := range []struct {
		preset, pattern, key string
		wantOK, wantBad      int
	}{
		{"nginx", "access/*/*", "status", 712, 1},
		{"apache", "access/*/*", "status", 708, 5}, // apache has no XFF chain
		{"klog", "klog/*/*.0", "severity", 7, 0},
	} {
		p, err := Preset(c.preset)
		require.NoError(t, err)
		ok, bad := 0, 0
		for _, line := range readLines(t, c.pattern) {
			m, matched := members(t, p, line)
			if !matched {
				bad++
				continue
			}
			ok++
			require.Contains(t, m, c.key, "line %q", line)
		}
		require.Equal(t, c.wantOK, ok, c.preset)
		require.Equal(t, c.wantBad, bad, c.preset)
	}
}
