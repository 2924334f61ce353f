//go:build amd64 && !purego

package jsonbytes

import "golang.org/x/sys/cpu"

var haveAVX2 = cpu.X86.HasAVX2

// classify reports whether b holds no '\\' and no control byte (clean:
// its strings end at the next quote) and whether it is all ASCII, and,
// when it could make one, fills q with b's quotes and returns bits true.
// Without the bitmap clean and ascii are both plainLine(b). q must be
// zero.
func classify(b []byte, q *quoteBits) (clean, ascii, bits bool) {
	if !haveAVX2 || len(b) > maxQuoteBits {
		plain := plainLine(b)
		return plain, plain, false
	}
	var special, high bool
	if len(b) < 64 {
		// quoteBitsAVX2 reads 64 bytes at least; spaces are neither
		// quotes nor bytes it looks for.
		pad := [64]byte{}
		for i := range pad {
			pad[i] = ' '
		}
		copy(pad[:], b)
		special, high = quoteBitsAVX2(pad[:], q)
	} else {
		special, high = quoteBitsAVX2(b, q)
	}
	return !special, !high, true
}

// quoteBitsAVX2 sets q's bits for the quotes of b and returns whether b
// holds a '\\' or a byte below 0x20 (special), and one of 0x80 and up
// (high). len(b) must be from 64 to maxQuoteBits.
//
//go:noescape
func quoteBitsAVX2(b []byte, q *quoteBits) (special, high bool)

// specialBits sets s's bits for the bytes of b that are '\\' or below
// 0x20. len(b) must be at most maxQuoteBits; s must be zero.
func specialBits(b []byte, s *quoteBits) {
	if len(b) < 64 {
		pad := [64]byte{}
		for i := range pad {
			pad[i] = ' '
		}
		copy(pad[:], b)
		specialBitsAVX2(pad[:], s)
		return
	}
	specialBitsAVX2(b, s)
}

// specialBitsAVX2 is specialBits for len(b) from 64 to maxQuoteBits.
//
//go:noescape
func specialBitsAVX2(b []byte, s *quoteBits)

// walkKeys is walkClean, first tried by walkCompact: it takes lines with
// no space between tokens, values that are strings, numbers without an
// exponent, true, false or null, and at most 16 keys. On anything else it
// stops at the start of that member, and walkFrom goes on from there.
func walkKeys(b []byte, q *quoteBits, spans *[16]uint32) (n, end int) {
	n, end, at, w, m := walkCompact(b, q, spans)
	if end != -2 {
		return n, end
	}
	if at == 1 {
		return walkClean(b, q, spans)
	}
	return walkFrom(b, q, spans, n, at, w, m)
}

// walkCompact is walkClean for compact lines (see walkKeys). When it
// meets anything else it returns end -2 and the state of walkFrom at the
// start of the member it stopped in: the keys before it (n), the index
// after the '{' or ',' before it (at), and the quotes not taken (m in
// word w and the words after).
//
//go:noescape
func walkCompact(b []byte, q *quoteBits, spans *[16]uint32) (n, end, at, w int, m uint64)
