package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// rawLine expects a line whose container framing is broken: it arrives
// whole, as a raw log string, with no time or stream to check.
func rawLine(lf *logFile, seq int, line string) *expectedLine {
	return &expectedLine{
		key: lineKey{lf.tag, seq}, kind: kindText, msgs: []string{line}, parts: 1,
		desc: "broken framing: " + shorten(line),
	}
}

// messageLine expects a well-framed line whose message is kept as a log
// string; any of msgs is acceptable.
func messageLine(lf *logFile, seq int, ts time.Time, stream, desc string, msgs ...string) *expectedLine {
	return &expectedLine{
		key: lineKey{lf.tag, seq}, kind: kindText, msgs: msgs, parts: 1,
		stream: stream, times: []time.Time{ts}, desc: desc,
	}
}

// fffd spells the replacement character n times.
func fffd(n int) string { return strings.Repeat("\uFFFD", n) }

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	c := e.corpus
	good := c.addFile(t, "ns-good", "good-0", "app", formatCRI)
	badCRI := c.addFile(t, "ns-bad", "bad-cri-0", "app", formatCRI)
	badDocker := c.addFile(t, "ns-bad", "bad-docker-0", "app", formatDocker)
	gone := c.addFile(t, "ns-gone", "gone-0", "app", formatCRI)

	// Inputs that cannot be read as files: a dangling symlink and a
	// directory, both named like container logs.
	require.NoError(t, os.Symlink(filepath.Join(e.logs, "..", "nowhere"),
		filepath.Join(e.logs, "x_ns_c-"+randomHex(t, 64)+".log")))
	require.NoError(t, os.Mkdir(filepath.Join(e.logs, "d_ns_c-"+randomHex(t, 64)+".log"), 0o755))

	c.appendLines(t, good, 300)
	c.appendLines(t, gone, 200)

	// Broken CRI framing, each followed by good lines that must not be lost.
	criBad := []func(seq int) (string, *expectedLine){
		func(seq int) (string, *expectedLine) {
			l := fmt.Sprintf("garbage without timestamp %s seq=%d", badCRI.tag, seq)
			return l, rawLine(badCRI, seq, l)
		},
		func(seq int) (string, *expectedLine) {
			l := fmt.Sprintf("2026-13-45T99:61:00Z stdout F %s seq=%d bad timestamp", badCRI.tag, seq)
			return l, rawLine(badCRI, seq, l)
		},
		func(seq int) (string, *expectedLine) {
			l := fmt.Sprintf("%s %s seq=%d no stream and no tag", c.nextTime().Format(time.RFC3339Nano), badCRI.tag, seq)
			return l, rawLine(badCRI, seq, l)
		},
		func(seq int) (string, *expectedLine) {
			ts := c.nextTime()
			msg := fmt.Sprintf("%s seq=%d invalid utf8 ", badCRI.tag, seq)
			l := ts.Format(time.RFC3339Nano) + " stdout F " + msg + "\xff\xfe\xfd end"
			return l, messageLine(badCRI, seq, ts, "stdout", "invalid UTF-8",
				msg+fffd(3)+" end", msg+fffd(1)+" end")
		},
		func(seq int) (string, *expectedLine) {
			ts := c.nextTime()
			msg := fmt.Sprintf(`{"level":"info","file":"%s","seq":%d,"msg":"cut`, badCRI.tag, seq)
			l := ts.Format(time.RFC3339Nano) + " stderr F " + msg
			return l, messageLine(badCRI, seq, ts, "stderr", "truncated JSON", msg)
		},
	}
	dockerBad := []func(seq int) (string, *expectedLine){
		func(seq int) (string, *expectedLine) {
			l := fmt.Sprintf(`"log":"%s seq=%d corrupted, no opening brace\n","stream":"stdout","time":"%s"}`,
				badDocker.tag, seq, c.nextTime().Format(time.RFC3339Nano))
			return l, rawLine(badDocker, seq, l)
		},
		func(seq int) (string, *expectedLine) {
			l := fmt.Sprintf(`{"log":"%s seq=%d entry cut short`, badDocker.tag, seq)
			return l, rawLine(badDocker, seq, l)
		},
		func(seq int) (string, *expectedLine) {
			ts := c.nextTime()
			msg := fmt.Sprintf("%s seq=%d invalid utf8 ", badDocker.tag, seq)
			l := `{"log":"` + msg + "\xff\xfe" + ` end\n","stream":"stderr","time":"` + ts.Format(time.RFC3339Nano) + `"}`
			return l, messageLine(badDocker, seq, ts, "stderr", "invalid UTF-8",
				msg+fffd(2)+" end", msg+fffd(1)+" end")
		},
	}
	writeBad := func(lf *logFile, gens []func(int) (string, *expectedLine)) {
		for _, gen := range gens {
			c.appendLines(t, lf, 20)
			line, exp := gen(lf.takeSeq())
			c.writeRaw(t, lf, []byte(line+"\n"), exp)
		}
		c.appendLines(t, lf, 20)
	}

	// Half of the bad input is there at start, half comes while it runs.
	writeBad(badCRI, criBad[:2])
	writeBad(badDocker, dockerBad[:1])

	a := agenttest.Start(t, e.config, agenttest.Options{Name: "agent"})

	// A file deleted while the agent has it open: lines appended just
	// before the delete are read from the open file.
	waitForQuery(t, e.store, a, `kubernetes.namespace_name:"ns-gone"`, deliveryTimeout)
	c.appendLines(t, gone, 100)
	require.NoError(t, gone.f.Close())
	require.NoError(t, os.Remove(gone.path))

	writeBad(badCRI, criBad[2:])
	writeBad(badDocker, dockerBad[1:])
	c.appendLines(t, good, 100)
	t.Logf("wrote %s", c.summary())

	rep := waitForLines(t, e.store, c, a, deliveryTimeout)
	a.RequireRunning(t)
	requireExactlyOnce(t, rep)
	rows := mustQueryAll(t, e.store)
	for _, r := range rows {
		if k, ok := rowKey(r); ok && c.lines[k].desc != "" && c.lines[k].parts == 1 {
			t.Logf("%v as stored: %s", k, describe(r))
		}
	}

	// The store holds valid UTF-8 only: invalid bytes were replaced by the
	// agent, not passed through (the decoder of Query would hide them).
	body, err := queryRaw(t.Context(), e.store, "*")
	require.NoError(t, err)
	if !utf8.Valid(body) {
		var bad []string
		for l := range bytes.Lines(body) {
			if !utf8.Valid(l) {
				bad = append(bad, fmt.Sprintf("%q", l))
			}
		}
		require.Fail(t, "the store holds invalid UTF-8", "rows:%s", listHead(bad))
	}

	require.Equal(t, 0, a.Stop(t), "exit code after SIGTERM")
}

// waitForQuery polls until query matches at least one row.
func waitForQuery(t *testing.T, s *vlstore.Store, a *agenttest.Agent, query string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		n, err := s.Count(ctx, query)
		cancel()
		if err == nil && n > 0 {
			return
		}
		a.RequireRunning(t)
		if time.Now().After(deadline) {
			t.Fatalf("no row matches %s after %v (last error: %v)", query, timeout, err)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
}
