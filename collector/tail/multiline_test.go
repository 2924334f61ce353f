package tail

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
	"github.com/sluicelog/sluice/internal/corpus"
	"github.com/sluicelog/sluice/parsers/multiline"
)

func withMultiline(t *testing.T, e *env, mode string, flush time.Duration) {
	t.Helper()
	m, err := multiline.ParseMode(mode)
	require.NoError(t, err)
	rule, err := multiline.NewRule(m, "", "")
	require.NoError(t, err)
	e.cfg.Multiline = &config.Multiline{Mode: mode, Rule: rule, FlushTimeout: config.Duration(flush), MaxLines: 500, MaxBytes: 1 << 20}
}

// offsetOf returns the offset of the first line of path that contains s.
func offsetOf(t *testing.T, path, s string) int64 {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	i := strings.Index(string(raw), s)
	require.GreaterOrEqual(t, i, 0, "%q not in file", s)
	return int64(strings.LastIndexByte(string(raw[:i]), '\n') + 1)
}

// TestMultilineJavaTraceInTwoBursts: the Hadoop trace a kubelet wrote as CRI
// lines (corpus), written in two bursts well apart, arrives as one record
// at the offset of its first line; the last record of the burst is shipped
// after the flush timeout although no more data comes.
func TestMultilineJavaTraceInTwoBursts(t *testing.T) {
	raw, err := os.ReadFile(corpus.Lookup(t, "cri", "fluent-bit", "avro_multiline.log-field.cri"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	require.Len(t, lines, 19)
	e := newEnv(t)
	e.cfg.BatchBytes = 64 << 10
	flush := 300 * time.Millisecond
	withMultiline(t, e, "java", flush)
	p := e.path("hdfs-0", "data")
	e.write(p, lines[:7]...)
	e.start()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Len(c, e.sink.lines(), 1, "the line before the trace")
	}, 5*time.Second, 5*time.Millisecond)
	seen := time.Now()
	e.quiet() // the reader waits at the end, the trace held
	if time.Since(seen) < flush/2 {
		require.Len(t, e.sink.lines(), 1, "the trace is held while it may go on")
	} else {
		t.Logf("the reader took %v to go quiet: too slow to check that the trace is held", time.Since(seen))
	}
	e.write(p, lines[7:]...)
	wrote := time.Now()
	e.waitLines(2)
	require.GreaterOrEqual(t, time.Since(wrote), flush, "shipped by the flush timeout")
	recs := e.sink.snapshot()
	require.Equal(t, "hdfsExists: invokeMethod((Lorg/apache/hadoop/fs/Path;)Z) error:", recs[0].Line)
	trace := recs[1]
	require.True(t, strings.HasPrefix(trace.Line, "org.apache.hadoop.ipc.RemoteException("), trace.Line)
	require.True(t, strings.HasSuffix(trace.Line, "\n\tat org.apache.hadoop.fs.FileSystem.exists(FileSystem.java:1424)"), trace.Line)
	require.Equal(t, 18, strings.Count(trace.Line, "\n")+1, "all 18 lines in one record")
	require.Equal(t, offsetOf(t, p, "RemoteException"), trace.Offset, "the offset of its first line")
	require.Equal(t, stream.Stderr, trace.Stream)
	require.Zero(t, trace.Flags)
	require.Equal(t, int64(1), e.tailer.Stats().MultilineJoined.Load())
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		cp, ok := e.checkpointOf(p)
		require.True(c, ok)
		fi, _ := os.Stat(p)
		require.Equal(c, fi.Size(), cp.Offset, "acked to the end")
	}, 5*time.Second, 5*time.Millisecond)
}

