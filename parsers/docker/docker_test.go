package docker

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
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
	ts := mustTime(t, "2019-04-01T17:58:33.598656444Z")
	f := func(in string, want Line) {
		t.Helper()
		prefix := []byte("prefix")
		got, dst, err := Parse(prefix, []byte(in))
		require.NoError(t, err, "input %q", in)
		require.Equal(t, want.Time, got.Time, "input %q", in)
		require.Equal(t, want.Stream, got.Stream, "input %q", in)
		require.Equal(t, want.Partial, got.Partial, "input %q", in)
		require.Equal(t, string(want.Msg), string(got.Msg), "input %q", in)
		// dst is prefix + Msg, and Msg is its tail
		require.Equal(t, "prefix"+string(want.Msg), string(dst), "input %q", in)
		if len(got.Msg) > 0 {
			require.Same(t, &dst[len(dst)-1], &got.Msg[len(got.Msg)-1])
		}
	}
	f(`{"log":"hello\n","stream":"stdout","time":"2019-04-01T17:58:33.598656444Z"}`,
		Line{Time: ts, Stream: stream.Stdout, Msg: []byte("hello")})
	f(`{"log":"hello\n","stream":"stderr","time":"2019-04-01T17:58:33.598656444Z"}`+"\n",
		Line{Time: ts, Stream: stream.Stderr, Msg: []byte("hello")})
	f(`{"log":"hello\n","stream":"stderr","time":"2019-04-01T17:58:33.598656444Z"}`+"\r\n",
		Line{Time: ts, Stream: stream.Stderr, Msg: []byte("hello")})
	// any key order, whitespace between tokens
	f(`{"time":"2019-04-01T17:58:33.598656444Z","stream":"stdout","log":"a\n"}`,
		Line{Time: ts, Stream: stream.Stdout, Msg: []byte("a")})
	f(` { "stream" : "stdout" ,	"log" : "a\n" , "time" : "2019-04-01T17:58:33.598656444Z" } `,
		Line{Time: ts, Stream: stream.Stdout, Msg: []byte("a")})
	// other keys are skipped, whatever their values hold
	f(`{"log":"a\n","attrs":{"tag":"x","s":"} ] \" {","n":[1,{"b":null}],"e":{}},"stream":"stdout","time":"2019-04-01T17:58:33.598656444Z"}`,
		Line{Time: ts, Stream: stream.Stdout, Msg: []byte("a")})
	f(`{"n":-1.5e3,"t":true,"f":false,"z":null,"s":"\\","a":[],"log":"a\n"}`, Line{Msg: []byte("a")})
	// partial lines: no "\n" at the end of the value
	f(`{"log":"2020-03-24 Single ","stream":"stdout","time":"2019-04-01T17:58:33.598656444Z"}`,
		Line{Time: ts, Stream: stream.Stdout, Partial: true, Msg: []byte("2020-03-24 Single ")})
	f(`{"log":"li"}`, Line{Partial: true, Msg: []byte("li")})
	f(`{"log":""}`, Line{Partial: true, Msg: []byte("")})
	f(`{"log":"\n"}`, Line{Msg: []byte("")})
	f(`{"log":"\n\n"}`, Line{Msg: []byte("\n")})
	f(`{"log":"a\r\n"}`, Line{Msg: []byte("a\r")})
	f(`{"log":"a\\n"}`, Line{Partial: true, Msg: []byte(`a\n`)}) // a backslash and an n
	// escapes
	f(`{"log":"\"q\" \\ \/ \b\f\r\t \u001b[31mred\u001b[0m\n"}`, Line{Msg: []byte("\"q\" \\ / \b\f\r\t \x1b[31mred\x1b[0m")})
	f(`{"log":"\u00e9 \ud83d\udd14 \ud800 \u2028\n"}`, Line{Msg: []byte("é 🔔 \ufffd \u2028")})
	f(`{"log":"{\"text\":\"Simple text\"}\n"}`, Line{Msg: []byte(`{"text":"Simple text"}`)})
	// raw UTF-8 and even raw control characters are taken as they are
	f("{\"log\":\"µs\tx\n\"}", Line{Msg: []byte("µs\tx")})
	// escaped keys and values
	f(`{"\u006cog":"a\n","str\u0065am":"std\u006fut","tim\u0065":"2019-04-01T17:58:33.598656444\u005a"}`,
		Line{Time: ts, Stream: stream.Stdout, Msg: []byte("a")})
	// a repeated key: the last one wins
	f(`{"log":"first\n","log":"second\n","stream":"stdout","stream":"stderr"}`,
		Line{Stream: stream.Stderr, Msg: []byte("second")})
	f(`{"log":"a long first value\n","x":"\u0041","log":"b"}`, Line{Partial: true, Msg: []byte("b")})
	// other time zones
	f(`{"log":"a\n","time":"2019-04-01T19:58:33.598656444+02:00"}`, Line{Time: ts, Msg: []byte("a")})
}

