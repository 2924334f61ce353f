package multiline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/corpus"
	"github.com/sluicelog/sluice/parsers/cri"
)

func readCorpus(tb testing.TB, name string) []string {
	tb.Helper()
	corpusDir := corpus.Lookup(tb)
	raw, err := os.ReadFile(filepath.Join(corpusDir, name))
	require.NoError(tb, err, "corpus file")
	return strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
}

// join runs lines through a joiner (each line's offset is its index) and
// returns the records, the last one flushed.
func join(t *testing.T, rule *Rule, maxLines, maxBytes int, lines []string) []Record {
	t.Helper()
	j := NewJoiner(rule, maxLines, maxBytes)
	var out []Record
	keep := func(r Record) {
		r.Line = append([]byte(nil), r.Line...)
		out = append(out, r)
	}
	for i, l := range lines {
		if r, ok := j.Add([]byte(l), Meta{Offset: int64(i), Time: int64(1000 + i)}, 0); ok {
			keep(r)
		}
	}
	if r, ok := j.Flush(); ok {
		keep(r)
	}
	return out
}

func mustRule(t *testing.T, mode Mode, start, cont string) *Rule {
	t.Helper()
	r, err := NewRule(mode, start, cont)
	require.NoError(t, err)
	return r
}

func texts(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.Line)
	}
	return out
}

const javaCausedBy = `2026-11-25 10:00:00.123 ERROR 1 --- [nio-8080-exec-1] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() threw exception
org.springframework.dao.DataIntegrityViolationException: could not execute statement; SQL [n/a]; constraint [uk_email]
	at org.springframework.orm.jpa.vendor.HibernateJpaDialect.convertHibernateAccessException(HibernateJpaDialect.java:276)
	at org.springframework.orm.jpa.vendor.HibernateJpaDialect.translateExceptionIfPossible(HibernateJpaDialect.java:233)
	at com.example.users.UserService$$EnhancerBySpringCGLIB$$5c3b2f1a.create(<generated>)
	... 48 common frames omitted
Caused by: org.hibernate.exception.ConstraintViolationException: could not execute statement
	at org.hibernate.exception.internal.SQLStateConversionDelegate.convert(SQLStateConversionDelegate.java:59)
	... 12 more
	Suppressed: java.lang.IllegalStateException: connection closed
		at com.zaxxer.hikari.pool.ProxyConnection.checkClosed(ProxyConnection.java:489)
		... 14 more
Caused by: org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint "uk_email"
  Detail: Key (email)=(a@example.com) already exists.
	at org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2676)
	... 27 more
2026-11-25 10:00:00.200  INFO 1 --- [nio-8080-exec-2] c.e.users.UserController                 : GET /users 200`

func TestJava(t *testing.T) {
	lines := strings.Split(javaCausedBy, "\n")
	got := join(t, mustRule(t, Java, "", ""), 0, 0, lines)
	// The trace from its exception line to "... 27 more" is one record,
	// the PSQLException's indented "  Detail:" line included.
	require.Len(t, got, 3, "records: %q", texts(got))
	require.Equal(t, lines[0], string(got[0].Line))
	require.Equal(t, strings.Join(lines[1:16], "\n"), string(got[1].Line))
	require.Equal(t, int64(1), got[1].Offset, "offset of the first line")
	require.Equal(t, int64(1001), got[1].Time, "time of the first line")
	require.Equal(t, int64(15), got[1].Last)
	require.Equal(t, 15, got[1].Lines)
	require.Equal(t, lines[16], string(got[2].Line))
}

