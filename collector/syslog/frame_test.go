package syslog

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/budget"
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
	fr := newFramer(max, nil)
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
	fr := newFramer(max, nil)
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
	fr := newFramer(64<<10, nil)
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

// What a buffer holds beyond its first 4 KiB is charged to the frame
// memory: growth takes it (or is refused), shrinking and release give it
// back, and what the framer had read survives both.
func TestFramerChargesFrameMemory(t *testing.T) {
	mem := budget.New(busyBuffer)
	fr := newFramer(64<<10, mem)
	msg := "<13>1 - - - - - - " + strings.Repeat("m", 20_000)
	r := strings.NewReader(msg)
	for r.Len() > 0 {
		_, _, err := fr.fill(r)
		require.NoError(t, err)
	}
	_, _, ok := fr.next()
	require.False(t, ok, "unfinished")
	require.Equal(t, int64(32<<10-firstBuffer), mem.Used(), "doubled to 32 KiB, charged beyond the first 4")
	require.False(t, fr.canShrink(), "it holds more than 4 KiB")

	// Another framer cannot grow now: a full buffer says errNoRoom, and
	// waits until its context ends.
	other := newFramer(64<<10, mem)
	require.True(t, mem.TryAcquire(mem.Limit()-mem.Used()))
	n, _, err := other.fill(strings.NewReader(strings.Repeat("o", 2*firstBuffer)))
	require.NoError(t, err)
	require.Equal(t, firstBuffer, n)
	_, _, err = other.fill(strings.NewReader("o"))
	require.ErrorIs(t, err, errNoRoom)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, other.waitRoom(ctx), context.DeadlineExceeded)
	mem.Release(mem.Limit() - int64(32<<10-firstBuffer))

	_, _, err = fr.fill(strings.NewReader("\n"))
	require.NoError(t, err)
	f, _, ok := fr.next()
	require.True(t, ok)
	require.Equal(t, msg, string(f))
	require.True(t, fr.canShrink())
	fr.shrink()
	require.Len(t, fr.buf, firstBuffer)
	require.Zero(t, mem.Used())

	require.NoError(t, other.waitRoom(context.Background()))
	require.Equal(t, int64(firstBuffer), mem.Used())
	other.release()
	require.Zero(t, mem.Used())
	rest, _ := other.rest()
	require.Equal(t, strings.Repeat("o", firstBuffer), string(rest), "release keeps what was read")
}