// TestMultilineCrashMidTrace: the agent stops while a trace is half
// written; the checkpoint stays before the held lines, and after the
// restart the whole trace arrives as one record, every line exactly once.
func TestMultilineCrashMidTrace(t *testing.T) {
	e := newEnv(t)
	withMultiline(t, e, "java", time.Hour) // nothing leaves by timeout before the crash
	p := e.path("api", "ns")
	trace := []string{
		"java.lang.IllegalStateException: pool exhausted",
		"\tat com.example.Pool.take(Pool.java:88)",
		"\tat com.example.Api.handle(Api.java:41)",
		"Caused by: java.util.concurrent.TimeoutException",
		"\tat java.base/java.util.concurrent.FutureTask.get(FutureTask.java:204)",
		"\t... 7 more",
	}
	e.write(p, criLine("stdout", "F", "one"), criLine("stdout", "F", "two"))
	for _, l := range trace[:3] {
		e.write(p, criLine("stderr", "F", l))
	}
	e.start()
	e.waitLines(1)
	require.Equal(t, []string{"one"}, e.sink.lines(), "two and the trace are held")
	twoAt := offsetOf(t, p, " two")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		cp, ok := e.checkpointOf(p)
		require.True(c, ok)
		require.Equal(c, twoAt, cp.Offset, "the checkpoint stops at the first held line")
	}, 5*time.Second, 5*time.Millisecond)
	e.stop() // the crash: held records are lost from memory only
	first := e.sink.snapshot()

	for _, l := range trace[3:] {
		e.write(p, criLine("stderr", "F", l))
	}
	e.write(p, criLine("stdout", "F", "three"))
	e.sink = &sink{}
	e.cfg.Multiline.FlushTimeout = config.Duration(50 * time.Millisecond)
	e.start()
	e.waitLines(3)
	all := append(first, e.sink.snapshot()...)
	var texts []string
	for _, r := range all {
		texts = append(texts, r.Line)
	}
	require.ElementsMatch(t, []string{"one", "two", strings.Join(trace, "\n"), "three"}, texts)
	for _, r := range all {
		if r.Stream == stream.Stderr {
			require.Equal(t, offsetOf(t, p, "IllegalStateException"), r.Offset)
		}
	}
}

// TestMultilineCapCutsAndFlags: a trace longer than max_lines is cut,
// the cut record flagged and counted, and the rest follows.
func TestMultilineCapCutsAndFlags(t *testing.T) {
	e := newEnv(t)
	withMultiline(t, e, "java", 20*time.Millisecond)
	e.cfg.Multiline.MaxLines = 3
	p := e.path("api", "ns")
	e.write(p,
		criLine("stderr", "F", "java.lang.Error: x"),
		criLine("stderr", "F", "\tat a.A.a(A.java:1)"),
		criLine("stderr", "F", "\tat b.B.b(B.java:2)"),
		criLine("stderr", "F", "\tat c.C.c(C.java:3)"),
	)
	e.start()
	e.waitLines(2)
	recs := e.sink.snapshot()
	require.Equal(t, "java.lang.Error: x\n\tat a.A.a(A.java:1)\n\tat b.B.b(B.java:2)", recs[0].Line)
	require.Equal(t, record.Truncated, recs[0].Flags)
	require.Equal(t, "\tat c.C.c(C.java:3)", recs[1].Line)
	require.Zero(t, recs[1].Flags)
	require.Equal(t, int64(1), e.tailer.Stats().MultilineCut.Load())
}

// TestSafeNeverInsideAJoinedRecord: a stderr trace finished while a stdout
// line that came before its last frame is still held; the safe offset
// moves back to the trace's start, so a restart rebuilds the trace rather
// than shipping its tail as records of their own.
func TestSafeNeverInsideAJoinedRecord(t *testing.T) {
	rule, err := multiline.NewRule(multiline.Java, "", "")
	require.NoError(t, err)
	a := newAssembler(4096, func() int64 { return 1 }, &Stats{}, &config.Multiline{Rule: rule, FlushTimeout: config.Duration(time.Hour)})
	b := record.NewBatch(&record.Source{}, nil)
	off := int64(0)
	add := func(st, msg string) int64 {
		l := criLine(st, "F", msg)
		at := off
		a.add(b, []byte(l), at, 0)
		off += int64(len(l)) + 1
		return at
	}
	traceAt := add("stderr", "java.lang.Error: boom")
	heldAt := add("stdout", "GET /a 200")
	add("stderr", "\tat x.Y.z(Y.java:1)")
	nextAt := add("stderr", "next error")
	require.Len(t, b.Records, 1, "the trace is finished")
	require.Equal(t, traceAt, b.Records[0].Offset)
	require.Less(t, heldAt, nextAt)
	require.Equal(t, traceAt, a.safe(off), "not %d, the held stdout line inside the trace", heldAt)

	// Without the crossing, the first held line is the limit.
	add("stdout", "GET /b 200") // ships "GET /a 200"
	require.Equal(t, nextAt, a.safe(off))
}