// TestJavaCorpus: fluent-bit's multiline example (Java, then a Go panic,
// single lines between) and the Hadoop trace a kubelet wrote as CRI lines.
func TestJavaCorpus(t *testing.T) {
	lines := readCorpus(t, "multiline/fluent-bit/filter_multiline_test.log")
	got := texts(join(t, mustRule(t, Java, "", ""), 0, 0, lines))
	require.Equal(t, "single line...", got[0])
	require.Equal(t, strings.Join(lines[1:7], "\n"), got[1])
	require.True(t, strings.HasPrefix(got[1], `Dec 14 06:41:08 Exception in thread "main"`))
	require.True(t, strings.HasSuffix(got[1], "MyProject.main(MyProject.java:6)"))
	require.Equal(t, "another line...", got[2])

	var msgs []string
	for _, l := range readCorpus(t, "cri/fluent-bit/avro_multiline.log-field.cri") {
		c, err := cri.Parse([]byte(l))
		require.NoError(t, err)
		msgs = append(msgs, string(c.Msg))
	}
	got = texts(join(t, mustRule(t, Java, "", ""), 0, 0, msgs))
	require.Equal(t, []string{msgs[0], strings.Join(msgs[1:], "\n")}, got)
	require.Contains(t, got[1], "RemoteException")
	require.Contains(t, got[1], "at org.apache.hadoop.fs.FileSystem.exists(FileSystem.java:1424)")
}

const pyChained = `Traceback (most recent call last):
  File "/app/worker.py", line 41, in handle
    payload = json.loads(body)
              ^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.12/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/worker.py", line 44, in handle
    raise BadRequest("body is not JSON") from None
app.errors.BadRequest: body is not JSON

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/app/main.py", line 9, in <module>
    run()
RuntimeError: worker failed

INFO:werkzeug:127.0.0.1 - - [25/Nov/2026 10:00:01] "GET /healthz HTTP/1.1" 200 -`

func TestPythonChained(t *testing.T) {
	lines := strings.Split(pyChained, "\n")
	got := join(t, mustRule(t, Python, "", ""), 0, 0, lines)
	require.Equal(t, []string{strings.Join(lines[:21], "\n"), lines[22]}, texts(got),
		"the trailing blank line is dropped from the trace")
	require.Equal(t, int64(0), got[0].Offset)
	require.Equal(t, int64(21), got[0].Last, "the blank line is part of the record's span")
}

func TestPythonCorpus(t *testing.T) {
	lines := readCorpus(t, "multiline/lnav/python-example.0")
	got := texts(join(t, mustRule(t, Python, "", ""), 0, 0, lines))
	require.Equal(t, strings.Join(lines[7:12], "\n"), got[len(got)-1])
	require.True(t, strings.HasSuffix(got[len(got)-1], "ZeroDivisionError: division by zero"))
	require.Len(t, got, 8, "the 7 log lines stay single: %q", got)

	// A start regex joins the messages that span lines as well.
	got = texts(join(t, mustRule(t, Regex, `^\d{4}-\d{2}-\d{2} \d{2}:`, ""), 0, 0, lines))
	require.Len(t, got, 5)
	require.Equal(t, lines[1]+"\n"+lines[2], got[1])
	require.Equal(t, strings.Join(lines[6:12], "\n"), got[4])
}

const goPanic = `panic: runtime error: invalid memory address or nil pointer dereference [recovered]
	panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6b4d1e]

goroutine 37 gp=0xc000104a80 m=5 mp=0xc000100008 [running]:
net/http.(*conn).serve.func1()
	/usr/local/go/src/net/http/server.go:1947 +0xbe
panic({0x6f2c40?, 0x9a85f0?})
	/usr/local/go/src/runtime/panic.go:785 +0x132
main.handler({0x7a1f28, 0xc0001240e0}, 0x0)
	/src/main.go:21 +0x1e
net/http.HandlerFunc.ServeHTTP(...)
	/usr/local/go/src/net/http/server.go:2220
created by net/http.(*Server).Serve in goroutine 1
	/usr/local/go/src/net/http/server.go:3360 +0x485

goroutine 1 [IO wait]:
internal/poll.runtime_pollWait(0x7f4c1c2a6e48, 0x72)
	/usr/local/go/src/runtime/netpoll.go:351 +0x85
...additional frames elided...
exit status 2
{"level":"info","msg":"restarted"}`

