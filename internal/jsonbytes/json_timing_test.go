package jsonbytes

import (
	"bytes"
	stdjson "encoding/json"
	"os"
	"strings"
	"testing"

	jsoniter "github.com/json-iterator/go"

	"github.com/sluicelog/sluice/bench/workload"
	"github.com/sluicelog/sluice/internal/corpus"
)

func mustRead(b *testing.B, path string) []byte {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkAppendString quotes plain ASCII, text with many escapes, CJK
// text, and a syslog message and its structured data.
//
//	go test -run '^$' -bench 'BenchmarkAppendString' -count 6 -benchmem ./internal/jsonbytes | tee appendstring.txt
func BenchmarkAppendString(b *testing.B) {
	for _, c := range []struct{ name, s string }{
		{"ascii", strings.Repeat("GET /api/v1/items?id=42 HTTP/1.1 200 1234 curl/8.0 ", 4)},
		{"escapes", strings.Repeat("\tat \"Foo\".bar(C:\\x\\Foo.java:1)\n", 6)},
		{"cjk", strings.Repeat("日本語のログメッセージです。", 8)},
		// The MSG and the structured data of the syslog workload's messages.
		{"syslog-msg", "GET /api/v1/orders served in 12ms to 10.0.0.7 user=alice conn=3 seq=123456 end"},
		{"syslog-sd", `[req@32473 id="r123456"]`},
	} {
		in := []byte(c.s)
		buf := make([]byte, 0, 4*len(in))
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				buf = AppendString(buf[:0], in)
			}
		})
	}
}

// BenchmarkUnescape undoes the escapes of a docker "log" value that holds
// JSON, and of one without escapes.
//
//	go test -run '^$' -bench 'BenchmarkUnescape' -count 6 -benchmem ./internal/jsonbytes | tee unescape.txt
func BenchmarkUnescape(b *testing.B) {
	for _, c := range []struct{ name, s string }{
		{"json-in-log", `{\"level\":\"info\",\"msg\":\"Starting up \\u001B[0;32mservice\\u001B[0m\",\"ts\":\"2019-04-01T17:58:33Z\"}\n`},
		{"plain", strings.Repeat("GET /api/v1/items?id=42 HTTP/1.1 200 1234 curl/8.0 ", 4) + `\n`},
	} {
		in := []byte(c.s)
		buf := make([]byte, 0, len(in))
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				var err error
				if buf, err = Unescape(buf[:0], in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMembers checks an ECS log line, the bunyan sample (10 lines) and
// a 562 KB JSON document, and runs encoding/json.Valid and a json-iterator
// walk of the top-level keys on the same input for reference.
//
//	go test -run '^$' -bench 'BenchmarkMembers' -count 6 -benchmem ./internal/jsonbytes | tee members.txt
func BenchmarkMembers(b *testing.B) {
	corpusDir := corpus.Lookup(b)
	ecs := mustRead(b, corpusDir+"/json/lnav/logfile_ecs_log.json")
	ecs = ecs[:strings.IndexByte(string(ecs), '\n')]
	bunyan := mustRead(b, corpusDir+"/json/lnav/logfile_bunyan.0")
	twitter := mustRead(b, corpusDir+"/json/sonic/twitterescaped.json")
	// A line of the bench harness's tail workload (bench/workload): twelve
	// keys, more than the scan keeps inline before borrowing scratch space.
	w1Line := []byte(`{"level":"warn","logger":"http.access","file":0,"seq":0,"method":"POST","path":"/api/v2/carts/59033","status":300,"latency_ms":131.49,"trace_id":"7fc3c883e54390b3132fa386175e5502","msg":"request served the quick brown fox jumps over the laz","end":0}`)
	// 1,000 of the workload's JSON messages as its generator writes them:
	// lines that differ in their values and lengths, so that the branches
	// of the scan are not all learnt from one line.
	var mix [][]byte
	gen := workload.NewGen(workload.Default(), 0)
	for line := []byte(nil); len(mix) < 1000; {
		line = gen.Next(line[:0])
		// "<time> <stream> <P|F> <message>\n"; split lines skipped
		f := bytes.SplitN(bytes.TrimSuffix(line, []byte("\n")), []byte(" "), 4)
		if len(f) == 4 && f[2][0] == 'F' && f[3][0] == '{' && !bytes.Contains(f[3], []byte("\n")) {
			mix = append(mix, bytes.Clone(f[3]))
		}
	}
	reserved := func(key []byte) bool {
		switch string(key) {
		case "@timestamp", "stream", "kubernetes":
			return true
		}
		return false
	}
	splitLines := func(data []byte) [][]byte {
		var lines [][]byte
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			lines = append(lines, []byte(l))
		}
		return lines
	}
	for _, c := range []struct {
		name  string
		lines [][]byte
	}{
		{"ecs", [][]byte{ecs}},
		{"bunyan", splitLines(bunyan)},
		{"twitter", [][]byte{twitter}},
		{"workload", [][]byte{w1Line}},
		{"workload-mix", mix},
	} {
		var size int64
		for _, line := range c.lines {
			size += int64(len(line))
		}
		b.Run(c.name+"/sluice", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				for _, line := range c.lines {
					if _, _, ok := Members(line, reserved); !ok {
						b.Fatal("not ok")
					}
				}
			}
		})
		// As agent/document calls it: the reserved keys as a KeySet.
		set := NewKeySet("@timestamp", "stream", "kubernetes")
		b.Run(c.name+"/sluice-keyset", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				for _, line := range c.lines {
					if _, _, ok := MembersReserved(line, set); !ok {
						b.Fatal("not ok")
					}
				}
			}
		})
		b.Run(c.name+"/encoding-json-Valid", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				for _, line := range c.lines {
					if !stdjson.Valid(line) {
						b.Fatal("not valid")
					}
				}
			}
		})
		b.Run(c.name+"/jsoniter-keys", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				for _, line := range c.lines {
					iter := jsoniter.ConfigFastest.BorrowIterator(line)
					iter.ReadMapCB(func(it *jsoniter.Iterator, key string) bool {
						it.Skip()
						return true
					})
					if iter.Error != nil {
						b.Fatal(iter.Error)
					}
					jsoniter.ConfigFastest.ReturnIterator(iter)
				}
			}
		})
	}
}
