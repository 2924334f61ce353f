package syslog

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/corpus"
)

// seedStreams are the corpus streams (when the corpus is there) plus the
// hand-written bad inputs.
func seedStreams(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	dir, ok := corpus.Optional(tb, "syslog")
	for _, glob := range []string{"telegraf/*/input.txt", "alloy/*.txt", "lnav/*"} {
		if !ok {
			break
		}
		paths, err := filepath.Glob(filepath.Join(dir, glob))
		require.NoError(tb, err)
		require.NotEmpty(tb, paths, glob)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			require.NoError(tb, err)
			out = append(out, b)
		}
	}
	for _, s := range []string{
		"<13>", "<13>1", "<13>1 ", "<191>1 - - - - - - x\n", "<13>Feb 29 00:00:00 h a[1]: x",
		"99999999 <13>x", "5 <13>", "\x00\xff\xfe\n\xc3\x28", "<13>Mar  1 20:51:40", "<13>Mar  1 20:51:40 ",
		"<13>1 2026-01-02T03:04:05.123456+23:59 h a p m [a b=\"]\"] x", "<13>2026-01-02T03:04:05+01:00",
	} {
		out = append(out, []byte(s))
	}
	return out
}

// FuzzFrameParse sends a stream through the TCP framing and the parser,
// cut into reads of any size: nothing panics, no frame is longer than the
// limit, every record's extra members and whole document are valid JSON,
// and the result does not depend on how the stream was cut.
func FuzzFrameParse(f *testing.F) {
	for _, s := range seedStreams(f) {
		f.Add(s, uint16(0), "auto")
		f.Add(s, uint16(7), "rfc5424")
		f.Add(s, uint16(1), "rfc3164")
	}
	enc := document.New(nil, func() int64 { return 1 })
	f.Fuzz(func(t *testing.T, in []byte, chunk uint16, format string) {
		// Longer inputs add nothing a few KiB do not (max is 1 KiB) and
		// make each run, and minimising, slow. The whole corpus files run
		// in TestCorpus_*.
		if len(in) > 8<<10 {
			in = in[:8<<10]
		}
		const max = 1024
		run := func(r io.Reader) ([]record.Record, *record.Batch) {
			p := newParser(format)
			src := &record.Source{Input: "f", Path: "fuzz"}
			b := record.NewBatch(src, nil)
			fr := newFramer(max, nil)
			var out outcome
			total := 0
			for i := 0; ; i++ {
				if i > 4*len(in)+10 {
					t.Fatal("no progress")
				}
				_, _, err := fr.fill(r)
				for {
					frame, trunc, ok := fr.next()
					if !ok {
						break
					}
					if len(frame) > max {
						t.Fatalf("frame of %d bytes over max %d", len(frame), max)
					}
					total += len(frame)
					p.add(b, frame, trunc, false, time.Now().UnixNano(), []byte(`"source_ip":"127.0.0.1"`), &out)
				}
				if err != nil {
					if frame, inc := fr.rest(); frame != nil {
						total += len(frame)
						p.add(b, frame, false, inc, 1, nil, &out)
					}
					break
				}
			}
			require.LessOrEqual(t, total, len(in))
			require.Equal(t, int64(len(b.Records)), out.messages)
			return b.Records, b
		}
		whole, wb := run(bytesReader(in, 0))
		defer wb.Discard()
		var doc []byte
		for i := range whole {
			r := &whole[i]
			require.True(t, json.Valid([]byte("{"+string(r.Extra)+"}")), "extra %q", r.Extra)
			doc = enc.Append(doc[:0], wb.Source, r)
			require.True(t, json.Valid(doc), "document %q", doc)
			require.NotZero(t, r.Time)
		}
		cut, cb := run(bytesReader(in, int(chunk%64)))
		defer cb.Discard()
		require.Len(t, cut, len(whole))
		for i := range whole {
			require.Equal(t, string(whole[i].Line), string(cut[i].Line))
			require.Equal(t, whole[i].Flags, cut[i].Flags)
		}
	})
}

func bytesReader(b []byte, chunk int) io.Reader {
	r := io.Reader(&sliceReader{b: b})
	if chunk == 1 {
		return iotest.OneByteReader(r)
	}
	if chunk > 1 {
		return &chunkReader{r: r, n: chunk}
	}
	return r
}

type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// FuzzStamp3164 checks that stamp3164 agrees with time.Parse, which the
// library uses, on the bytes the library would read.
func FuzzStamp3164(f *testing.F) {
	for _, s := range []string{"Mar  1 20:51:40", "Feb 29 00:00:00", "Feb 30 00:00:00", "Dec 31 23:59:59", "2026-01-02T03:04:05+01:00", "2026-02-29T03:04:05+01:00", "2024-02-29T03:04:05-23:59", "Jan 1 00:00:00 x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, withYear := stamp3164(b)
		stampOK := len(b) >= 15 && parses(time.Stamp, b[:15])
		rfcOK := len(b) >= 25 && parses(time.RFC3339, b[:25])
		switch {
		case n == 15:
			require.True(t, stampOK, "%q", b)
			require.False(t, withYear)
		case n == 25:
			require.True(t, rfcOK, "%q", b)
			require.True(t, withYear)
		default:
			require.Zero(t, n)
			require.False(t, stampOK, "%q: time.Parse accepts a stamp we reject", b)
			require.False(t, rfcOK, "%q: time.Parse accepts an RFC 3339 time we reject", b)
		}
	})
}

func parses(layout string, b []byte) bool {
	_, err := time.ParseInLocation(layout, string(b), time.UTC)
	return err == nil
}