func TestGoPanic(t *testing.T) {
	lines := strings.Split(goPanic, "\n")
	got := join(t, mustRule(t, Go, "", ""), 0, 0, lines)
	require.Equal(t, []string{strings.Join(lines[:len(lines)-1], "\n"), lines[len(lines)-1]}, texts(got))

	// fluent-bit's example: the panic with four goroutines is one record.
	lines = readCorpus(t, "multiline/fluent-bit/filter_multiline_test.log")
	got = join(t, mustRule(t, Go, "", ""), 0, 0, lines)
	var panics []string
	for _, r := range got {
		if strings.HasPrefix(string(r.Line), "panic:") {
			panics = append(panics, string(r.Line))
		}
	}
	require.Equal(t, []string{strings.Join(lines[8:59], "\n")}, panics)
	require.Equal(t, "one more line, no multiline", texts(got)[len(got)-1])
}

// TestRegexCorpus: fluent-bit's regex-001 rules (start "Dec 14 ..." and
// continue "^\s+at") on its test file.
func TestRegexCorpus(t *testing.T) {
	lines := readCorpus(t, "multiline/fluent-bit/regex-001_test.log")
	rule := mustRule(t, Regex, `^Dec \d+ \d+:\d+:\d+`, `^\s+at`)
	got := texts(join(t, rule, 0, 0, lines))
	require.Equal(t, []string{lines[0], strings.Join(lines[1:7], "\n"), lines[7]}, got[:3])

	// continue only
	got = texts(join(t, mustRule(t, Regex, "", `^\s+at`), 0, 0, lines))
	require.Equal(t, strings.Join(lines[1:7], "\n"), got[1])
}

func TestCapsCutAndKeepEveryLine(t *testing.T) {
	lines := strings.Split(javaCausedBy, "\n")[1:16] // 15 lines of one trace
	got := join(t, mustRule(t, Java, "", ""), 5, 0, lines)
	require.Len(t, got, 3)
	for i, r := range got {
		require.Equal(t, 5, r.Lines)
		require.Equal(t, i < 2, r.Cut, "record %d", i)
		require.Equal(t, int64(5*i), r.Offset)
	}
	require.Equal(t, strings.Join(lines, "\n"), strings.Join(texts(got), "\n"), "no line lost")

	got = join(t, mustRule(t, Java, "", ""), 0, 300, lines)
	for _, r := range got {
		require.True(t, len(r.Line) <= 300 || r.Lines == 1, "%d bytes in %d lines", len(r.Line), r.Lines)
	}
	require.True(t, got[0].Cut)
	require.Equal(t, strings.Join(lines, "\n"), strings.Join(texts(got), "\n"))
}

func TestFlagsAndPending(t *testing.T) {
	j := NewJoiner(mustRule(t, Java, "", ""), 0, 0)
	_, _, ok := j.Pending()
	require.False(t, ok)
	_, ok = j.Add([]byte("java.lang.Exception: x"), Meta{Offset: 10, Time: 5}, 100)
	require.False(t, ok)
	_, ok = j.Add([]byte("\tat a.b(C.java:1)"), Meta{Offset: 40, Time: 6, Flags: 1}, 200)
	require.False(t, ok)
	off, touched, ok := j.Pending()
	require.True(t, ok)
	require.Equal(t, []int64{10, 200}, []int64{off, touched})
	r, ok := j.Add([]byte("next"), Meta{Offset: 60}, 300)
	require.True(t, ok)
	require.Equal(t, Meta{Offset: 10, Time: 5, Flags: 1}, r.Meta)
	require.Equal(t, "java.lang.Exception: x\n\tat a.b(C.java:1)", string(r.Line))
	j.Reset()
	_, ok = j.Flush()
	require.False(t, ok)
}

func TestNewRuleErrors(t *testing.T) {
	_, err := NewRule(Regex, "", "")
	require.ErrorContains(t, err, "needs start, continue or both")
	_, err = NewRule(Regex, "(", "")
	require.ErrorContains(t, err, "start: error parsing regexp")
	_, err = NewRule(Java, "x", "")
	require.ErrorContains(t, err, "for mode regex only")
	_, err = ParseMode("ruby")
	require.ErrorContains(t, err, `unknown multiline mode "ruby"`)
}
