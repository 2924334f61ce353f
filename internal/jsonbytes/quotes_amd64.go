//go:build amd64 && !purego

package jsonbytes

import "golang.org/x/sys/cpu"

var haveAVX2 = cpu.X86.HasAVX2

// classify reports whether b is plain (plainLine) and, when it could make
// one, fills q with b's quotes and returns bits true. q must be zero.
func classify(b []byte, q *quoteBits) (plain, bits bool) {
	if !haveAVX2 || len(b) > maxQuoteBits {
		return plainLine(b), false
	}
	if len(b) < 64 {
		// quoteBitsAVX2 reads 64 bytes at least; spaces are neither
		// quotes nor bytes that make a line not plain.
		pad := [64]byte{}
		for i := range pad {
			pad[i] = ' '
		}
		copy(pad[:], b)
		return !quoteBitsAVX2(pad[:], q), true
	}
	return !quoteBitsAVX2(b, q), true
}

// quoteBitsAVX2 sets q's bits for the quotes of b and returns whether b
// holds a byte that makes it not plain: '\\', below 0x20, or 0x80 and up.
// len(b) must be from 64 to maxQuoteBits.
//
//go:noescape
func quoteBitsAVX2(b []byte, q *quoteBits) (special bool)