func TestParse_Failure(t *testing.T) {
	f := func(in, wantErr string) {
		t.Helper()
		got, dst, err := Parse([]byte("keep"), []byte(in))
		require.EqualError(t, err, wantErr, "input %q", in)
		require.Equal(t, Line{}, got)
		require.Equal(t, "keep", string(dst))
		require.False(t, Looks([]byte(in)))
	}
	f(``, `docker: not a JSON object at byte 0: ""`)
	f(`plain text`, `docker: not a JSON object at byte 0: "plain text"`)
	f(`"log":"cp packetbeat.yml /build/packetbeat-linux.yml\n","stream":"stdout","time":"2016-03-02T22:59:04.647847045Z"}`,
		`docker: not a JSON object at byte 0: "\"log\":\"cp packetbeat.yml /build/packetbe"...`)
	f(`2020-08-19T21:06:24.33754077Z stderr F x`, `docker: not a JSON object at byte 0: "2020-08-19T21:06:24.33754077Z stderr F x"`)
	f(`[{"log":"a\n"}]`, `docker: not a JSON object at byte 0: "[{\"log\":\"a\\n\"}]"`)
	f(`{}`, `docker: no "log" key at byte 0: "{}"`)
	f(`{"stream":"stdout"}`, `docker: no "log" key at byte 0: "{\"stream\":\"stdout\"}"`)
	// truncated lines
	f(`{`, `docker: line ends inside the JSON object at byte 0: "{"`)
	f(`{"log"`, `docker: line ends inside the JSON object at byte 0: "{\"log\""`)
	f(`{"log":`, `docker: "log" is not a string at byte 7: ""`)
	f(`{"log":"Fetching dependencies...`, `docker: unterminated "log" value at byte 7: "\"Fetching dependencies..."`)
	f(`{"log":"a\"`, `docker: unterminated "log" value at byte 7: "\"a\\\""`)
	f(`{"log":"a\n"`, `docker: line ends inside the JSON object at byte 0: "{\"log\":\"a\\n\""`)
	f(`{"log":"a\n",`, `docker: line ends inside the JSON object at byte 0: "{\"log\":\"a\\n\","`)
	f(`{"log":"a\n","attrs":{"x":[1,2`, `docker: bad value at byte 21: "{\"x\":[1,2"`)
	f(`{"log":"a\n","time":"2019-04-01T17:58:`, `docker: unterminated "time" value at byte 20: "\"2019-04-01T17:58:"`)
	f(`{"lo`, `docker: unterminated key at byte 1: "\"lo"`)
	// bad syntax
	f(`{"log":"a\n"}}`, `docker: trailing data after the object at byte 13: "}"`)
	f(`{"log":"a\n"} x`, `docker: trailing data after the object at byte 14: "x"`)
	f(`{"log":"a\n"}{"log":"b\n"}`, `docker: trailing data after the object at byte 13: "{\"log\":\"b\\n\"}"`)
	f(`{"log":"a\n",}`, `docker: expected a key at byte 13: "}"`)
	f(`{"log":"a\n" "stream":"stdout"}`, `docker: expected ',' or '}' at byte 13: "\"stream\":\"stdout\"}"`)
	f(`{"log" "a\n"}`, `docker: expected ':' at byte 7: "\"a\\n\"}"`)
	f(`{log:"a\n"}`, `docker: expected a key at byte 1: "log:\"a\\n\"}"`)
	f(`{"x":,"log":"a\n"}`, `docker: bad value at byte 5: ",\"log\":\"a\\n\"}"`)
	// wrong types and values
	f(`{"log":null}`, `docker: "log" is not a string at byte 7: "null}"`)
	f(`{"log":["a"]}`, `docker: "log" is not a string at byte 7: "[\"a\"]}"`)
	f(`{"log":"a\n","stream":1}`, `docker: "stream" is not a string at byte 22: "1}"`)
	f(`{"log":"a\n","stream":"stdin"}`, `docker: bad "stream" value at byte 22: "\"stdin\"}"`)
	f(`{"log":"a\n","time":"2019-04-01 17:58:33Z"}`, `docker: bad "time" value at byte 20: "\"2019-04-01 17:58:33Z\"}"`)
	f(`{"log":"a\n","time":""}`, `docker: bad "time" value at byte 20: "\"\"}"`)
	// bad escapes
	f(`{"log":"a\x41\n"}`, `docker: bad "log" value at byte 7: json: bad escape "\\x41\\n" in string`)
	f(`{"log":"\0","stream":"stdout","time":"2000-01-01T00:00:00Z"}`, `docker: bad "log" value at byte 7: json: bad escape "\\0" in string`)
	f(`{"log":"\u12"}`, `docker: bad "log" value at byte 7: json: bad escape "\\u12" in string`)
	f(`{"l\og":"a"}`, `docker: bad key at byte 1: json: bad escape "\\og" in string`)
	f(`{"log":"a\n","stream":"std\qut"}`, `docker: bad "stream" value at byte 22: json: bad escape "\\qut" in string`)
}

