package jsonbytes

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAppendString(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got := AppendString([]byte("x"), []byte(in))
		require.Equal(t, "x"+want, string(got), "input %q", in)
		got = AppendStringString([]byte("x"), in)
		require.Equal(t, "x"+want, string(got), "input %q", in)
	}
	f("", `""`)
	f("hello", `"hello"`)
	f("exactly8", `"exactly8"`)
	f("a longer plain ASCII line of text, over 8 bytes", `"a longer plain ASCII line of text, over 8 bytes"`)
	f(`say "hi"`, `"say \"hi\""`)
	f(`C:\path\to`, `"C:\\path\\to"`)
	f("a\nb\rc\td", `"a\nb\rc\td"`)
	f("\x00\x01\x08\x0c\x1b\x1f", `"\u0000\u0001\u0008\u000c\u001b\u001f"`)
	f("\x1b[0;32mgreen\x1b[0m", `"\u001b[0;32mgreen\u001b[0m"`)
	f("D\bDetails", `"D\u0008Details"`)
	f("\x7f<>&'/", "\"\x7f<>&'/\"") // DEL and HTML characters stay
	f("µs ©  \U0001F514 \u263a", `"µs ©  🔔 ☺"`)
	f("line\u2028sep\u2029par", `"line\u2028sep\u2029par"`)
	f("\u2027\u202a", "\"\u2027\u202a\"") // neighbours of U+2028/9
	// invalid UTF-8: each bad byte becomes U+FFFD
	f("\xff", "\"\ufffd\"")
	f("a\xc3(b", "\"a\ufffd(b\"")
	f("\xe2\x80", "\"\ufffd\ufffd\"")                     // truncated U+2028
	f("\xed\xa0\x80", "\"\ufffd\ufffd\ufffd\"")           // UTF-8 encoded surrogate
	f("\xc0\xaf", "\"\ufffd\ufffd\"")                     // overlong '/'
	f("\xf4\x90\x80\x80", "\"\ufffd\ufffd\ufffd\ufffd\"") // above U+10FFFF
	f("ok\xffok\"", "\"ok\ufffdok\\\"\"")
	// a special byte in every position of an 8-byte block
	for i := 0; i < 9; i++ {
		in := strings.Repeat("a", i) + "\"" + strings.Repeat("b", 8-i)
		f(in, `"`+strings.Repeat("a", i)+`\"`+strings.Repeat("b", 8-i)+`"`)
		in = strings.Repeat("a", i) + "\x01" + strings.Repeat("b", 8-i)
		f(in, `"`+strings.Repeat("a", i)+`\u0001`+strings.Repeat("b", 8-i)+`"`)
		in = strings.Repeat("a", i) + "é" + strings.Repeat("b", 8-i)
		f(in, `"`+in+`"`)
	}
}

func TestEscape8AndSpecial8(t *testing.T) {
	// Every byte value in every position, against the table.
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			var b [8]byte
			for i := range b {
				b[i] = 'a'
			}
			b[pos] = byte(c)
			w := uint64(0)
			for i := 7; i >= 0; i-- {
				w = w<<8 | uint64(b[i])
			}
			want := 8
			if c >= 0x80 || !plainASCII[c] {
				want = pos
			}
			require.Equal(t, want, escape8At(w), "byte %#x at %d", c, pos)
			require.Equal(t, firstSpecial(b[:]), special8At(w), "byte %#x at %d", c, pos)
		}
	}
}

// firstSpecial is the index of the first byte of b that does not stand
// for itself in a JSON string, or len(b).
func firstSpecial(b []byte) int {
	for i, c := range b {
		if !stringPlain[c] {
			return i
		}
	}
	return len(b)
}

// special8At is the byte index special8 points at, or 8.
func special8At(w uint64) int {
	if m := special8(w); m != 0 {
		return bits.TrailingZeros64(m) >> 3
	}
	return 8
}

// firstEscaped is the index of the first byte of b that AppendString
// does not copy as it is, or len(b).
func firstEscaped(b []byte) int {
	for i, c := range b {
		if c >= 0x80 || !plainASCII[c] {
			return i
		}
	}
	return len(b)
}

// escape8At is the byte index escape8 points at, or 8.
func escape8At(w uint64) int {
	if m := escape8(w); m != 0 {
		return bits.TrailingZeros64(m) >> 3
	}
	return 8
}

// special8 and escape8 find the first special byte of any word, whatever bytes
// (high ones that might borrow, other special ones) come before and after.
func TestSpecial8AndEscape8FirstByteExact(t *testing.T) {
	interesting := []byte{0, 0x01, 0x1f, 0x20, 0x21, '"', 0x23, '\\', 0x5d, 'a', 0x7f, 0x80, 0x81, 0x9f, 0xa0, 0xa2, 0xdc, 0xff}
	rng := rand.New(rand.NewPCG(1, 2))
	var b [8]byte
	for range 300000 {
		for i := range b {
			if rng.IntN(3) == 0 {
				b[i] = byte(rng.IntN(256))
			} else {
				b[i] = interesting[rng.IntN(len(interesting))]
			}
		}
		w := binary.LittleEndian.Uint64(b[:])
		if got, want := special8At(w), firstSpecial(b[:]); got != want {
			t.Fatalf("% x: special8 points at %d, the first special byte is at %d", b, got, want)
		}
		if got, want := escape8At(w), firstEscaped(b[:]); got != want {
			t.Fatalf("% x: escape8 points at %d, the first byte to escape is at %d", b, got, want)
		}
	}
}

func TestAppendStringAllocatesNothing(t *testing.T) {
	in := []byte("a line with \"quotes\", a tab\t, é, \u2028 and \xff")
	buf := make([]byte, 0, 256)
	n := testing.AllocsPerRun(100, func() {
		buf = AppendString(buf[:0], in)
		buf = AppendStringString(buf, "plain")
	})
	require.Zero(t, n)
}
