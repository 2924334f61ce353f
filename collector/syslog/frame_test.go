package syslog

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// frameOut is one frame as the framer returned it.
type frameOut struct {
	Frame      string
	Truncated  bool
	Incomplete bool
}

// readFrames runs the framer over r to EOF.
func readFrames(t testing.TB, r io.Reader, max int) []frameOut {
	t.Helper()
	fr := newFramer(max)
	var out []frameOut
	for i := 0; ; i++ {
		require.Less(t, i, 10_000_000, "framer makes no progress")
		_, _, err := fr.fill(r)
		for {
			f, trunc, ok := fr.next()
			if !ok {
				break
			}
			require.LessOrEqual(t, len(f), max)
			out = append(out, frameOut{Frame: string(f), Truncated: trunc})
		}
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			if f, inc := fr.rest(); f != nil {
				out = append(out, frameOut{Frame: string(f), Incomplete: inc})
			}
			return out
		}
	}
}

func TestFramer(t *testing.T) {
	f := func(in string, max int, want ...frameOut) {
		t.Helper()
		// Whole, and one byte per read: the result must not depend on
		// how the stream is cut into reads.
		require.Equal(t, want, readFrames(t, strings.NewReader(in), max), "whole %q", in)
		require.Equal(t, want, readFrames(t, iotest.OneByteReader(strings.NewReader(in)), max), "bytewise %q", in)
	}
	fr := func(s string) frameOut { return frameOut{Frame: s} }
	// Newline framing; CRLF; a last line without LF; blank lines and NULs between.
	f("<13>a\n<13>b\r\n\n\x00<13>c", 100, fr("<13>a"), fr("<13>b"), fr("<13>c"))
	// Octet counting, back to back with no separator, and a trailing LF that
	// is part of the count (alloy corpus) or not.
	f("5 <13>a5 <13>b6 <13>c\n7 <13>de\n\n", 100, fr("<13>a"), fr("<13>b"), fr("<13>c"), fr("<13>de"))
	// Both framings on one connection.
	f("<13>nl\n6 <13>oc<13>nl2\n", 100, fr("<13>nl"), fr("<13>oc"), fr("<13>nl2"))
	// An octet-counted message keeps its newlines (the library cuts there).
	f("15 <13>hello\nworld", 100, fr("<13>hello\nworld"))
	// Oversized octet-counted frame: cut at max, flagged, the rest skipped,
	// and the next message intact (the library resets the connection).
	f("20 <13>0123456789abcdef5 <13>x", 10, frameOut{Frame: "<13>012345", Truncated: true}, fr("<13>x"))
	// Oversized newline frame likewise.
	f("<13>0123456789abcdef\n<13>y\n", 10, frameOut{Frame: "<13>012345", Truncated: true}, fr("<13>y"))
	// Exactly max is not cut.
	f("<13>012345\n10 <13>012345", 10, fr("<13>012345"), fr("<13>012345"))
	// Octet count too small (telegraf underflow case): the rest is the next frame.
	f("16 <1>217 <11>1 - - - - - -", 100, fr("<1>217 <11>1 - -"), fr(" - - - -"))
	// Digits not followed by a space are newline framing.
	f("2026-01-01 hi\n123", 100, fr("2026-01-01 hi"), fr("123"))
	// A count longer than nine digits is not a count.
	f("1234567890 x\n", 100, fr("1234567890 x"))
	// Disconnect mid octet-counted frame: what arrived, marked incomplete.
	f("5 <13>a50 <13>cut", 100, fr("<13>a"), frameOut{Frame: "<13>cut", Incomplete: true})
	// Nothing at all.
	f("", 100)
	f("\n\n\r\n", 100)
}

func TestFramerLargeFrameGrowsBuffer(t *testing.T) {
	max := 1 << 20
	msg := "<13>" + strings.Repeat("x", 300<<10)
	in := itoa(len(msg)) + " " + msg + msg + "\n"
	out := readFrames(t, strings.NewReader(in), max)
	require.Equal(t, []frameOut{{Frame: msg}, {Frame: msg}}, out)
}

// A stream without newlines never makes the framer hold more than
// max+header: the first max bytes are one cut message, the rest of the
// endless line is skipped.
func TestFramerBoundedMemory(t *testing.T) {
	max := 1000
	fr := newFramer(max)
	r := io.LimitReader(infiniteZeroFree{}, 10<<20)
	n := 0
	for {
		_, _, err := fr.fill(r)
		for {
			f, trunc, ok := fr.next()
			if !ok {
				break
			}
			require.True(t, trunc)
			require.Len(t, f, max)
			n++
			require.Equal(t, 1, n)
		}
		require.LessOrEqual(t, len(fr.buf), max+octetHeader+1)
		if errors.Is(err, io.EOF) {
			break
		}
	}
	require.Equal(t, 1, n)
}

type infiniteZeroFree struct{}

func (infiniteZeroFree) Read(p []byte) (int, error) {
	copy(p, bytes.Repeat([]byte("a"), len(p)))
	return len(p), nil
}

// A connection's buffer starts at 4 KiB and grows to 64 KiB only while
// reads keep filling it: an idle or trickling sender costs 4 KiB, a busy
// one gets big reads.
func TestFramerBufferFollowsTheSender(t *testing.T) {
	fr := newFramer(64 << 10)
	require.Equal(t, firstBuffer, len(fr.buf))
	var trickle bytes.Buffer
	for range 50 {
		trickle.Reset()
		trickle.WriteString("<13>1 - - - - - - a short message\n")
		_, _, err := fr.fill(&trickle)
		require.NoError(t, err)
		_, _, ok := fr.next()
		require.True(t, ok)
	}
	require.Equal(t, firstBuffer, len(fr.buf), "short reads do not grow it")

	var burst strings.Builder
	for i := range 5000 {
		burst.WriteString("<13>1 - - - - - - burst message " + itoa(i) + "\n")
	}
	r := strings.NewReader(burst.String())
	n := 0
	for {
		_, _, err := fr.fill(r)
		for {
			f, _, ok := fr.next()
			if !ok {
				break
			}
			require.True(t, strings.HasSuffix(string(f), " "+itoa(n)), "frame %d: %q", n, f)
			n++
		}
		if err != nil {
			break
		}
	}
	require.Equal(t, 5000, n)
	require.Equal(t, busyBuffer, len(fr.buf), "full reads grow it to 64 KiB, no further")
}
