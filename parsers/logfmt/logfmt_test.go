package logfmt

import (
	"bufio"
	stdjson "encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/corpus"
)

func TestAppendMembers_Success(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, ok := AppendMembers([]byte("x"), []byte(in))
		require.True(t, ok, "input %q", in)
		require.Equal(t, "x"+want, string(got), "input %q", in)
		require.True(t, stdjson.Valid([]byte("{"+want+"}")), "output %q", want)
	}
	f(`key=value key2="quoted \" value" flag`, `"key":"value","key2":"quoted \" value","flag":true`)
	f(`a=1`, `"a":"1"`)
	f("a=1\n", `"a":"1"`)
	f("a=1\r\n", `"a":"1"`)
	f("  a=1 \t b=2  ", `"a":"1","b":"2"`)
	f(`reason= status=Pending`, `"reason":"","status":"Pending"`)
	f(`a=""`, `"a":""`)
	f(`msg="a=b c" x=y`, `"msg":"a=b c","x":"y"`)
	f(`msg="line\nnext\ttab\\back"`, `"msg":"line\nnext\ttab\\back"`)
	f(`msg="keep \d as is"`, `"msg":"keep \\d as is"`)
	f(`url=http://x/?a=b`, `"url":"http://x/?a=b"`)
	f(`time="2021-09-15T21:17:10Z" level=error`, `"time":"2021-09-15T21:17:10Z","level":"error"`)
	f("ctl=\x01 é=ü", `"ctl":"\u0001","é":"ü"`)
	f("bad=\xff", `"bad":"`+"\ufffd"+`"`)
	f(`<x>=&`, `"<x>":"&"`)
}

func TestAppendMembers_Failure(t *testing.T) {
	f := func(in string) {
		t.Helper()
		got, ok := AppendMembers([]byte("x"), []byte(in))
		require.False(t, ok, "input %q", in)
		require.Equal(t, "x", string(got), "input %q", in)
	}
	f(``)
	f("  \n")
	f(`hello world`)
	f(`flag`)
	f(`=x`)
	f(`a=1 =x`)
	f(`a="unterminated`)
	f(`a="ends in backslash\`)
	f(`a="x"y`)
	f(`a=x"y`)
	f(`"a"=1`)
	f(`a"b=1`)
	f(strings.Repeat("k=v ", MaxFields+1))
}

func TestAppendMembersReserved(t *testing.T) {
	res := func(k []byte) bool { return string(k) == "log" }
	f := func(in string, want bool) {
		t.Helper()
		_, conflict, ok := AppendMembersReserved(nil, []byte(in), res)
		require.True(t, ok, "input %q", in)
		require.Equal(t, want, conflict, "input %q", in)
	}
	f(`a=1 b=2`, false)
	f(`a=1 log=2`, true)
	f(`a=1 a=2`, true)
	f(`a=1 b a`, true)
	_, conflict, ok := AppendMembersReserved(nil, []byte(`log=1 "`), res)
	require.False(t, ok)
	require.False(t, conflict)
	got, ok := AppendMembers(nil, []byte(strings.Repeat("k=v ", MaxFields)))
	require.True(t, ok)
	require.True(t, stdjson.Valid([]byte("{"+string(got)+"}")))
}

// corpusLines returns the lines of the logfmt corpus (when it is there) and
// testdata/lines.txt.
func corpusLines(tb testing.TB) [][]byte {
	tb.Helper()
	corpusDir, haveCorpus := corpus.Optional(tb)
	files, err := filepath.Glob(filepath.Join(corpusDir, "logfmt/*/*"))
	require.NoError(tb, err)
	require.Equal(tb, haveCorpus, len(files) > 0, "logfmt files in the corpus at %s", corpusDir)
	files = append(files, "testdata/lines.txt")
	var lines [][]byte
	for _, file := range files {
		fh, err := os.Open(file)
		require.NoError(tb, err)
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, append([]byte(nil), sc.Bytes()...))
		}
		require.NoError(tb, sc.Err())
		require.NoError(tb, fh.Close())
	}
	return lines
}

func TestCorpus(t *testing.T) {
	corpusDir := corpus.Lookup(t)
	files, err := filepath.Glob(filepath.Join(corpusDir, "logfmt/*/*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	n := 0
	for line := range strings.Lines(string(data)) {
		got, ok := AppendMembers(nil, []byte(line))
		require.True(t, ok, "line %q", line)
		var m map[string]string
		require.NoError(t, stdjson.Unmarshal([]byte("{"+string(got)+"}"), &m), "line %q", line)
		require.NotEmpty(t, m["time"])
		require.NotEmpty(t, m["level"])
		require.NotEmpty(t, m["msg"])
		n++
	}
	require.Positive(t, n)
	// The first line, checked field by field.
	got, _ := AppendMembers(nil, []byte(strings.SplitN(string(data), "\n", 2)[0]))
	var m map[string]string
	require.NoError(t, stdjson.Unmarshal([]byte("{"+string(got)+"}"), &m))
	require.Equal(t, "error retrieving pod status: pod inc-1-enh-domain-c14-ns-2/hello-inc-1-enh-domain-c14-ns-2-3-d8f465685-k75gp is not found: PodNotFound", m["msg"])
	require.Equal(t, "", m["reason"])
	require.Equal(t, "Pending", m["status"])
}

func TestAppendMembersAllocatesNothing(t *testing.T) {
	lines := corpusLines(t)
	buf := make([]byte, 0, 1<<16)
	allocs := testing.AllocsPerRun(20, func() {
		for _, l := range lines {
			buf, _ = AppendMembers(buf[:0], l)
		}
	})
	require.Zero(t, allocs)
}