func TestParse_JoinPartials(t *testing.T) {
	lines := []string{
		`{"log":"one ","stream":"stdout","time":"2019-04-01T17:58:33.1Z"}`,
		`{"log":"two ","stream":"stdout","time":"2019-04-01T17:58:33.2Z"}`,
		`{"log":"three\n","stream":"stdout","time":"2019-04-01T17:58:33.3Z"}`,
	}
	buf := make([]byte, 0, 4)
	var l Line
	var err error
	for _, line := range lines {
		l, buf, err = Parse(buf, []byte(line))
		require.NoError(t, err)
	}
	require.False(t, l.Partial)
	require.Equal(t, "one two three", string(buf))
}

// joinPartials parses lines and joins partial ones with the lines that
// follow, as a tailer would, returning one message per complete line (plus
// a trailing incomplete one).
func joinPartials(t *testing.T, lines [][]byte) []string {
	t.Helper()
	var msgs []string
	var buf []byte
	partial := false
	for i, line := range lines {
		l, b, err := Parse(buf, line)
		require.NoError(t, err, "line %d: %q", i+1, line)
		buf = b
		if !l.Partial {
			msgs = append(msgs, string(buf))
			buf = buf[:0]
		}
		partial = l.Partial
	}
	if partial {
		msgs = append(msgs, string(buf))
	}
	return msgs
}

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

// TestCorpus_FluentBitDockerMode compares the joined partial lines of each
// dockermode*.log with the "log" values of its .out file. Some of the .out
// files also join lines by a firstline regex, which is not this package's
// work; for those the messages must concatenate to the same text.
func TestCorpus_FluentBitDockerMode(t *testing.T) {
	corpusDir := corpus.Lookup(t)
	files, err := filepath.Glob(corpusDir + "/docker/fluent-bit/dockermode*.log")
	require.NoError(t, err)
	require.Len(t, files, 5)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			got := joinPartials(t, readLines(t, file))
			var want []string
			for _, line := range readLines(t, strings.TrimSuffix(file, ".log")+".out") {
				var rec struct{ Log string }
				require.NoError(t, json.Unmarshal(line, &rec))
				want = append(want, strings.TrimSuffix(rec.Log, "\n"))
			}
			if strings.Contains(file, "firstline") || strings.Contains(file, "multiple_lines") {
				require.Less(t, len(want), len(got))
				require.Equal(t, strings.Join(want, "\n"), strings.Join(got, "\n"))
				return
			}
			require.Equal(t, want, got)
		})
	}
}

func TestCorpus_SplittedLineFlags(t *testing.T) {
	corpusDir := corpus.Lookup(t)
	var flags []bool
	for _, line := range readLines(t, corpusDir+"/docker/fluent-bit/dockermode_splitted_line.log") {
		l, _, err := Parse(nil, line)
		require.NoError(t, err)
		require.Equal(t, stream.Unknown, l.Stream)
		require.Zero(t, l.Time)
		require.False(t, Looks(line)) // no "time" nor "stream"
		flags = append(flags, l.Partial)
	}
	require.Equal(t, []bool{true, true, false, true, true, false}, flags)
}

