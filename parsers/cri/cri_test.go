package cri

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record/stream"
	"github.com/sluicelog/sluice/internal/corpus"
)

func mustTime(t testing.TB, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return tm.UnixNano()
}

func TestParse_Success(t *testing.T) {
	f := func(in string, want Line) {
		t.Helper()
		got, err := Parse([]byte(in))
		require.NoError(t, err, "input %q", in)
		require.Equal(t, want.Time, got.Time, "input %q", in)
		require.Equal(t, want.Stream, got.Stream, "input %q", in)
		require.Equal(t, want.Partial, got.Partial, "input %q", in)
		require.Equal(t, string(want.Msg), string(got.Msg), "input %q", in)
		require.NotNil(t, got.Msg, "input %q", in)
		require.True(t, Looks([]byte(in)), "input %q", in)
	}
	ts := mustTime(t, "2026-11-25T10:00:00.123456789Z")
	f("2026-11-25T10:00:00.123456789Z stdout F hello world",
		Line{Time: ts, Stream: stream.Stdout, Msg: []byte("hello world")})
	f("2026-11-25T10:00:00.123456789Z stderr P part one",
		Line{Time: ts, Stream: stream.Stderr, Partial: true, Msg: []byte("part one")})
	// the message keeps leading and trailing spaces, tabs and '\r'
	f("2026-11-25T10:00:00.123456789Z stdout F   indented\t \r",
		Line{Time: ts, Stream: stream.Stdout, Msg: []byte("  indented\t \r")})
	f("2026-11-25T10:00:00.123456789Z stdout F \tat Foo.bar(Foo.java:1)",
		Line{Time: ts, Stream: stream.Stdout, Msg: []byte("\tat Foo.bar(Foo.java:1)")})
	// empty message, with and without the space after the tag
	f("2026-11-25T10:00:00.123456789Z stdout F ", Line{Time: ts, Stream: stream.Stdout, Msg: []byte{}})
	f("2026-11-25T10:00:00.123456789Z stdout F", Line{Time: ts, Stream: stream.Stdout, Msg: []byte{}})
	f("2026-11-25T10:00:00.123456789Z stderr P", Line{Time: ts, Stream: stream.Stderr, Partial: true, Msg: []byte{}})
	// more tags after the first
	f("2026-11-25T10:00:00.123456789Z stdout P:future:tags msg",
		Line{Time: ts, Stream: stream.Stdout, Partial: true, Msg: []byte("msg")})
	f("2026-11-25T10:00:00.123456789Z stdout F:x", Line{Time: ts, Stream: stream.Stdout, Msg: []byte{}})
	f("2026-11-25T10:00:00.123456789Z stdout F: a", Line{Time: ts, Stream: stream.Stdout, Msg: []byte("a")})
	// the message may look like another CRI line, or hold any bytes
	f("2026-11-25T10:00:00.123456789Z stdout F 2026-11-25T10:00:00Z stderr P x",
		Line{Time: ts, Stream: stream.Stdout, Msg: []byte("2026-11-25T10:00:00Z stderr P x")})
	f("2026-11-25T10:00:00.123456789Z stdout F \xff\x00\xfe",
		Line{Time: ts, Stream: stream.Stdout, Msg: []byte("\xff\x00\xfe")})
	// CRI-O writes local offsets; containerd trims trailing zeros
	f("2021-08-10T12:00:00.5+02:00 stdout F x",
		Line{Time: mustTime(t, "2021-08-10T10:00:00.5Z"), Stream: stream.Stdout, Msg: []byte("x")})
	f("2020-08-19T21:06:24.33754077Z stderr F y",
		Line{Time: mustTime(t, "2020-08-19T21:06:24.33754077Z"), Stream: stream.Stderr, Msg: []byte("y")})
	f("2020-08-19T21:06:24Z stderr F y",
		Line{Time: mustTime(t, "2020-08-19T21:06:24Z"), Stream: stream.Stderr, Msg: []byte("y")})
}

func TestParse_Failure(t *testing.T) {
	f := func(in, wantErr string) {
		t.Helper()
		got, err := Parse([]byte(in))
		require.EqualError(t, err, wantErr, "input %q", in)
		require.Equal(t, Line{}, got)
		require.False(t, Looks([]byte(in)), "input %q", in)
	}
	f("", `cri: bad timestamp ""`)
	f("hello world", `cri: bad timestamp "hello world"`)
	f("2026-11-25T10:00:00Z", `cri: bad timestamp "2026-11-25T10:00:00Z"`)
	f("2026-11-25 10:00:00Z stdout F x", `cri: bad timestamp "2026-11-25 10:00:00Z stdout F x"`)
	f("2026-11-25T10:00:00 stdout F x", `cri: bad timestamp "2026-11-25T10:00:00 stdout F x"`)
	f("2026-13-25T10:00:00Z stdout F x", `cri: bad timestamp "2026-13-25T10:00:00Z stdout F x"`)
	f(" 2026-11-25T10:00:00Z stdout F x", `cri: bad timestamp " 2026-11-25T10:00:00Z stdout F x"`)
	f("2026-11-25T10:00:00Z stdin F x", `cri: bad stream "stdin F x"`)
	f("2026-11-25T10:00:00Z STDOUT F x", `cri: bad stream "STDOUT F x"`)
	f("2026-11-25T10:00:00Z stdout", `cri: bad stream "stdout"`)
	f("2026-11-25T10:00:00Z  stdout F x", `cri: bad stream " stdout F x"`)
	f("2026-11-25T10:00:00Z stdoutF x", `cri: bad stream "stdoutF x"`)
	f("2026-11-25T10:00:00Z stdout ", `cri: bad tag ""`)
	f("2026-11-25T10:00:00Z stdout  F x", `cri: bad tag " F x"`)
	f("2026-11-25T10:00:00Z stdout X x", `cri: bad tag "X x"`)
	f("2026-11-25T10:00:00Z stdout f x", `cri: bad tag "f x"`)
	f("2026-11-25T10:00:00Z stdout FF x", `cri: bad tag "FF x"`)
	f("2026-11-25T10:00:00Z stdout Full x", `cri: bad tag "Full x"`)
	// long input is quoted only in part
	f("not a cri line, but a rather long line of plain text output",
		`cri: bad timestamp "not a cri line, but a rather long line o" (cut)`)
	// other formats
	f(`{"log":"x\n","stream":"stdout","time":"2019-04-01T17:58:33.598656444Z"}`,
		`cri: bad timestamp "{\"log\":\"x\\n\",\"stream\":\"stdout\",\"time\":\"2" (cut)`)
}

func TestParse_MsgAliasesLine(t *testing.T) {
	line := []byte("2026-11-25T10:00:00Z stdout F abc")
	l, err := Parse(line)
	require.NoError(t, err)
	line[len(line)-1] = 'X'
	require.Equal(t, "abX", string(l.Msg))
}

// TestCorpus parses the Hadoop stack trace that a pod wrote to stderr: 19
// full lines, one Java event.
func TestCorpus(t *testing.T) {
	corpusDir := corpus.Lookup(t)
	data, err := os.ReadFile(corpusDir + "/cri/fluent-bit/avro_multiline.log-field.cri")
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	require.Len(t, lines, 19)

	var msgs [][]byte
	prev := int64(0)
	for i, line := range lines {
		l, err := Parse(line)
		require.NoError(t, err, "line %d", i+1)
		require.True(t, Looks(line))
		require.Equal(t, stream.Stderr, l.Stream)
		require.False(t, l.Partial)
		require.Equal(t, mustTime(t, string(line[:bytes.IndexByte(line, ' ')])), l.Time)
		require.Greater(t, l.Time, prev, "line %d: time goes back", i+1)
		prev = l.Time
		msgs = append(msgs, l.Msg)
	}
	event := string(bytes.Join(msgs, []byte("\n")))
	require.Contains(t, event, "hdfsExists: invokeMethod((Lorg/apache/hadoop/fs/Path;)Z) error:\norg.apache.hadoop.ipc.RemoteException(")
	require.Contains(t, event, "\n\tat org.apache.hadoop.fs.FileSystem.exists(FileSystem.java:1424)")

	// The derived .cri file must match the "log" field of the original record.
	raw, err := os.ReadFile(corpusDir + "/cri/fluent-bit/avro_multiline.json")
	require.NoError(t, err)
	var records []struct {
		Log string `json:"log"`
	}
	require.NoError(t, json.Unmarshal(raw, &records))
	require.Len(t, records, 1)
	require.Equal(t, string(data), records[0].Log+"\n")
}

func TestParseAllocatesNothing(t *testing.T) {
	line := []byte("2020-08-19T21:06:24.33754077Z stderr F \tat org.apache.hadoop.ipc.Client.call(Client.java:1475)")
	n := testing.AllocsPerRun(100, func() {
		if _, err := Parse(line); err != nil {
			t.Fatal(err)
		}
		if !Looks(line) {
			t.Fatal("Looks is false")
		}
	})
	require.Zero(t, n)
}