// TestCorpus_Kubernetes checks each line of the fluent-bit kubernetes cases
// against the "log" and "stream" of the record fluent-bit made of it.
func TestCorpus_Kubernetes(t *testing.T) {
	corpusDir := corpus.Lookup(t)
	files, err := filepath.Glob(corpusDir + "/docker/fluent-bit/kubernetes/*.log")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			lines := readLines(t, file)
			for _, line := range lines {
				require.True(t, Looks(line))
				var raw struct{ Log, Stream, Time string }
				require.NoError(t, json.Unmarshal(line, &raw))
				l, dst, err := Parse(nil, line)
				require.NoError(t, err)
				require.Equal(t, strings.TrimSuffix(raw.Log, "\n"), string(l.Msg))
				require.Equal(t, string(dst), string(l.Msg))
				require.Equal(t, raw.Stream, l.Stream.String())
				require.Equal(t, mustTime(t, raw.Time), l.Time)
				require.False(t, l.Partial)
			}
			outData, err := os.ReadFile(strings.TrimSuffix(file, ".log") + ".out")
			if os.IsNotExist(err) {
				return // annotations-parser_multiple-1_container-1 has no .out
			}
			require.NoError(t, err)
			var out []json.RawMessage
			require.NoError(t, json.Unmarshal(outData, &out))
			require.Len(t, out, 2)
			var epoch float64
			require.NoError(t, json.Unmarshal(out[0], &epoch))
			var rec struct{ Log, Stream string }
			require.NoError(t, json.Unmarshal(out[1], &rec))
			l, _, err := Parse(nil, lines[0])
			require.NoError(t, err)
			require.Equal(t, strings.TrimSuffix(rec.Log, "\n"), string(l.Msg))
			require.Equal(t, rec.Stream, l.Stream.String())
			// fluent-bit keeps microseconds
			require.InDelta(t, epoch, float64(l.Time)/1e9, 1e-6)
			require.Less(t, math.Abs(epoch-float64(l.Time)/1e9), 1e-6)
		})
	}
}

func TestCorpus_Corrupted(t *testing.T) {
	corpusDir := corpus.Lookup(t)
	lines := readLines(t, corpusDir+"/docker/beats/docker_corrupted.log")
	require.Len(t, lines, 21)
	prev := int64(0)
	var buf []byte
	for i, line := range lines {
		l, dst, err := Parse(buf[:0], line)
		buf = dst
		if i+1 == 7 {
			require.EqualError(t, err, `docker: not a JSON object at byte 0: "\"log\":\"cp packetbeat.yml /build/packetbe"...`)
			require.False(t, Looks(line))
			continue
		}
		require.NoError(t, err, "line %d", i+1)
		require.True(t, Looks(line))
		require.Equal(t, stream.Stdout, l.Stream)
		require.False(t, l.Partial)
		require.GreaterOrEqual(t, l.Time, prev)
		prev = l.Time
	}
}

func TestCorpus_NotDocker(t *testing.T) {
	corpusDir := corpus.Lookup(t)
	for _, line := range readLines(t, corpusDir+"/docker/lnav/logfile_docker_compose.0") {
		require.False(t, Looks(line), "%q", line)
		_, _, err := Parse(nil, line)
		require.Error(t, err)
	}
	for _, line := range readLines(t, corpusDir+"/cri/fluent-bit/avro_multiline.log-field.cri") {
		require.False(t, Looks(line), "%q", line)
	}
	// JSON application logs: some even have a "log" key, but not a docker line's
	for _, file := range []string{"json/lnav/logfile_ecs_log.json", "json/lnav/logfile_json.json", "json/lnav/logfile_bunyan.0"} {
		for _, line := range readLines(t, corpusDir+"/"+file) {
			require.False(t, Looks(line), "%q", line)
		}
	}
}

func TestParseAllocatesNothing(t *testing.T) {
	line := []byte(`{"log":"{\"level\":\"info\",\"msg\":\"Starting up \\u001B[0;32mservice\\u001B[0m\"}\n","stream":"stdout","attrs":{"tag":"x"},"time":"2019-04-01T17:58:33.598656444Z"}`)
	buf := make([]byte, 0, 1024)
	n := testing.AllocsPerRun(100, func() {
		var err error
		if _, buf, err = Parse(buf[:0], line); err != nil {
			t.Fatal(err)
		}
		if !Looks(line) {
			t.Fatal("Looks is false")
		}
	})
	require.Zero(t, n)
}

func TestLooksEscapedKeysAllocatesNothing(t *testing.T) {
	line := []byte(`{"\u006cog":"a\n","str\u0065am":"std\u006fut","tim\u0065":"2019-04-01T17:58:33.598656444\u005a"}`)
	n := testing.AllocsPerRun(100, func() {
		if !Looks(line) {
			t.Fatal("Looks is false")
		}
	})
	require.Zero(t, n)
}
